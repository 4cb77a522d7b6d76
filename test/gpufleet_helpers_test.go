package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/bp/infra/config"
)

const gpuFleetKind = "gpu-fleet"

// fleetResource returns the resource of a type whose property at path equals
// want, failing unless there is exactly one.
func fleetResource(t *testing.T, tpl Template, typ, path string, want any) Resource {
	t.Helper()
	rs := tpl.Where(typ, path, want)
	if len(rs) != 1 {
		t.Fatalf("want one %s with %s = %v, found %d", typ, path, want, len(rs))
	}
	return rs[0]
}

// renderJoin flattens a CloudFormation string value (plain, Fn::Join or
// Fn::Base64 of either) to text; non-literal parts become ${<json>}.
func renderJoin(v any) string {
	switch node := v.(type) {
	case string:
		return node
	case map[string]any:
		if inner, ok := node["Fn::Base64"]; ok {
			return renderJoin(inner)
		}
		if j, ok := node["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := j[1].([]any)
			out := make([]string, len(parts))
			for i, p := range parts {
				out[i] = renderJoin(p)
			}
			return strings.Join(out, sep)
		}
	}
	b, _ := json.Marshal(v)
	return "${" + string(b) + "}"
}

// fleetUserData returns the rendered user data of a fleet's launch template.
func fleetUserData(t *testing.T, tpl Template, lt Resource) string {
	t.Helper()
	ud := get(lt.Props, "LaunchTemplateData.UserData")
	if ud == nil {
		t.Fatalf("launch template %s has no user data", lt.LogicalID)
	}
	return renderJoin(ud)
}

// envFileLines parses the KEY=VALUE lines of the heredoc that writes the env file.
func envFileLines(t *testing.T, script string) (keys []string, vals map[string]string) {
	t.Helper()
	start := strings.Index(script, "<<'WORKER_ENV'\n")
	end := strings.Index(script, "\nWORKER_ENV\n")
	if start < 0 || end < start {
		t.Fatalf("user data has no quoted WORKER_ENV heredoc:\n%s", script)
	}
	vals = map[string]string{}
	for _, line := range strings.Split(script[start+len("<<'WORKER_ENV'\n"):end], "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("env file line %q is not KEY=VALUE", line)
		}
		keys = append(keys, k)
		vals[k] = v
	}
	return keys, vals
}

// refTo reports whether v is a Ref/GetAtt/ImportValue that names id.
func refTo(v any, id string) bool {
	return strings.Contains(str(v), id)
}

// eachFleet runs f for every fleet of every built stage and variant.
func eachFleet(t *testing.T, f func(t *testing.T, b *built, tpl Template, fc config.Fleet)) {
	for _, b := range all() {
		tpl := b.templates[gpuFleetKind]
		for _, fc := range b.stage.Cfg.Fleets {
			t.Run(fmt.Sprintf("%s/%s", b.label, fc.Slug), func(t *testing.T) { f(t, b, tpl, fc) })
		}
	}
}

// statements lists the policy statements of every AWS::IAM::Policy attached
// to the role with the logical id prefix.
func statements(tpl Template, rolePrefix string) []map[string]any {
	var out []map[string]any
	for _, pol := range tpl.Resources("AWS::IAM::Policy") {
		if !strings.Contains(str(pol.Props["Roles"]), rolePrefix) {
			continue
		}
		list, _ := get(pol.Props, "PolicyDocument.Statement").([]any)
		for _, s := range list {
			if m, ok := s.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// actionsOf returns a statement's actions as a list.
func actionsOf(s map[string]any) []string {
	switch a := s["Action"].(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, len(a))
		for i, x := range a {
			out[i] = fmt.Sprint(x)
		}
		return out
	}
	return nil
}

// statementFor returns the statements granting action.
func statementFor(stmts []map[string]any, action string) []map[string]any {
	var out []map[string]any
	for _, s := range stmts {
		for _, a := range actionsOf(s) {
			if a == action {
				out = append(out, s)
			}
		}
	}
	return out
}
