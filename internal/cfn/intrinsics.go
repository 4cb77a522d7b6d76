package cfn

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Resolver turns property values that may hold intrinsics into plain values,
// where the template alone decides them: literals, Refs to parameters with a
// plain default, pseudo parameters it is given, Fn::If on decidable conditions.
type Resolver struct {
	T      *Template
	Pseudo map[string]any // e.g. "AWS::Region": "us-east-1"
}

// ErrUnresolved means a value depends on something only known at deploy time.
type ErrUnresolved struct{ What string }

func (e *ErrUnresolved) Error() string { return "unresolved: " + e.What }

func unresolved(format string, args ...any) error {
	return &ErrUnresolved{What: fmt.Sprintf(format, args...)}
}

// Value resolves v to a literal (string, float64, bool, []any, map without
// intrinsics).
func (r Resolver) Value(v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return v, nil
	}
	for fn, arg := range m {
		switch fn {
		case "Ref":
			name, _ := arg.(string)
			if p, ok := r.Pseudo[name]; ok {
				return p, nil
			}
			if p, ok := r.T.Parameters[name]; ok {
				if p.Default != nil && !strings.HasPrefix(p.Type, "AWS::SSM::Parameter") {
					return p.Default, nil
				}
				return nil, unresolved("parameter %s", name)
			}
			return nil, unresolved("Ref %s", name)
		case "Fn::If":
			args, ok := arg.([]any)
			if !ok || len(args) != 3 {
				return nil, unresolved("malformed Fn::If")
			}
			cond, _ := args[0].(string)
			ok, err := r.Condition(cond)
			if err != nil {
				return nil, err
			}
			if ok {
				return r.Value(args[1])
			}
			return r.Value(args[2])
		}
		if strings.HasPrefix(fn, "Fn::") {
			return nil, unresolved("%s", fn)
		}
	}
	return v, nil
}

// Condition evaluates a named template condition.
func (r Resolver) Condition(name string) (bool, error) {
	c, ok := r.T.Conditions[name]
	if !ok {
		return false, unresolved("condition %s", name)
	}
	return r.evalCondition(c, 0)
}

func (r Resolver) evalCondition(c any, depth int) (bool, error) {
	if depth > 16 {
		return false, unresolved("condition nesting")
	}
	m, ok := c.(map[string]any)
	if !ok || len(m) != 1 {
		return false, unresolved("condition %v", c)
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Condition":
			name, _ := arg.(string)
			return r.evalCondition(r.T.Conditions[name], depth+1)
		case "Fn::Equals":
			if len(args) != 2 {
				return false, unresolved("malformed Fn::Equals")
			}
			a, err := r.String(args[0])
			if err != nil {
				return false, err
			}
			b, err := r.String(args[1])
			if err != nil {
				return false, err
			}
			return a == b, nil
		case "Fn::Not":
			if len(args) != 1 {
				return false, unresolved("malformed Fn::Not")
			}
			v, err := r.evalCondition(args[0], depth+1)
			return !v, err
		case "Fn::And", "Fn::Or":
			want := fn == "Fn::Or"
			for _, a := range args {
				v, err := r.evalCondition(a, depth+1)
				if err != nil {
					return false, err
				}
				if v == want {
					return want, nil
				}
			}
			return !want, nil
		}
	}
	return false, unresolved("condition function")
}

// String resolves v to a string; numbers and booleans are formatted.
func (r Resolver) String(v any) (string, error) {
	x, err := r.Value(v)
	if err != nil {
		return "", err
	}
	switch t := x.(type) {
	case string:
		return t, nil
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(t), nil
	case nil:
		return "", unresolved("missing value")
	}
	return "", unresolved("not a string: %v", x)
}

// Number resolves v to a number; CloudFormation often writes numbers as strings.
func (r Resolver) Number(v any) (float64, error) {
	x, err := r.Value(v)
	if err != nil {
		return 0, err
	}
	switch t := x.(type) {
	case float64:
		return t, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if err != nil {
			return 0, unresolved("not a number: %q", t)
		}
		return f, nil
	case nil:
		return 0, unresolved("missing value")
	}
	return 0, unresolved("not a number: %v", x)
}

