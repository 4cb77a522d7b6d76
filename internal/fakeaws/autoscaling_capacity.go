package fakeaws

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// Distribution is a mixed instances policy's InstancesDistribution.
type Distribution struct {
	OnDemandAllocationStrategy          string
	OnDemandBaseCapacity                int
	OnDemandPercentageAboveBaseCapacity int
	SpotAllocationStrategy              string
}

// Activity is one scaling activity of a fake group.
type Activity struct {
	ID            string
	Description   string
	Cause         string
	StatusCode    string // Successful, Failed, InProgress, ...
	StatusMessage string
	Start         time.Time
}

// inProgress reports an activity that has not ended: every StatusCode but
// the API's three final ScalingActivityStatusCode values.
func (a Activity) inProgress() bool {
	switch astypes.ScalingActivityStatusCode(a.StatusCode) {
	case astypes.ScalingActivityStatusCodeSuccessful, astypes.ScalingActivityStatusCodeFailed, astypes.ScalingActivityStatusCodeCancelled:
		return false
	}
	return true
}

// Refresh is one instance refresh of a fake group.
type Refresh struct {
	ID     string
	Status string // Pending, InProgress, Successful, Failed, Cancelled, ...
	Start  time.Time
	// Preferences are the Preferences.* parameters StartInstanceRefresh got.
	Preferences map[string]string
}

// active reports the statuses during which StartInstanceRefresh is refused.
func (r Refresh) active() bool {
	switch r.Status {
	case "Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking":
		return true
	}
	return false
}

// AddActivity appends a scaling activity to a group (a launch happening
// while a handler runs).
func (a *AutoScaling) AddActivity(asg string, act Activity) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if g, ok := a.groups[asg]; ok {
		g.Activities = append(g.Activities, act)
	}
}

// SetRefreshStatus changes the status of a group's instance refresh.
func (a *AutoScaling) SetRefreshStatus(asg, id, status string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if g, ok := a.groups[asg]; ok {
		for i := range g.Refreshes {
			if g.Refreshes[i].ID == id {
				g.Refreshes[i].Status = status
			}
		}
	}
}

// SetInstances replaces a group's instances (launches and terminations).
func (a *AutoScaling) SetInstances(asg string, ins []Instance) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if g, ok := a.groups[asg]; ok {
		g.Instances = append([]Instance(nil), ins...)
	}
}

// SetClock sets the time StartInstanceRefresh records as a refresh's start.
func (a *AutoScaling) SetClock(now func() time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.clock = now
}

func (a *AutoScaling) now() time.Time {
	if a.clock != nil {
		return a.clock()
	}
	return time.Now()
}

// tagResourceIDs lists the ResourceId of each tag of a CreateOrUpdateTags call.
func tagResourceIDs(c Call) []string {
	var ids []string
	for i := 1; ; i++ {
		id := c.Params.Get(fmt.Sprintf("Tags.member.%d.ResourceId", i))
		if id == "" {
			return ids
		}
		ids = append(ids, id)
	}
}

type xmlDistribution struct {
	OnDemandAllocationStrategy          string `xml:"OnDemandAllocationStrategy,omitempty"`
	OnDemandBaseCapacity                int    `xml:"OnDemandBaseCapacity"`
	OnDemandPercentageAboveBaseCapacity int    `xml:"OnDemandPercentageAboveBaseCapacity"`
	SpotAllocationStrategy              string `xml:"SpotAllocationStrategy,omitempty"`
}

type xmlMixed struct {
	Distribution xmlDistribution `xml:"InstancesDistribution"`
}

func xmlMixedOf(d *Distribution) *xmlMixed {
	if d == nil {
		return nil
	}
	return &xmlMixed{Distribution: xmlDistribution(*d)}
}

type xmlActivity struct {
	ActivityID    string `xml:"ActivityId"`
	Group         string `xml:"AutoScalingGroupName"`
	Description   string `xml:"Description"`
	Cause         string `xml:"Cause"`
	StartTime     string `xml:"StartTime"`
	StatusCode    string `xml:"StatusCode"`
	StatusMessage string `xml:"StatusMessage,omitempty"`
	Progress      int    `xml:"Progress"`
}

type xmlActivitiesResult struct {
	Activities []xmlActivity `xml:"Activities>member"`
	NextToken  string        `xml:"NextToken,omitempty"`
}

// describeActivities lists the group's activities as the API reference of
// DescribeScalingActivities orders them: "Activities are sorted by start
// time. Activities still in progress are described first." (each part newest
// first), MaxRecords (default and at most 100) a page.
func (a *AutoScaling) describeActivities(w http.ResponseWriter, call Call) {
	g, ok := a.groups[call.Params.Get("AutoScalingGroupName")]
	if !ok {
		writeQueryResult(w, call.Action, autoscalingXMLNS, xmlActivitiesResult{})
		return
	}
	acts := append([]Activity(nil), g.Activities...)
	sort.SliceStable(acts, func(i, j int) bool {
		if pi, pj := acts[i].inProgress(), acts[j].inProgress(); pi != pj {
			return pi
		}
		return acts[i].Start.After(acts[j].Start)
	})
	limit := 100
	if v := call.Params.Get("MaxRecords"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeQueryError(w, http.StatusBadRequest, "ValidationError", "MaxRecords must be 1 to 100")
			return
		}
		limit = n
	}
	start := 0
	if tok := call.Params.Get("NextToken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(acts) {
			writeQueryError(w, http.StatusBadRequest, "InvalidNextToken", "bad token")
			return
		}
		start = n
	}
	end := min(start+limit, len(acts))
	var res xmlActivitiesResult
	for _, act := range acts[start:end] {
		res.Activities = append(res.Activities, xmlActivity{ActivityID: act.ID, Group: g.Name, Description: act.Description,
			Cause: act.Cause, StartTime: act.Start.UTC().Format(time.RFC3339), StatusCode: act.StatusCode,
			StatusMessage: act.StatusMessage, Progress: 100})
	}
	if end < len(acts) {
		res.NextToken = strconv.Itoa(end)
	}
	writeQueryResult(w, call.Action, autoscalingXMLNS, res)
}

