package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/bp/infra/naming"
)

// Context keys this package reads; every other key that is not CDK's own is a
// flat override of the selected stage (-c key=value, dotted for nested keys).
const (
	StageKey  = "stage"
	StagesKey = "stages"
)

// Load resolves the stages to synthesize from the whole CDK context: one stage
// with -c stage=<name>, every stage otherwise. Each stage starts from its
// preset, then cdk.json's stages.<name>, then flat -c overrides. All problems
// are reported at once, before any construct is built.
func Load(ctx map[string]any) ([]Stage, error) {
	var errs []error
	selected, err := selectedStages(ctx)
	if err != nil {
		return nil, err
	}
	overrides, oerrs := stageOverrides(ctx)
	errs = append(errs, oerrs...)
	flat, ferrs := flatOverrides(ctx, selected)
	errs = append(errs, ferrs...)

	var stages []Stage
	for _, name := range selected {
		s, serrs := resolve(name, overrides[name], flat)
		errs = append(errs, serrs...)
		if len(serrs) == 0 {
			if verr := Validate(s); verr != nil {
				errs = append(errs, verr)
			}
		}
		stages = append(stages, s)
	}
	others := otherAccounts(overrides, selected)
	if len(errs) == 0 {
		errs = append(errs, sharedAccountErrors(stages, others)...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i := range stages {
		stages[i].SharesAccountWith = sharedWith(stages[i], stages, others)
	}
	return stages, nil
}

// Warnings are what synthesis should print but not refuse: a non-production
// stage sharing its account, or production allowed to (allowSharedAccount).
func Warnings(ctx map[string]any) []string {
	stages, err := Load(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range stages {
		for _, o := range s.SharesAccountWith {
			out = append(out, fmt.Sprintf("stage %s shares account %s with stage %s: deploy rights on one are rights on the other, CloudWatch namespaces (ComfyUI/Workers) and quotas are shared, and the budget can only tell the stages apart by the Stage cost-allocation tag, which must be activated in the billing console; give each stage its own account", s.Stage, s.Account, o))
		}
	}
	return out
}

// otherAccounts are the accounts of the stages not selected (-c stage=...),
// as cdk.json sets them.
func otherAccounts(overrides map[string]map[string]any, selected []string) map[string]string {
	out := map[string]string{}
	for _, name := range StageNames() {
		if slices.Contains(selected, name) {
			continue
		}
		if s, errs := resolve(name, overrides[name], nil); len(errs) == 0 && s.Account != "" {
			out[name] = s.Account
		}
	}
	return out
}

// sharedWith names the other stages in s's account.
func sharedWith(s Stage, stages []Stage, others map[string]string) []string {
	var out []string
	for _, o := range stages {
		if o.Stage != s.Stage && o.Account == s.Account {
			out = append(out, o.Stage)
		}
	}
	for name, account := range others {
		if account == s.Account {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func sharedAccountErrors(stages []Stage, others map[string]string) []error {
	var errs []error
	for _, s := range stages {
		if shared := sharedWith(s, stages, others); s.IsProduction() && len(shared) > 0 && !s.AllowSharedAccount {
			errs = append(errs, fmt.Errorf("stage production: account %q is also the account of stage %s: its deploy rights would be production rights; use a separate account for production, or set stages.production.allowSharedAccount=true to accept it",
				s.Account, strings.Join(shared, ", ")))
		}
	}
	return errs
}

func selectedStages(ctx map[string]any) ([]string, error) {
	raw, ok := ctx[StageKey]
	if !ok {
		return StageNames(), nil
	}
	name, isString := raw.(string)
	if _, known := Preset(name); !isString || !known {
		return nil, fmt.Errorf("context key %q = %q: unknown stage; known stages: %s (e.g. -c stage=staging)",
			StageKey, fmt.Sprint(raw), strings.Join(StageNames(), ", "))
	}
	return []string{name}, nil
}

func stageOverrides(ctx map[string]any) (map[string]map[string]any, []error) {
	out := map[string]map[string]any{}
	raw, ok := ctx[StagesKey]
	if !ok {
		return out, nil
	}
	all, isMap := raw.(map[string]any)
	if !isMap {
		return out, []error{fmt.Errorf("context key %q: want an object of stage name -> settings, got %T; fix cdk.json", StagesKey, raw)}
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(all)) {
		if _, known := Preset(name); !known {
			errs = append(errs, fmt.Errorf("context key %q: unknown stage; known stages: %s; rename or remove it in cdk.json",
				StagesKey+"."+name, strings.Join(StageNames(), ", ")))
			continue
		}
		m, isMap := all[name].(map[string]any)
		if !isMap {
			errs = append(errs, fmt.Errorf("context key %q: want an object of settings, got %T; fix cdk.json", StagesKey+"."+name, all[name]))
			continue
		}
		if _, has := m["stage"]; has {
			errs = append(errs, fmt.Errorf("context key %q: the stage is named by its key under %q; remove it", StagesKey+"."+name+".stage", StagesKey))
		}
		out[name] = m
	}
	return out, errs
}

// cdkOwnKey reports context keys written by the CDK CLI or library.
func cdkOwnKey(k string) bool {
	return strings.HasPrefix(k, "@") || strings.Contains(k, ":") || k == "acknowledged-issue-numbers"
}

// flatOverrides turns "-c database.multiAz=true" style keys into a nested map.
func flatOverrides(ctx map[string]any, selected []string) (map[string]any, []error) {
	nested := map[string]any{}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(ctx)) {
		if k == StageKey || k == StagesKey || cdkOwnKey(k) {
			continue
		}
		if len(selected) != 1 {
			errs = append(errs, fmt.Errorf("context key %q: a flat override applies to one stage; add -c stage=<%s> or move it to stages.<name> in cdk.json",
				k, strings.Join(StageNames(), "|")))
			continue
		}
		parts := strings.Split(k, ".")
		m := nested
		for i, p := range parts {
			if i == len(parts)-1 {
				m[p] = ctx[k]
				break
			}
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
	}
	return nested, errs
}

func resolve(name string, fileOverride, flat map[string]any) (Stage, []error) {
	preset, _ := Preset(name)
	base := toMap(preset)
	t := reflect.TypeOf(Stage{})
	var errs []error
	prefix := StagesKey + "." + name
	merged, e := merge(prefix, base, fileOverride, t)
	errs = append(errs, e...)
	merged, e = merge("", merged, flat, t)
	errs = append(errs, e...)
	if len(errs) > 0 {
		return preset, errs
	}
	var s Stage
	b, _ := json.Marshal(merged)
	if err := json.Unmarshal(b, &s); err != nil {
		return preset, []error{fmt.Errorf("stage %q: %w", name, err)}
	}
	s.Stage = name
	derive(&s)
	return s, nil
}

// derive fills values computed from other settings.
func derive(s *Stage) {
	n := naming.New(s.AppPrefix, s.Stage)
	for i := range s.Fleets {
		if s.Fleets[i].AmiParameter == "" && s.Fleets[i].AmiID == "" {
			s.Fleets[i].AmiParameter = n.AmiParameter(s.Fleets[i].Slug)
		}
	}
}

func toMap(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// retiredKeys were settings once; an old cdk.json that still has one is told why.
var retiredKeys = map[string]string{
	"desiredCount": "the service's scalable target owns the running task count (minCount..maxCount), so a deploy never resets it",
}

// merge applies override (decoded JSON, or strings from -c) onto base, guided by
// the Go type t. It reports every unknown key and ill-typed value with its path.
func merge(path string, base, override any, t reflect.Type) (any, []error) {
	if override == nil {
		return base, nil
	}
	switch t.Kind() {
	case reflect.Struct:
		ov, ok := override.(map[string]any)
		if !ok {
			return base, []error{typeErr(path, override, "an object")}
		}
		bm, _ := base.(map[string]any)
		out := map[string]any{}
		for k, v := range bm {
			out[k] = v
		}
		fields := jsonFields(t)
		var errs []error
		for _, k := range slices.Sorted(maps.Keys(ov)) {
			f, known := fields[k]
			if !known {
				if why, ok := retiredKeys[k]; ok {
					errs = append(errs, fmt.Errorf("context key %q: no longer a setting: %s; remove it", join(path, k), why))
					continue
				}
				errs = append(errs, fmt.Errorf("context key %q: not a setting; known keys here: %s",
					join(path, k), strings.Join(slices.Sorted(maps.Keys(fields)), ", ")))
				continue
			}
			v, e := merge(join(path, k), out[k], ov[k], f)
			errs = append(errs, e...)
			out[k] = v
		}
		return out, errs
	case reflect.Slice:
		list, ok := override.([]any)
		if s, isStr := override.(string); isStr && t.Elem().Kind() == reflect.String {
			list, ok = splitList(s), true
		}
		if !ok {
			return base, []error{typeErr(path, override, "a list")}
		}
		out := make([]any, 0, len(list))
		var errs []error
		for i, item := range list {
			var elemBase any
			if t.Elem() == reflect.TypeOf(Fleet{}) {
				elemBase = toMap(DefaultFleet())
			}
			v, e := merge(fmt.Sprintf("%s[%d]", path, i), elemBase, item, t.Elem())
			errs = append(errs, e...)
			out = append(out, v)
		}
		return out, errs
	default:
		v, err := scalar(override, t.Kind())
		if err != nil {
			return base, []error{typeErr(path, override, err.Error())}
		}
		return v, nil
	}
}

// scalar accepts JSON values and the strings -c passes for them.
func scalar(v any, kind reflect.Kind) (any, error) {
	s, isStr := v.(string)
	if i, isInt := v.(int); isInt { // contexts built in Go rather than decoded from JSON
		v = float64(i)
	}
	switch kind {
	case reflect.String:
		if isStr {
			return s, nil
		}
		return nil, errors.New("a string")
	case reflect.Bool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		if b, err := strconv.ParseBool(s); isStr && err == nil {
			return b, nil
		}
		return nil, errors.New("true or false")
	case reflect.Int:
		f, ok := v.(float64)
		if isStr {
			i, err := strconv.Atoi(strings.TrimSpace(s))
			f, ok = float64(i), err == nil
		}
		if !ok || f != float64(int(f)) || f > 1e9 || f < -1e9 {
			return nil, errors.New("a whole number")
		}
		return f, nil
	case reflect.Float64:
		f, ok := v.(float64)
		if isStr {
			var err error
			f, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
			ok = err == nil
		}
		if !ok || math.IsNaN(f) || f > 1e9 || f < -1e9 {
			return nil, errors.New("a number")
		}
		return f, nil
	}
	return nil, fmt.Errorf("a supported value (kind %s)", kind)
}

func splitList(s string) []any {
	var out []any
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name != "" && name != "-" && name != "stage" {
			out[name] = f.Type
		}
	}
	return out
}

func typeErr(path string, got any, want string) error {
	return fmt.Errorf("context key %q = %v: want %s; fix the value in cdk.json or -c", path, got, want)
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