// Bool resolves v to a boolean ("true"/"false" strings accepted).
func (r Resolver) Bool(v any) (bool, error) {
	x, err := r.Value(v)
	if err != nil {
		return false, err
	}
	switch t := x.(type) {
	case bool:
		return t, nil
	case string:
		b, err := strconv.ParseBool(t)
		if err != nil {
			return false, unresolved("not a boolean: %q", t)
		}
		return b, nil
	case nil:
		return false, unresolved("missing value")
	}
	return false, unresolved("not a boolean: %v", x)
}

// Count returns the number of elements of a list property whose elements may
// themselves be intrinsics (a list of subnet Refs or imports counts fine);
// a list built by an intrinsic (Fn::Split, Ref to a list parameter) does not.
func (r Resolver) Count(v any) (int, error) {
	x, err := r.Value(v)
	if err != nil {
		return 0, err
	}
	list, ok := x.([]any)
	if !ok {
		return 0, unresolved("not a list: %v", x)
	}
	return len(list), nil
}

// TargetID returns the logical id a Ref or Fn::GetAtt points at.
func TargetID(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	if ref, ok := m["Ref"].(string); ok {
		return ref, true
	}
	switch a := m["Fn::GetAtt"].(type) {
	case []any:
		if len(a) > 0 {
			id, ok := a[0].(string)
			return id, ok
		}
	case string:
		id, _, _ := strings.Cut(a, ".")
		return id, id != ""
	}
	return "", false
}

var subVar = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// SubParts splits the value of an Fn::Sub into its template string, the
// variables it names (each "Name" or "Resource.Attr", "${!x}" literals left
// out) and its variable map (nil in the one-string form).
func SubParts(sub any) (template string, names []string, varMap any) {
	switch a := sub.(type) {
	case string:
		template = a
	case []any:
		if len(a) > 0 {
			template, _ = a[0].(string)
		}
		if len(a) > 1 {
			varMap = a[1]
		}
	}
	for _, m := range subVar.FindAllStringSubmatch(template, -1) {
		names = append(names, m[1])
	}
	return template, names, varMap
}

// Substitute replaces each variable of an Fn::Sub template string ("${Name}"
// or "${Resource.Attr}"; "${!x}" literals stay) by what value returns for it.
func Substitute(template string, value func(name string) string) string {
	return subVar.ReplaceAllStringFunc(template, func(m string) string {
		return value(m[2 : len(m)-1])
	})
}

var ssmDynamic = regexp.MustCompile(`\{\{resolve:ssm(?:-secure)?:([^}:]+)`)

// SSMNames returns the parameter names of the SSM dynamic references in s
// ("{{resolve:ssm:name}}", "{{resolve:ssm-secure:name:version}}").
func SSMNames(s string) []string {
	var out []string
	for _, m := range ssmDynamic.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// Refs is what a value refers to: logical ids (Ref, GetAtt, Sub variables),
// exported names it imports, and SSM parameter names of dynamic references.
type Refs struct {
	IDs     []string
	Imports []string
	SSM     []string
}

// CollectRefs walks v and returns its references, sorted and deduplicated.
// Names that are not resources of the template (parameters, pseudo
// parameters) are kept; callers filter with the template.
func CollectRefs(v any) Refs {
	ids, imports, ssm := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if id, ok := TargetID(t); ok {
				ids[id] = true
				return
			}
			if imp, ok := t["Fn::ImportValue"]; ok && len(t) == 1 {
				if s, ok := imp.(string); ok {
					imports[s] = true
				} else {
					walk(imp)
				}
				return
			}
			if sub, ok := t["Fn::Sub"]; ok && len(t) == 1 {
				s, names, vars := SubParts(sub)
				if vars != nil {
					walk(vars)
				}
				for _, n := range names {
					id, _, _ := strings.Cut(n, ".")
					ids[id] = true
				}
				for _, n := range SSMNames(s) {
					ssm[n] = true
				}
				return
			}
			for _, x := range t {
				walk(x)
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		case string:
			for _, n := range SSMNames(t) {
				ssm[n] = true
			}
		}
	}
	walk(v)
	return Refs{IDs: slices.Sorted(maps.Keys(ids)), Imports: slices.Sorted(maps.Keys(imports)), SSM: slices.Sorted(maps.Keys(ssm))}
}
