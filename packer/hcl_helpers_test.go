package packer_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// template is every *.pkr.hcl of packer/, parsed.
type template struct {
	files map[string]*hclsyntax.Body
}

func parseTemplate(t *testing.T) template {
	t.Helper()
	paths, err := filepath.Glob("*.pkr.hcl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no *.pkr.hcl in packer/: %v", err)
	}
	sort.Strings(paths)
	tpl := template{files: map[string]*hclsyntax.Body{}}
	for _, p := range paths {
		tpl.files[p] = parseHCLFile(t, p)
	}
	return tpl
}

func parseHCLFile(t *testing.T, path string) *hclsyntax.Body {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	f, diags := hclparse.NewParser().ParseHCL(src, path)
	if diags.HasErrors() {
		t.Fatalf("parse %s: %s", path, diags.Error())
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		t.Fatalf("%s: body is %T, want native HCL syntax", path, f.Body)
	}
	return body
}

// blocks returns the top-level blocks of a type across all files, in file order.
func (tpl template) blocks(typ string) []*hclsyntax.Block {
	names := make([]string, 0, len(tpl.files))
	for n := range tpl.files {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*hclsyntax.Block
	for _, n := range names {
		for _, b := range tpl.files[n].Blocks {
			if b.Type == typ {
				out = append(out, b)
			}
		}
	}
	return out
}

// block returns the only top-level block with the type and labels.
func (tpl template) block(t *testing.T, typ string, labels ...string) *hclsyntax.Block {
	t.Helper()
	var found []*hclsyntax.Block
	for _, b := range tpl.blocks(typ) {
		if equalStrings(b.Labels, labels) {
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s %v block, found %d", typ, labels, len(found))
	}
	return found[0]
}

// locals merges every locals block into one attribute map.
func (tpl template) locals(t *testing.T) map[string]*hclsyntax.Attribute {
	t.Helper()
	out := map[string]*hclsyntax.Attribute{}
	for _, b := range tpl.blocks("locals") {
		for name, a := range b.Body.Attributes {
			if _, dup := out[name]; dup {
				t.Fatalf("local %s is defined twice", name)
			}
			out[name] = a
		}
	}
	return out
}

func childBlocks(body *hclsyntax.Body, typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, b := range body.Blocks {
		if b.Type == typ {
			out = append(out, b)
		}
	}
	return out
}

func childBlock(t *testing.T, body *hclsyntax.Body, typ string) *hclsyntax.Block {
	t.Helper()
	bs := childBlocks(body, typ)
	if len(bs) != 1 {
		t.Fatalf("want exactly one %s block, found %d", typ, len(bs))
	}
	return bs[0]
}

// literal evaluates an attribute that must be a constant (no variables).
func literal(t *testing.T, body *hclsyntax.Body, name string) cty.Value {
	t.Helper()
	a, ok := body.Attributes[name]
	if !ok {
		t.Fatalf("attribute %s is missing", name)
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("attribute %s is not a constant: %s", name, diags.Error())
	}
	return v
}

// evalFunctions are the Packer functions the tests evaluate expressions with.
func evalFunctions() map[string]function.Function {
	return map[string]function.Function{
		"can":      tryfunc.CanFunc,
		"regex":    stdlib.RegexFunc,
		"contains": stdlib.ContainsFunc,
		"concat":   stdlib.ConcatFunc,
	}
}

// evalContext binds var.* (and optionally local.*) for expression evaluation.
func evalContext(vars map[string]cty.Value, locals map[string]cty.Value) *hcl.EvalContext {
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)},
		Functions: evalFunctions(),
	}
	if locals != nil {
		ctx.Variables["local"] = cty.ObjectVal(locals)
	}
	return ctx
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// stringList converts a cty list/tuple of strings.
func stringList(t *testing.T, v cty.Value) []string {
	t.Helper()
	if !v.CanIterateElements() {
		t.Fatalf("value %#v is not a list", v)
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.Type() != cty.String {
			t.Fatalf("element %#v is not a string", e)
		}
		out = append(out, e.AsString())
	}
	return out
}
