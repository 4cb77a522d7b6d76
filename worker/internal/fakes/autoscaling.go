package fakes

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
)

// ProtectionCall is one SetInstanceProtection request.
type ProtectionCall struct {
	Group     string
	Instance  string
	Protected bool
}

// AutoScaling fakes the Auto Scaling query API (form-encoded POST, XML reply)
// for SetInstanceProtection and records the protection of each instance.
type AutoScaling struct {
	Server *httptest.Server
	// Fail, if set, makes the n-th call (1-based) answer a throttling error.
	Fail func(n int) bool

	mu        sync.Mutex
	calls     []ProtectionCall
	protected map[string]bool
}

// NewAutoScaling starts the fake.
func NewAutoScaling() *AutoScaling {
	a := &AutoScaling{protected: map[string]bool{}}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	return a
}

// Close stops the server.
func (a *AutoScaling) Close() { a.Server.Close() }

// Calls returns the SetInstanceProtection calls so far.
func (a *AutoScaling) Calls() []ProtectionCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]ProtectionCall(nil), a.calls...)
}

// Protected reports the current protection of an instance.
func (a *AutoScaling) Protected(instance string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.protected[instance]
}

// SetProtected sets an instance's state directly (e.g. left on by a crash).
func (a *AutoScaling) SetProtected(instance string, p bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.protected[instance] = p
}

const asgNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"

func (a *AutoScaling) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		a.xmlError(w, http.StatusBadRequest, "MalformedQueryString", "expected a form-encoded POST")
		return
	}
	if r.PostForm.Get("Action") != "SetInstanceProtection" || r.PostForm.Get("Version") != "2011-01-01" {
		a.xmlError(w, http.StatusBadRequest, "InvalidAction", "only SetInstanceProtection is faked, got "+r.PostForm.Get("Action"))
		return
	}
	call := ProtectionCall{Group: r.PostForm.Get("AutoScalingGroupName"), Instance: r.PostForm.Get("InstanceIds.member.1"),
		Protected: r.PostForm.Get("ProtectedFromScaleIn") == "true"}
	a.mu.Lock()
	a.calls = append(a.calls, call)
	n := len(a.calls)
	fail := a.Fail != nil && a.Fail(n)
	if !fail {
		a.protected[call.Instance] = call.Protected
	}
	a.mu.Unlock()
	if fail {
		a.xmlError(w, http.StatusBadRequest, "Throttling", "Rate exceeded")
		return
	}
	if call.Group == "" || call.Instance == "" {
		a.xmlError(w, http.StatusBadRequest, "ValidationError", "group and instance are required")
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<SetInstanceProtectionResponse xmlns="%s"><SetInstanceProtectionResult/><ResponseMetadata><RequestId>req-%d</RequestId></ResponseMetadata></SetInstanceProtectionResponse>`, asgNS, n)
}

func (a *AutoScaling) xmlError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>err</RequestId></ErrorResponse>`, asgNS, code, msg)
}
