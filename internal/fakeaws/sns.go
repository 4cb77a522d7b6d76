package fakeaws

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Published is one message the fake SNS received.
type Published struct {
	TopicArn string
	Subject  string
	Message  string
}

// SNS fakes the SNS query API's Publish.
type SNS struct {
	Server *httptest.Server

	mu        sync.Mutex
	published []Published
	failCode  string
}

// NewSNS starts the fake.
func NewSNS(t testing.TB) *SNS {
	s := &SNS{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Server.Close)
	return s
}

// Fail makes every Publish fail with code.
func (s *SNS) Fail(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCode = code
}

// Published returns every message received.
func (s *SNS) Published() []Published {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Published(nil), s.published...)
}

type xmlPublishResult struct {
	MessageID string `xml:"MessageId"`
}

func (s *SNS) serve(w http.ResponseWriter, r *http.Request) {
	call, err := parseQuery(r)
	if err != nil {
		writeQueryError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	if call.Action != "Publish" {
		writeQueryError(w, http.StatusBadRequest, "InvalidAction", "fake does not implement "+call.Action)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failCode != "" {
		writeQueryError(w, http.StatusForbidden, s.failCode, "injected publish failure")
		return
	}
	s.published = append(s.published, Published{
		TopicArn: call.Params.Get("TopicArn"),
		Subject:  call.Params.Get("Subject"),
		Message:  call.Params.Get("Message"),
	})
	writeQueryResult(w, "Publish", "http://sns.amazonaws.com/doc/2010-03-31/",
		xmlPublishResult{MessageID: fmt.Sprintf("msg-%d", len(s.published))})
}
