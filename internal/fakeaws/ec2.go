package fakeaws

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const ec2XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"

// EC2Instance is an instance the fake EC2 knows.
type EC2Instance struct {
	ID      string
	ImageID string
	// Lifecycle is "spot" for a Spot Instance and "" for On-Demand, as EC2's
	// instanceLifecycle (absent for On-Demand).
	Lifecycle string
}

// EC2 fakes the EC2 query API's DescribeInstances (by InstanceId.N).
type EC2 struct {
	Server *httptest.Server

	mu        sync.Mutex
	instances map[string]EC2Instance
	calls     []Call
	fail      string
}

// NewEC2 starts the fake with the given instances.
func NewEC2(t testing.TB, instances ...EC2Instance) *EC2 {
	e := &EC2{instances: map[string]EC2Instance{}}
	for _, in := range instances {
		e.instances[in.ID] = in
	}
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.Server.Close)
	return e
}

// Put adds or replaces an instance (a launch).
func (e *EC2) Put(in EC2Instance) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.instances[in.ID] = in
}

// Fail makes every call fail with code.
func (e *EC2) Fail(code string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fail = code
}

// Calls returns every request received.
func (e *EC2) Calls() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Call(nil), e.calls...)
}

type ec2Item struct {
	InstanceID string `xml:"instanceId"`
	ImageID    string `xml:"imageId"`
	State      struct {
		Code int    `xml:"code"`
		Name string `xml:"name"`
	} `xml:"instanceState"`
	Lifecycle string `xml:"instanceLifecycle,omitempty"`
}

type ec2Reservation struct {
	ID        string    `xml:"reservationId"`
	Instances []ec2Item `xml:"instancesSet>item"`
}

type ec2DescribeResponse struct {
	XMLName      xml.Name         `xml:"DescribeInstancesResponse"`
	XMLNS        string           `xml:"xmlns,attr"`
	RequestID    string           `xml:"requestId"`
	Reservations []ec2Reservation `xml:"reservationSet>item"`
}

func (e *EC2) serve(w http.ResponseWriter, r *http.Request) {
	call, err := parseQuery(r)
	if err != nil {
		writeEC2Error(w, "InvalidRequest", err.Error())
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, call)
	if e.fail != "" {
		writeEC2Error(w, e.fail, "injected failure")
		return
	}
	if call.Action != "DescribeInstances" {
		writeEC2Error(w, "InvalidAction", "fake does not implement "+call.Action)
		return
	}
	var ids []string
	for k, v := range call.Params {
		if rest, ok := strings.CutPrefix(k, "InstanceId."); ok && len(v) > 0 {
			if _, err := strconv.Atoi(rest); err == nil {
				ids = append(ids, v[0])
			}
		}
	}
	sort.Strings(ids)
	res := ec2DescribeResponse{XMLNS: ec2XMLNS, RequestID: "fake-request"}
	for i, id := range ids {
		in, ok := e.instances[id]
		if !ok {
			// EC2 fails the whole call when one id is unknown.
			writeEC2Error(w, "InvalidInstanceID.NotFound", fmt.Sprintf("The instance ID '%s' does not exist", id))
			return
		}
		item := ec2Item{InstanceID: in.ID, ImageID: in.ImageID, Lifecycle: in.Lifecycle}
		item.State.Code, item.State.Name = 16, "running"
		res.Reservations = append(res.Reservations, ec2Reservation{ID: fmt.Sprintf("r-%d", i), Instances: []ec2Item{item}})
	}
	body, _ := xml.Marshal(res)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func writeEC2Error(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(http.StatusBadRequest)
	var m strings.Builder
	_ = xml.EscapeText(&m, []byte(msg))
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>`+code+`</Code><Message>`+m.String()+`</Message></Error></Errors><RequestID>fake-request</RequestID></Response>`)
}
