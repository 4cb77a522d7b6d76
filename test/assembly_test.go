package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The tests read a synthesized cloud assembly from its files: one app.Synth()
// per app, where assertions.Template_FromStack and Annotations_FromStack would
// pass every template through jsii and re-synthesize the whole app (forced) for
// every stack's annotations.

// stackArtifact is one CloudFormation stack of an assembly.
type stackArtifact struct {
	template Template
	messages []synthMessage // in manifest order, as the cloud assembly API renders them
}

// synthMessage is an aws:cdk:error, aws:cdk:warning or aws:cdk:info entry
// of a stack's metadata, with the construct path it is attached to.
type synthMessage struct {
	path string
	typ  string
	data any
}

// artifactManifest is the part of an artifact in manifest.json the tests read.
type artifactManifest struct {
	Type                   string          `json:"type"`
	Metadata               json.RawMessage `json:"metadata"`
	AdditionalMetadataFile string          `json:"additionalMetadataFile"`
	Properties             struct {
		TemplateFile  string `json:"templateFile"`
		DirectoryName string `json:"directoryName"`
	} `json:"properties"`
}

// readAssembly reads every stack of the assembly in dir and of the nested
// assemblies (stages) it holds, keyed by artifact id.
func readAssembly(dir string) (map[string]stackArtifact, error) {
	out := map[string]stackArtifact{}
	return out, readAssemblyInto(dir, out)
}

func readAssemblyInto(dir string, out map[string]stackArtifact) error {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return err
	}
	var manifest struct {
		Artifacts map[string]artifactManifest `json:"artifacts"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		return fmt.Errorf("%s/manifest.json: %w", dir, err)
	}
	for id, a := range manifest.Artifacts {
		switch a.Type {
		case "cdk:cloud-assembly":
			if err := readAssemblyInto(filepath.Join(dir, a.Properties.DirectoryName), out); err != nil {
				return err
			}
		case "aws:cloudformation:stack":
			if _, dup := out[id]; dup {
				return fmt.Errorf("artifact %s appears twice in %s", id, dir)
			}
			s, err := readStack(dir, a)
			if err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			out[id] = s
		}
	}
	return nil
}

func readStack(dir string, a artifactManifest) (stackArtifact, error) {
	var s stackArtifact
	raw, err := os.ReadFile(filepath.Join(dir, a.Properties.TemplateFile))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(raw, &s.template); err != nil {
		return s, fmt.Errorf("%s: %w", a.Properties.TemplateFile, err)
	}
	// Like the cloud assembly API (CloudArtifact.readMetadata): the extra
	// metadata file first, then the manifest's own entries appended per path.
	var meta orderedMetadata
	if a.AdditionalMetadataFile != "" {
		raw, err := os.ReadFile(filepath.Join(dir, a.AdditionalMetadataFile))
		if err != nil {
			return s, err
		}
		if err := meta.add(raw); err != nil {
			return s, fmt.Errorf("%s: %w", a.AdditionalMetadataFile, err)
		}
	}
	if len(a.Metadata) > 0 {
		if err := meta.add(a.Metadata); err != nil {
			return s, fmt.Errorf("manifest metadata: %w", err)
		}
	}
	for _, path := range meta.paths {
		for _, e := range meta.entries[path] {
			switch e.Type {
			case "aws:cdk:error", "aws:cdk:warning", "aws:cdk:info":
				s.messages = append(s.messages, synthMessage{path: path, typ: e.Type, data: e.Data})
			}
		}
	}
	return s, nil
}

type metadataEntry struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

// orderedMetadata keeps construct paths in the order of the JSON objects, as
// JavaScript's Object.entries does, so messages come out in the same order.
type orderedMetadata struct {
	paths   []string
	entries map[string][]metadataEntry
}

func (m *orderedMetadata) add(raw []byte) error {
	if m.entries == nil {
		m.entries = map[string][]metadataEntry{}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("metadata is not a JSON object (%v)", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		path, _ := tok.(string)
		var entries []metadataEntry
		if err := dec.Decode(&entries); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if _, seen := m.entries[path]; !seen {
			m.paths = append(m.paths, path)
		}
		m.entries[path] = append(m.entries[path], entries...)
	}
	return nil
}

// nagFindings lists a stack's unsuppressed AwsSolutions errors, then its
// warnings, as "<construct path>: <rule name>" (what
// Annotations.findError/findWarning("*", Match.stringLikeRegexp("AwsSolutions-.*"))
// returns, cut to the rule's name).
func nagFindings(s stackArtifact) []string {
	var out []string
	for _, typ := range []string{"aws:cdk:error", "aws:cdk:warning"} {
		for _, m := range s.messages {
			text, ok := m.data.(string)
			if m.typ != typ || !ok || !strings.Contains(text, "AwsSolutions-") {
				continue
			}
			if i := strings.Index(text, ". "); i > 0 {
				text = text[:i] // the rule's name; the rest is its generic rationale
			}
			out = append(out, m.path+": "+text)
		}
	}
	return out
}
