package packer_test

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// exampleVarFile is the var file `make ami-build` uses by default.
const exampleVarFile = "vars/staging-gpu-default.pkrvars.hcl"

// variableValues returns every declared variable's value: the example var
// file over the defaults, plus worker_version (make passes it with -var).
func variableValues(t *testing.T, tpl template) map[string]cty.Value {
	t.Helper()
	vals := map[string]cty.Value{}
	for _, b := range tpl.blocks("variable") {
		if a, ok := b.Body.Attributes["default"]; ok {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("variable %s: default is not a constant: %s", b.Labels[0], diags.Error())
			}
			vals[b.Labels[0]] = v
		}
	}
	for name, a := range parseHCLFile(t, exampleVarFile).Attributes {
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			t.Fatalf("%s: %s is not a constant: %s", exampleVarFile, name, diags.Error())
		}
		vals[name] = v
	}
	vals["worker_version"] = cty.StringVal("v0.0.0-test")
	return vals
}

// fixedTimestamp stands in for Packer's timestamp() so locals evaluate.
var fixedTimestamp = function.New(&function.Spec{
	Type: function.StaticReturnType(cty.String),
	Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
		return cty.StringVal("2026-01-02T03:04:05Z"), nil
	},
})

// fullContext evaluates var.*, local.* and path.root (as ".") like Packer.
func fullContext(t *testing.T, tpl template) *hcl.EvalContext {
	t.Helper()
	vars := variableValues(t, tpl)
	ctx := evalContext(vars, nil)
	ctx.Functions["timestamp"] = fixedTimestamp
	ctx.Functions["formatdate"] = stdlib.FormatDateFunc
	ctx.Variables["path"] = cty.ObjectVal(map[string]cty.Value{"root": cty.StringVal(".")})

	pending := tpl.locals(t)
	done := map[string]cty.Value{}
	for len(pending) > 0 {
		progressed := false
		for name, a := range pending {
			ctx.Variables["local"] = cty.ObjectVal(done)
			v, diags := a.Expr.Value(ctx)
			if diags.HasErrors() {
				continue // depends on a local not evaluated yet
			}
			done[name] = v
			delete(pending, name)
			progressed = true
		}
		if !progressed {
			names := make([]string, 0, len(pending))
			for n := range pending {
				names = append(names, n)
			}
			sort.Strings(names)
			t.Fatalf("locals %v cannot be evaluated", names)
		}
	}
	ctx.Variables["local"] = cty.ObjectVal(done)
	return ctx
}

func evalString(t *testing.T, ctx *hcl.EvalContext, body *hclsyntax.Body, name string) string {
	t.Helper()
	a, ok := body.Attributes[name]
	if !ok {
		t.Fatalf("attribute %s is missing", name)
	}
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		t.Fatalf("evaluate %s: %s", name, diags.Error())
	}
	if v.Type() != cty.String {
		t.Fatalf("%s is %s, want string", name, v.Type().FriendlyName())
	}
	return v.AsString()
}

// step names one provisioner: "script:<file>", "upload:<file>" or "inline:<cmd>".
type step struct {
	name  string
	block *hclsyntax.Block
}

func provisionerSteps(t *testing.T, tpl template, ctx *hcl.EvalContext) []step {
	t.Helper()
	build := tpl.block(t, "build")
	var steps []step
	for _, b := range childBlocks(build.Body, "provisioner") {
		switch {
		case b.Body.Attributes["script"] != nil:
			steps = append(steps, step{"script:" + filepath.Base(evalString(t, ctx, b.Body, "script")), b})
		case b.Labels[0] == "file":
			src := strings.TrimSuffix(evalString(t, ctx, b.Body, "source"), "/")
			steps = append(steps, step{"upload:" + filepath.Base(src), b})
		case b.Body.Attributes["inline"] != nil:
			v, diags := b.Body.Attributes["inline"].Expr.Value(ctx)
			if diags.HasErrors() {
				t.Fatalf("evaluate inline: %s", diags.Error())
			}
			steps = append(steps, step{"inline:" + strings.Join(stringList(t, v), "; "), b})
		default:
			t.Fatalf("provisioner %v has neither script, source nor inline", b.Labels)
		}
	}
	return steps
}

func stepIndex(steps []step, name string) int {
	for i, s := range steps {
		if s.name == name {
			return i
		}
	}
	return -1
}

// walkAttributes visits every attribute in a body and its nested blocks.
func walkAttributes(body *hclsyntax.Body, visit func(*hclsyntax.Attribute)) {
	for _, a := range body.Attributes {
		visit(a)
	}
	for _, b := range body.Blocks {
		walkAttributes(b.Body, visit)
	}
}

// references lists the names referenced under a root (var, local) in a body.
func references(body *hclsyntax.Body, root string) map[string]bool {
	out := map[string]bool{}
	walkAttributes(body, func(a *hclsyntax.Attribute) {
		for _, tr := range a.Expr.Variables() {
			if tr.RootName() != root || len(tr) < 2 {
				continue
			}
			if attr, ok := tr[1].(hcl.TraverseAttr); ok {
				out[attr.Name] = true
			}
		}
	})
	return out
}
