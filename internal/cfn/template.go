package cfn

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
)

// Template is the part of a CloudFormation template the tools read.
type Template struct {
	Parameters map[string]Parameter `json:"Parameters"`
	Conditions map[string]any       `json:"Conditions"`
	Resources  map[string]Resource  `json:"Resources"`
	Outputs    map[string]Output    `json:"Outputs"`
}

// Parameter is a template parameter.
type Parameter struct {
	Type    string `json:"Type"`
	Default any    `json:"Default"`
}

// Resource is one template resource.
type Resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
	Metadata   map[string]any `json:"Metadata"`
	Condition  string         `json:"Condition"`
}

// Output is a template output, possibly exported for other stacks.
type Output struct {
	Value  any `json:"Value"`
	Export *struct {
		Name any `json:"Name"`
	} `json:"Export"`
}

// ReadTemplate reads a template file and parses it, returning the bytes too.
func ReadTemplate(path string) ([]byte, *Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("parse template %s: %w", path, err)
	}
	return raw, t, nil
}

// Parse reads a template from its JSON.
func Parse(raw []byte) (*Template, error) {
	var t Template
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, err
	}
	if t.Resources == nil {
		t.Resources = map[string]Resource{}
	}
	return &t, nil
}

// LogicalIDs returns the resource ids, sorted.
func (t *Template) LogicalIDs() []string {
	return slices.Sorted(maps.Keys(t.Resources))
}

// OfType returns the sorted ids of resources of one type.
func (t *Template) OfType(typ string) []string {
	var ids []string
	for _, id := range t.LogicalIDs() {
		if t.Resources[id].Type == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

// CDKPath returns the construct path CDK records in a resource's metadata.
func (r Resource) CDKPath() string {
	p, _ := r.Metadata["aws:cdk:path"].(string)
	return p
}
