// Package cfn reads a CDK cloud assembly (cdk.out) and the CloudFormation
// templates in it, for the reviewer tools (cost report, diagram).
package cfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Artifact types of the cloud-assembly manifest that the tools care about.
const (
	artifactStack    = "aws:cloudformation:stack"
	artifactAssembly = "cdk:cloud-assembly"
)

// DefaultStage names the stage of stacks that sit in the root assembly and
// whose names do not reveal a stage.
const DefaultStage = "default"

// Stack is one synthesized CloudFormation stack of the assembly.
type Stack struct {
	Stage        string    // stage display name, e.g. "staging"
	Name         string    // CloudFormation stack name, e.g. "bp-staging-network"
	ArtifactID   string    // manifest artifact id
	DisplayName  string    // the stack's construct path, e.g. "staging/network" (CDK writes stack.node.path)
	TemplatePath string    // absolute or cdk.out-relative path of the template
	Raw          []byte    // the template file as CDK wrote it
	Template     *Template // parsed template
	Account      string    // target account of the stack's environment; "" when environment-agnostic
	Region       string    // target region of the stack's environment; "" when environment-agnostic
	Dependencies []string  // manifest artifact ids this stack depends on (stacks and asset manifests)
	// Metadata is the stack's construct metadata by construct path, merged
	// as CloudArtifact.readMetadata does: the additionalMetadataFile's entries
	// (where CDK moves them when they are many), then the manifest's appended,
	// e.g. cdk-nag's aws:cdk:error entries.
	Metadata map[string][]MetadataEntry
}

// MetadataEntry is one construct metadata entry of the cloud assembly.
type MetadataEntry struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

type manifest struct {
	Artifacts map[string]manifestArtifact `json:"artifacts"`
}

type manifestArtifact struct {
	Type         string                     `json:"type"`
	DisplayName  string                     `json:"displayName"`
	Environment  string                     `json:"environment"`
	Dependencies []string                   `json:"dependencies"`
	Properties   map[string]any             `json:"properties"`
	Metadata     map[string][]MetadataEntry `json:"metadata"`
	// AdditionalMetadataFile holds more metadata of the same shape.
	AdditionalMetadataFile string `json:"additionalMetadataFile"`
}

// LoadAssembly reads every stack of the cloud assembly in dir, following
// nested assemblies (one per CDK Stage). appPrefix helps to derive the stage of
// stacks in a flat layout from names like "<app>-<stage>-network". The result
// is sorted by stage, then stack name.
func LoadAssembly(dir, appPrefix string) ([]Stack, error) {
	var stacks []Stack
	if err := loadManifest(dir, "", appPrefix, &stacks, 0); err != nil {
		return nil, err
	}
	if len(stacks) == 0 {
		return nil, fmt.Errorf("cloud assembly %s: no CloudFormation stack artifacts found", dir)
	}
	sort.Slice(stacks, func(i, j int) bool {
		if stacks[i].Stage != stacks[j].Stage {
			return stacks[i].Stage < stacks[j].Stage
		}
		return stacks[i].Name < stacks[j].Name
	})
	return stacks, nil
}

func loadManifest(dir, stage, appPrefix string, out *[]Stack, depth int) error {
	if depth > 8 {
		return fmt.Errorf("cloud assembly %s: nested assemblies deeper than 8 levels", dir)
	}
	path := filepath.Join(dir, "manifest.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read cloud-assembly manifest: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("parse cloud-assembly manifest %s: %w", path, err)
	}
	for _, id := range slices.Sorted(maps.Keys(m.Artifacts)) {
		a := m.Artifacts[id]
		switch a.Type {
		case artifactAssembly:
			sub, _ := a.Properties["directoryName"].(string)
			if sub == "" {
				return fmt.Errorf("manifest %s: nested assembly %q has no directoryName", path, id)
			}
			name := a.DisplayName
			if name == "" {
				name = strings.TrimPrefix(sub, "assembly-")
			}
			if stage != "" {
				name = stage + "/" + name
			}
			if err := loadManifest(filepath.Join(dir, sub), name, appPrefix, out, depth+1); err != nil {
				return err
			}
		case artifactStack:
			st, err := loadStack(dir, id, a, stage, appPrefix)
			if err != nil {
				return err
			}
			*out = append(*out, st)
		}
	}
	return nil
}

