package cfn

import (
	"testing"

	"github.com/bp/infra/internal/testtool"
)

// A stack's construct metadata is read as the CDK reads it: the entries of
// its additionalMetadataFile (where CDK puts the metadata when there is much
// of it), then per construct path the manifest's "metadata" entries appended
// (CloudArtifact.readMetadata, @aws-cdk/cloud-assembly-api
// lib/cloud-artifact.js, as bundled with aws-cdk-lib 2.276).
func TestLoadAssemblyReadsBothMetadataPlaces(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, text string) { testtool.WriteFile(t, dir, rel, text) }
	write("s.template.json", `{"Resources": {}}`)
	write("s.metadata.json", `{"/s/A": [{"type": "aws:cdk:error", "data": "AwsSolutions-X1: from the file"}]}`)
	write("manifest.json", `{"version": "48.0.0", "artifacts": {"s": {"type": "aws:cloudformation:stack",
		"environment": "aws://111111111111/us-east-1", "properties": {"templateFile": "s.template.json"},
		"additionalMetadataFile": "s.metadata.json",
		"metadata": {"/s/A": [{"type": "aws:cdk:warning", "data": "AwsSolutions-X2"}], "/s/B": [{"type": "aws:cdk:logicalId", "data": "B"}]}}}}`)
	stacks, err := LoadAssembly(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	m := stacks[0].Metadata
	if len(m["/s/A"]) != 2 || m["/s/A"][0].Data != "AwsSolutions-X1: from the file" || m["/s/A"][1].Type != "aws:cdk:warning" || len(m["/s/B"]) != 1 {
		t.Fatalf("metadata %v: want the file's entry, then the manifest's, per path", m)
	}
}
