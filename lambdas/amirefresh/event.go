package amirefresh

import (
	"encoding/json"
	"fmt"
)

// trigger is what an invocation asks for: the fleets of one changed
// parameter, or (schedule) every fleet.
type trigger struct {
	Parameter string // "" on the schedule
	Skip      string // why the event needs nothing, or ""
}

// parseEvent reads an EventBridge event. A parameter change arrives as
// (Systems Manager User Guide, EventBridge event examples):
//
//	{"source": "aws.ssm", "detail-type": "Parameter Store Change",
//	 "detail": {"operation": "Update", "name": "/bp/ami/fleets/staging/gpu-default", "type": "String"}}
//
// with "operation" one of Create, Update, Delete, LabelParameterVersion, and
// an "exception" in detail when the put failed (e.g. a data type aws:ec2:image
// value that is not an AMI). The schedule sends "detail-type": "Scheduled Event".
func parseEvent(raw json.RawMessage) (trigger, error) {
	var ev struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
		Detail     struct {
			Name      string `json:"name"`
			Operation string `json:"operation"`
			Exception string `json:"exception"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return trigger{}, fmt.Errorf("event is not an EventBridge event: %w", err)
	}
	switch {
	case ev.Source == "aws.events" && ev.DetailType == "Scheduled Event":
		return trigger{}, nil
	case ev.Source != "aws.ssm" || ev.DetailType != "Parameter Store Change":
		return trigger{}, fmt.Errorf("unexpected event %q from %q", ev.DetailType, ev.Source)
	case ev.Detail.Exception != "":
		return trigger{Parameter: ev.Detail.Name, Skip: "the parameter was not written: " + ev.Detail.Exception}, nil
	case ev.Detail.Operation != "Create" && ev.Detail.Operation != "Update":
		return trigger{Parameter: ev.Detail.Name, Skip: "operation " + ev.Detail.Operation + " publishes no image"}, nil
	}
	return trigger{Parameter: ev.Detail.Name}, nil
}
