// Package cfnresponse implements the CloudFormation custom-resource protocol for
// a Lambda used directly as a ServiceToken (no CDK Provider framework): it runs
// a handler under a deadline and always PUTs SUCCESS or FAILED to the
// pre-signed ResponseURL, so a stack never hangs for an hour waiting on us.
package cfnresponse

import (
	"fmt"
	"sort"
	"strings"
)

// Request types CloudFormation sends.
const (
	RequestCreate = "Create"
	RequestUpdate = "Update"
	RequestDelete = "Delete"
)

// Request is the event CloudFormation sends to the function.
type Request struct {
	RequestType           string         `json:"RequestType"`
	ResponseURL           string         `json:"ResponseURL"`
	StackID               string         `json:"StackId"`
	RequestID             string         `json:"RequestId"`
	ResourceType          string         `json:"ResourceType"`
	LogicalResourceID     string         `json:"LogicalResourceId"`
	PhysicalResourceID    string         `json:"PhysicalResourceId,omitempty"`
	ResourceProperties    map[string]any `json:"ResourceProperties"`
	OldResourceProperties map[string]any `json:"OldResourceProperties,omitempty"`
}

// Validate checks the fields the protocol needs to answer at all.
func (r Request) Validate() error {
	var missing []string
	for name, v := range map[string]string{
		"RequestType": r.RequestType, "ResponseURL": r.ResponseURL, "StackId": r.StackID,
		"RequestId": r.RequestID, "LogicalResourceId": r.LogicalResourceID,
	} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("custom resource request is missing %s", strings.Join(missing, ", "))
	}
	switch r.RequestType {
	case RequestCreate, RequestUpdate, RequestDelete:
		return nil
	default:
		return fmt.Errorf("unknown RequestType %q (want Create, Update or Delete)", r.RequestType)
	}
}

// Props reads typed values out of ResourceProperties or OldResourceProperties.
// CloudFormation passes every scalar as a string and lists as string lists.
type Props map[string]any

// String returns the property as a string, or def when absent or empty.
func (p Props) String(key, def string) (string, error) {
	v, ok := p[key]
	if !ok || v == nil {
		return def, nil
	}
	switch s := v.(type) {
	case string:
		if s == "" {
			return def, nil
		}
		return s, nil
	case float64, bool:
		// Only reachable when a test or a non-CloudFormation caller sends JSON types.
		return fmt.Sprint(s), nil
	default:
		return "", fmt.Errorf("property %s: want a string, got %T", key, v)
	}
}

// RequiredString returns the property or an error naming it when missing.
func (p Props) RequiredString(key string) (string, error) {
	s, err := p.String(key, "")
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", fmt.Errorf("property %s is required", key)
	}
	return s, nil
}

// StringList returns a list property. A single string is accepted as a
// one-element list (or comma-separated list) because templates sometimes pass
// a joined string.
func (p Props) StringList(key string) ([]string, error) {
	v, ok := p[key]
	if !ok || v == nil {
		return nil, nil
	}
	switch l := v.(type) {
	case []string:
		return l, nil
	case []any:
		out := make([]string, 0, len(l))
		for i, item := range l {
			s, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("property %s[%d]: want a string, got %T", key, i, item)
			}
			out = append(out, s)
		}
		return out, nil
	case string:
		if l == "" {
			return nil, nil
		}
		parts := strings.Split(l, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts, nil
	default:
		return nil, fmt.Errorf("property %s: want a list of strings, got %T", key, v)
	}
}