// updateGroup applies the instances distribution fields sent (the real API
// leaves unspecified properties unchanged) and MinSize/MaxSize.
func (a *AutoScaling) updateGroup(w http.ResponseWriter, call Call) {
	g, ok := a.groups[call.Params.Get("AutoScalingGroupName")]
	if !ok {
		writeQueryError(w, http.StatusBadRequest, "ValidationError", "AutoScalingGroup name not found")
		return
	}
	const prefix = "MixedInstancesPolicy.InstancesDistribution."
	intParam := func(name string, dst *int) bool {
		v := call.Params.Get(name)
		if v == "" {
			return true
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeQueryError(w, http.StatusBadRequest, "ValidationError", name+" must be a whole number >= 0")
			return false
		}
		*dst = n
		return true
	}
	if has(call, prefix) {
		if g.Distribution == nil {
			writeQueryError(w, http.StatusBadRequest, "ValidationError", "the fake group has no mixed instances policy to update")
			return
		}
		d := *g.Distribution
		if !intParam(prefix+"OnDemandBaseCapacity", &d.OnDemandBaseCapacity) ||
			!intParam(prefix+"OnDemandPercentageAboveBaseCapacity", &d.OnDemandPercentageAboveBaseCapacity) {
			return
		}
		if v := call.Params.Get(prefix + "SpotAllocationStrategy"); v != "" {
			d.SpotAllocationStrategy = v
		}
		if v := call.Params.Get(prefix + "OnDemandAllocationStrategy"); v != "" {
			d.OnDemandAllocationStrategy = v
		}
		if d.OnDemandPercentageAboveBaseCapacity > 100 {
			writeQueryError(w, http.StatusBadRequest, "ValidationError", "OnDemandPercentageAboveBaseCapacity must be 0 to 100")
			return
		}
		g.Distribution = &d
	}
	if !intParam("MinSize", &g.Min) || !intParam("MaxSize", &g.Max) {
		return
	}
	writeQueryResult(w, call.Action, autoscalingXMLNS, nil)
}

func has(call Call, prefix string) bool {
	for k := range call.Params {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

func (a *AutoScaling) createOrUpdateTags(w http.ResponseWriter, call Call) {
	for i := 1; ; i++ {
		p := fmt.Sprintf("Tags.member.%d.", i)
		id := call.Params.Get(p + "ResourceId")
		if id == "" {
			break
		}
		if call.Params.Get(p+"ResourceType") != "auto-scaling-group" {
			writeQueryError(w, http.StatusBadRequest, "ValidationError", "ResourceType must be auto-scaling-group")
			return
		}
		g, ok := a.groups[id]
		if !ok {
			writeQueryError(w, http.StatusBadRequest, "ValidationError", "AutoScalingGroup name not found - "+id)
			return
		}
		if g.Tags == nil {
			g.Tags = map[string]string{}
		}
		g.Tags[call.Params.Get(p+"Key")] = call.Params.Get(p + "Value")
	}
	writeQueryResult(w, call.Action, autoscalingXMLNS, nil)
}

type xmlStartRefreshResult struct {
	ID string `xml:"InstanceRefreshId"`
}

func (a *AutoScaling) startRefresh(w http.ResponseWriter, call Call) {
	g, ok := a.groups[call.Params.Get("AutoScalingGroupName")]
	if !ok {
		writeQueryError(w, http.StatusBadRequest, "ValidationError", "AutoScalingGroup name not found")
		return
	}
	for _, r := range g.Refreshes {
		if r.active() {
			writeQueryError(w, http.StatusBadRequest, "InstanceRefreshInProgress",
				"An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")
			return
		}
	}
	prefs := map[string]string{}
	for k, v := range call.Params {
		if len(k) > len("Preferences.") && k[:len("Preferences.")] == "Preferences." && len(v) > 0 {
			prefs[k[len("Preferences."):]] = v[0]
		}
	}
	r := Refresh{ID: fmt.Sprintf("refresh-%d", len(g.Refreshes)+1), Status: "Pending", Start: a.now(), Preferences: prefs}
	g.Refreshes = append(g.Refreshes, r)
	writeQueryResult(w, call.Action, autoscalingXMLNS, xmlStartRefreshResult{ID: r.ID})
}

type xmlRefresh struct {
	ID        string `xml:"InstanceRefreshId"`
	Group     string `xml:"AutoScalingGroupName"`
	Status    string `xml:"Status"`
	StartTime string `xml:"StartTime"`
}

type xmlRefreshesResult struct {
	Refreshes []xmlRefresh `xml:"InstanceRefreshes>member"`
}

// describeRefreshes lists the group's refreshes newest first.
func (a *AutoScaling) describeRefreshes(w http.ResponseWriter, call Call) {
	var res xmlRefreshesResult
	if g, ok := a.groups[call.Params.Get("AutoScalingGroupName")]; ok {
		for i := len(g.Refreshes) - 1; i >= 0; i-- {
			r := g.Refreshes[i]
			res.Refreshes = append(res.Refreshes, xmlRefresh{ID: r.ID, Group: g.Name, Status: r.Status, StartTime: r.Start.UTC().Format(time.RFC3339)})
		}
	}
	writeQueryResult(w, call.Action, autoscalingXMLNS, res)
}