func loadStack(dir, id string, a manifestArtifact, stage, appPrefix string) (Stack, error) {
	file, _ := a.Properties["templateFile"].(string)
	if file == "" {
		file = id + ".template.json"
	}
	name, _ := a.Properties["stackName"].(string)
	if name == "" {
		name = id
	}
	tplPath := filepath.Join(dir, file)
	raw, tpl, err := ReadTemplate(tplPath)
	if err != nil {
		return Stack{}, fmt.Errorf("stack %s: %w", name, err)
	}
	if stage == "" {
		stage = stageFromNames(a.DisplayName, name, appPrefix)
	}
	meta := a.Metadata
	if a.AdditionalMetadataFile != "" {
		extra, err := os.ReadFile(filepath.Join(dir, a.AdditionalMetadataFile))
		if err != nil {
			return Stack{}, fmt.Errorf("stack %s: %w", name, err)
		}
		var more map[string][]MetadataEntry
		if err := json.Unmarshal(extra, &more); err != nil {
			return Stack{}, fmt.Errorf("stack %s: %s: %w", name, a.AdditionalMetadataFile, err)
		}
		meta = more
		if meta == nil {
			meta = map[string][]MetadataEntry{}
		}
		for path, entries := range a.Metadata {
			meta[path] = append(meta[path], entries...)
		}
	}
	account, region := parseEnvironment(a.Environment)
	return Stack{Stage: stage, Name: name, ArtifactID: id, DisplayName: a.DisplayName, TemplatePath: tplPath, Raw: raw, Template: tpl,
		Account: account, Region: region, Dependencies: a.Dependencies, Metadata: meta}, nil
}

// parseEnvironment splits a manifest environment "aws://<account>/<region>";
// CDK writes unknown-account / unknown-region for environment-agnostic stacks.
func parseEnvironment(env string) (account, region string) {
	rest, ok := strings.CutPrefix(env, "aws://")
	if !ok {
		return "", ""
	}
	account, region, _ = strings.Cut(rest, "/")
	if account == "unknown-account" {
		account = ""
	}
	if region == "unknown-region" {
		region = ""
	}
	return account, region
}

// ShortName is the stack's id inside its stage: "network" for display name
// "staging/network" (what `cdk deploy 'staging/network'` selects).
func (s Stack) ShortName() string {
	name := s.DisplayName
	if name == "" {
		name = s.Name
	}
	return name[strings.LastIndex(name, "/")+1:]
}

// stageFromNames derives the stage of a stack in a flat assembly: the path
// prefix of its display name ("staging/bp-staging-data"), else the token after
// the app prefix in the stack name ("bp-staging-data"), else DefaultStage.
func stageFromNames(displayName, stackName, appPrefix string) string {
	// The stack name <app>-<stage>-<kind> says it for every stack, the ci
	// stacks outside the stages too (display name "ci-<stage>/ci").
	if appPrefix != "" && strings.HasPrefix(stackName, appPrefix+"-") {
		rest := strings.TrimPrefix(stackName, appPrefix+"-")
		if i := strings.Index(rest, "-"); i > 0 {
			return rest[:i]
		}
	}
	if i := strings.LastIndex(displayName, "/"); i > 0 {
		return displayName[:i]
	}
	return DefaultStage
}

// Stages lists the distinct stages of stacks, in order.
func Stages(stacks []Stack) []string {
	var out []string
	for _, s := range stacks {
		if len(out) == 0 || out[len(out)-1] != s.Stage {
			out = append(out, s.Stage)
		}
	}
	return out
}

// ErrNoStage reports a stage that the assembly does not contain.
var ErrNoStage = errors.New("stage not found in cloud assembly")

// StageStacks returns the stacks of one stage.
func StageStacks(stacks []Stack, stage string) ([]Stack, error) {
	var out []Stack
	for _, s := range stacks {
		if s.Stage == stage {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %q (have %s)", ErrNoStage, stage, strings.Join(Stages(stacks), ", "))
	}
	return out, nil
}

// WithDependencies returns the selected stacks plus every stack they depend
// on, directly or not: what `cdk deploy <selected>` deploys unless
// --exclusively is given. Dependencies come before their dependents; stacks
// that do not depend on each other keep the order of all.
func WithDependencies(all, selected []Stack) []Stack {
	byID := make(map[string]Stack, len(all))
	for _, s := range all {
		byID[s.ArtifactID] = s
	}
	want := map[string]bool{}
	var mark func(Stack)
	mark = func(s Stack) {
		if want[s.ArtifactID] {
			return
		}
		want[s.ArtifactID] = true
		for _, dep := range s.Dependencies {
			if d, ok := byID[dep]; ok { // asset manifests are not stacks
				mark(d)
			}
		}
	}
	for _, s := range selected {
		mark(s)
	}
	var out []Stack
	done := map[string]bool{}
	var emit func(Stack)
	emit = func(s Stack) {
		if done[s.ArtifactID] {
			return
		}
		done[s.ArtifactID] = true // the manifest has no cycles; this also stops one
		for _, dep := range s.Dependencies {
			if d, ok := byID[dep]; ok {
				emit(d)
			}
		}
		out = append(out, s)
	}
	for _, s := range all {
		if want[s.ArtifactID] {
			emit(s)
		}
	}
	return out
}
