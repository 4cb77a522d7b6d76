package test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bp/infra/internal/cfn"
	"github.com/bp/infra/stacks/base"
)

// The tests read a synthesized cloud assembly from its files (cfn.LoadAssembly,
// as the tools do): one app.Synth() per app, where
// assertions.Template_FromStack and Annotations_FromStack would pass every
// template through jsii and re-synthesize the whole app (forced) for every
// stack's annotations.

// stackArtifact is one CloudFormation stack of an assembly: what tests read
// beside the template as plain JSON, from one pass over its metadata.
type stackArtifact struct {
	cfn        cfn.Stack         // as cfn.LoadAssembly read it (the file's bytes, the parsed template, the metadata)
	nag        []string          // unsuppressed AwsSolutions findings (readAnnotations)
	cdk        []string          // CDK's own errors and warnings, not cdk-nag's (readAnnotations)
	resourceAt map[string]string // construct path -> logical id (the aws:cdk:logicalId metadata)
	// suppressed are the cdk-nag suppressions the stack applied, as it lists
	// them in its base.SuppressionsMetadata entry.
	suppressed []base.Suppression
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
		a := stackArtifact{cfn: s, resourceAt: map[string]string{}}
		a.nag, a.cdk = readAnnotations(s.Metadata)
		for path, entries := range s.Metadata {
			path = strings.TrimPrefix(path, "/")
			for _, e := range entries {
				switch e.Type {
				case "aws:cdk:logicalId":
					if id, ok := e.Data.(string); ok {
						a.resourceAt[path] = id
					}
				case base.SuppressionsMetadata:
					raw, _ := json.Marshal(e.Data)
					if err := json.Unmarshal(raw, &a.suppressed); err != nil {
						return nil, fmt.Errorf("%s: %s metadata: %w", s.ArtifactID, e.Type, err)
					}
				}
			}
		}
		out[s.ArtifactID] = a
	}
	return out, nil
}

// readAnnotations lists a stack's errors, then its warnings, each sorted by
// construct path, as "<construct path>: <message>": cdk-nag's unsuppressed
// AwsSolutions findings cut to the rule's name (those
// Annotations.findError/findWarning("*", Match.stringLikeRegexp("AwsSolutions-.*"))
// returns), and apart from them CDK's own.
func readAnnotations(meta map[string][]cfn.MetadataEntry) (nag, cdk []string) {
	for _, typ := range []string{"aws:cdk:error", "aws:cdk:warning"} {
		for _, path := range slices.Sorted(maps.Keys(meta)) {
			for _, e := range meta[path] {
				text, ok := e.Data.(string)
				if e.Type != typ || !ok {
					continue
				}
				if !strings.Contains(text, "AwsSolutions-") {
					cdk = append(cdk, path+": "+strings.TrimPrefix(typ, "aws:cdk:")+": "+text)
					continue
				}
				if i := strings.Index(text, ". "); i > 0 {
					text = text[:i] // the rule's name; the rest is its generic rationale
				}
				nag = append(nag, path+": "+text)
			}
		}
	}
	return nag, cdk
}
