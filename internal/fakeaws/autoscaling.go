package fakeaws

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const autoscalingXMLNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"

// Instance is an instance of a fake Auto Scaling group.
type Instance struct {
	ID             string
	LifecycleState string // InService, Pending, Terminating, ...
	Protected      bool
}

// Group is a fake Auto Scaling group.
type Group struct {
	Name      string
	Min, Max  int
	Desired   int
	Tags      map[string]string
	Instances []Instance
	// Distribution is the mixed instances policy's instances distribution
	// (nil: the group has none); Activities and Refreshes are its scaling
	// activities and instance refreshes (autoscaling_capacity.go).
	Distribution *Distribution
	Activities   []Activity
	Refreshes    []Refresh
}

// AutoScaling fakes the Auto Scaling query API for the Lambdas and the
// worker: DescribeAutoScalingGroups and SetDesiredCapacity,
// (autoscaling_protection.go) SetInstanceProtection, and
// (autoscaling_capacity.go) DescribeScalingActivities, UpdateAutoScalingGroup,
// CreateOrUpdateTags, StartInstanceRefresh and DescribeInstanceRefreshes.
type AutoScaling struct {
	Server *httptest.Server

	mu     sync.Mutex
	groups map[string]*Group
	calls  []Call
	fail   map[string]string // "Action" or "Action/AsgName" -> error code
	clock  func() time.Time  // StartTime of refreshes started; nil: time.Now
}

// NewAutoScaling starts the fake with the given groups.
func NewAutoScaling(t testing.TB, groups ...Group) *AutoScaling {
	a := &AutoScaling{groups: map[string]*Group{}, fail: map[string]string{}}
	for _, g := range groups {
		c := g.clone()
		a.groups[g.Name] = &c
	}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Server.Close)
	return a
}

// Fail makes action fail with code; key is "Action" or "Action/AsgName".
func (a *AutoScaling) Fail(key, code string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fail[key] = code
}

// Group returns a copy of the named group's current state.
func (a *AutoScaling) Group(name string) (Group, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g, ok := a.groups[name]
	if !ok {
		return Group{}, false
	}
	return g.clone(), true
}

// clone copies g with nothing shared: the fake and its callers never see
// each other's later changes.
func (g Group) clone() Group {
	g.Instances = append([]Instance(nil), g.Instances...)
	g.Tags = maps.Clone(g.Tags)
	if g.Distribution != nil {
		d := *g.Distribution
		g.Distribution = &d
	}
	g.Activities = append([]Activity(nil), g.Activities...)
	g.Refreshes = append([]Refresh(nil), g.Refreshes...)
	return g
}

// Calls returns every request received.
func (a *AutoScaling) Calls() []Call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Call(nil), a.calls...)
}

// MutatingCallsFor lists the calls on asg other than Describe* (reads); a
// CreateOrUpdateTags counts when one of its tags names asg.
func (a *AutoScaling) MutatingCallsFor(asg string) []Call {
	var out []Call
	for _, c := range a.Calls() {
		if strings.HasPrefix(c.Action, "Describe") {
			continue
		}
		if c.Params.Get("AutoScalingGroupName") == asg || slices.Contains(tagResourceIDs(c), asg) {
			out = append(out, c)
		}
	}
	return out
}

// CallsNamed lists the calls of one action.
func (a *AutoScaling) CallsNamed(action string) []Call {
	var out []Call
	for _, c := range a.Calls() {
		if c.Action == action {
			out = append(out, c)
		}
	}
	return out
}

