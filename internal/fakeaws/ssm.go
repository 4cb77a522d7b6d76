package fakeaws

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// SSM fakes Parameter Store's GetParameter over the JSON 1.1 protocol.
type SSM struct {
	Server *httptest.Server

	mu     sync.Mutex
	params map[string]string
	reads  []string
}

// NewSSM starts the fake with String parameters name -> value.
func NewSSM(t testing.TB, params map[string]string) *SSM {
	s := &SSM{params: map[string]string{}}
	for k, v := range params {
		s.params[k] = v
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Server.Close)
	return s
}

// Put sets a parameter (the AMI pipeline publishing a new image).
func (s *SSM) Put(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.params[name] = value
}

// Reads lists the parameter names read.
func (s *SSM) Reads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reads...)
}

func (s *SSM) serve(w http.ResponseWriter, r *http.Request) {
	writeErr := func(typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	}
	if target := r.Header.Get("X-Amz-Target"); target != "AmazonSSM.GetParameter" {
		writeErr("UnknownOperationException", "fake does not implement "+target)
		return
	}
	if r.Header.Get("Authorization") == "" {
		writeErr("MissingAuthenticationTokenException", "request is not signed")
		return
	}
	var in struct{ Name string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeErr("SerializationException", err.Error())
		return
	}
	s.mu.Lock()
	s.reads = append(s.reads, in.Name)
	v, ok := s.params[in.Name]
	s.mu.Unlock()
	if !ok {
		writeErr("ParameterNotFound", "")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{
		"Name": in.Name, "Type": "String", "Value": v, "Version": 1, "DataType": "aws:ec2:image",
		"ARN": "arn:aws:ssm:us-east-1:123456789012:parameter" + in.Name, "LastModifiedDate": 1.7e9,
	}})
}
