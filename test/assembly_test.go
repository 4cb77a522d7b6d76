package test

import (
	"maps"
	"slices"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// The tests read a synthesized cloud assembly from its files (cfn.LoadAssembly,
// as the tools do): one app.Synth() per app, where
// assertions.Template_FromStack and Annotations_FromStack would pass every
// template through jsii and re-synthesize the whole app (forced) for every
// stack's annotations.

// stackArtifact is one CloudFormation stack of an assembly: what tests read
// beside the template as plain JSON.
type stackArtifact struct {
	cfn   cfn.Stack         // as cfn.LoadAssembly read it (the file's bytes, the parsed template, the metadata)
	nag   []string          // unsuppressed AwsSolutions findings (nagFindings)
	paths map[string]string // logical id -> construct path (the aws:cdk:logicalId metadata)
}

// readAssembly reads every stack of the assembly in dir and of the nested
// assemblies (stages) it holds, keyed by artifact id.
func readAssembly(dir string) (map[string]stackArtifact, error) {
	stacks, err := cfn.LoadAssembly(dir, "")
	if err != nil {
		return nil, err
	}
	out := map[string]stackArtifact{}
	for _, s := range stacks {
		a := stackArtifact{cfn: s, nag: nagFindings(s.Metadata)}
		a.paths = map[string]string{}
		for path, entries := range s.Metadata {
			for _, e := range entries {
				if id, ok := e.Data.(string); ok && e.Type == "aws:cdk:logicalId" {
					a.paths[id] = strings.TrimPrefix(path, "/")
				}
			}
		}
		out[s.ArtifactID] = a
	}
	return out, nil
}

// nagFindings lists a stack's unsuppressed AwsSolutions errors, then its
// warnings, each sorted by construct path, as "<construct path>: <rule name>"
// (the findings Annotations.findError/findWarning("*",
// Match.stringLikeRegexp("AwsSolutions-.*")) returns, cut to the rule's name).
func nagFindings(meta map[string][]cfn.MetadataEntry) []string {
	var out []string
	for _, typ := range []string{"aws:cdk:error", "aws:cdk:warning"} {
		for _, path := range slices.Sorted(maps.Keys(meta)) {
			for _, e := range meta[path] {
				text, ok := e.Data.(string)
				if e.Type != typ || !ok || !strings.Contains(text, "AwsSolutions-") {
					continue
				}
				if i := strings.Index(text, ". "); i > 0 {
					text = text[:i] // the rule's name; the rest is its generic rationale
				}
				out = append(out, path+": "+text)
			}
		}
	}
	return out
}