func (a *AutoScaling) serve(w http.ResponseWriter, r *http.Request) {
	call, err := parseQuery(r)
	if err != nil {
		writeQueryError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	if v := call.Params.Get("Version"); v != "2011-01-01" {
		writeQueryError(w, http.StatusBadRequest, "InvalidAction", "the Auto Scaling API version is 2011-01-01, got "+v)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, call)
	asg := call.Params.Get("AutoScalingGroupName")
	for _, key := range []string{call.Action, call.Action + "/" + asg} {
		if code, ok := a.fail[key]; ok {
			writeQueryError(w, http.StatusBadRequest, code, "injected failure for "+key)
			return
		}
	}
	switch call.Action {
	case "DescribeAutoScalingGroups":
		a.describe(w, call)
	case "SetDesiredCapacity":
		a.setDesired(w, call)
	case "SetInstanceProtection":
		a.setProtection(w, call)
	case "DescribeScalingActivities":
		a.describeActivities(w, call)
	case "UpdateAutoScalingGroup":
		a.updateGroup(w, call)
	case "CreateOrUpdateTags":
		a.createOrUpdateTags(w, call)
	case "StartInstanceRefresh":
		a.startRefresh(w, call)
	case "DescribeInstanceRefreshes":
		a.describeRefreshes(w, call)
	default:
		writeQueryError(w, http.StatusBadRequest, "InvalidAction", "fake does not implement "+call.Action)
	}
}

type xmlTag struct {
	Key               string `xml:"Key"`
	Value             string `xml:"Value"`
	ResourceID        string `xml:"ResourceId"`
	ResourceType      string `xml:"ResourceType"`
	PropagateAtLaunch bool   `xml:"PropagateAtLaunch"`
}

type xmlInstance struct {
	InstanceID           string `xml:"InstanceId"`
	LifecycleState       string `xml:"LifecycleState"`
	HealthStatus         string `xml:"HealthStatus"`
	AvailabilityZone     string `xml:"AvailabilityZone"`
	ProtectedFromScaleIn bool   `xml:"ProtectedFromScaleIn"`
}

type xmlGroup struct {
	Name      string        `xml:"AutoScalingGroupName"`
	MinSize   int           `xml:"MinSize"`
	MaxSize   int           `xml:"MaxSize"`
	Desired   int           `xml:"DesiredCapacity"`
	Instances []xmlInstance `xml:"Instances>member"`
	Tags      []xmlTag      `xml:"Tags>member"`
	Mixed     *xmlMixed     `xml:"MixedInstancesPolicy,omitempty"`
}

type xmlDescribeResult struct {
	Groups []xmlGroup `xml:"AutoScalingGroups>member"`
}

func (a *AutoScaling) describe(w http.ResponseWriter, call Call) {
	names := members(call.Params, "AutoScalingGroupNames")
	if len(names) == 0 {
		for n := range a.groups {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	var res xmlDescribeResult
	for _, n := range names {
		g, ok := a.groups[n]
		if !ok {
			continue // the real API omits unknown names
		}
		xg := xmlGroup{Name: g.Name, MinSize: g.Min, MaxSize: g.Max, Desired: g.Desired, Mixed: xmlMixedOf(g.Distribution)}
		keys := make([]string, 0, len(g.Tags))
		for k := range g.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			xg.Tags = append(xg.Tags, xmlTag{Key: k, Value: g.Tags[k], ResourceID: g.Name, ResourceType: "auto-scaling-group", PropagateAtLaunch: true})
		}
		for _, in := range g.Instances {
			xg.Instances = append(xg.Instances, xmlInstance{InstanceID: in.ID, LifecycleState: in.LifecycleState,
				HealthStatus: "Healthy", AvailabilityZone: "us-east-1a", ProtectedFromScaleIn: in.Protected})
		}
		res.Groups = append(res.Groups, xg)
	}
	writeQueryResult(w, call.Action, autoscalingXMLNS, res)
}

func (a *AutoScaling) setDesired(w http.ResponseWriter, call Call) {
	g, ok := a.groups[call.Params.Get("AutoScalingGroupName")]
	if !ok {
		writeQueryError(w, http.StatusBadRequest, "ValidationError", "AutoScalingGroup name not found")
		return
	}
	n, err := strconv.Atoi(call.Params.Get("DesiredCapacity"))
	if err != nil || n < g.Min || n > g.Max {
		writeQueryError(w, http.StatusBadRequest, "ValidationError",
			fmt.Sprintf("New SetDesiredCapacity value %s is outside min %d / max %d", call.Params.Get("DesiredCapacity"), g.Min, g.Max))
		return
	}
	g.Desired = n
	writeQueryResult(w, call.Action, autoscalingXMLNS, nil)
}
