package fakeaws

import (
	"fmt"
	"net/http"
)

// ProtectionCall is one SetInstanceProtection request, as the worker's
// tests read them.
type ProtectionCall struct {
	Group     string
	Instances []string
	Protected bool
}

// ProtectionCalls lists the SetInstanceProtection requests received, failed
// ones included.
func (a *AutoScaling) ProtectionCalls() []ProtectionCall {
	var out []ProtectionCall
	for _, c := range a.CallsNamed("SetInstanceProtection") {
		out = append(out, ProtectionCall{
			Group:     c.Params.Get("AutoScalingGroupName"),
			Instances: members(c.Params, "InstanceIds"),
			Protected: c.Params.Get("ProtectedFromScaleIn") == "true",
		})
	}
	return out
}

// Protected reports whether instance is protected from scale-in in any
// group (false for an instance no group holds).
func (a *AutoScaling) Protected(instance string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, g := range a.groups {
		for _, in := range g.Instances {
			if in.ID == instance {
				return in.Protected
			}
		}
	}
	return false
}

func (a *AutoScaling) setProtection(w http.ResponseWriter, call Call) {
	g, ok := a.groups[call.Params.Get("AutoScalingGroupName")]
	if !ok {
		writeQueryError(w, http.StatusBadRequest, "ValidationError", "AutoScalingGroup name not found")
		return
	}
	ids := members(call.Params, "InstanceIds")
	if len(ids) == 0 || len(ids) > 50 {
		writeQueryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("InstanceIds must hold 1 to 50 ids, got %d", len(ids)))
		return
	}
	protect := call.Params.Get("ProtectedFromScaleIn") == "true"
	for _, id := range ids {
		found := false
		for i := range g.Instances {
			if g.Instances[i].ID == id {
				g.Instances[i].Protected = protect
				found = true
			}
		}
		if !found {
			writeQueryError(w, http.StatusBadRequest, "ValidationError", "The instance "+id+" is not part of Auto Scaling group "+g.Name+".")
			return
		}
	}
	writeQueryResult(w, call.Action, autoscalingXMLNS, nil)
}
