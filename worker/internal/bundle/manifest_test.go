package bundle

import (
	"strings"
	"testing"

	"github.com/bp/infra/worker/testsupport/bundletest"
)

var pointerB1 = Pointer{Prefix: "bundles/b-1", ID: "b-1"}

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func parse(t *testing.T, raw []byte) (*Manifest, error) {
	t.Helper()
	return ParseManifest(strings.NewReader(string(raw)), pointerB1)
}

// The backend's own example, placeholders and all, is refused only for its
// placeholder sha256: every field name is understood.
func TestParseManifest_TheBackendsExample(t *testing.T) {
	raw := strings.Replace(string(bundletest.Example()), `"<uuid>"`, `"b-1"`, 1)
	_, err := parse(t, []byte(raw))
	if err == nil || !strings.Contains(err.Error(), `sha256 "<64 hex>" is not 64 hex digits`) {
		t.Fatalf("err=%v, want only the placeholder sha256 refused", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("more than the sha256 was refused: %v", err)
	}
	raw = strings.Replace(raw, `"<64 hex>"`, `"`+sha+`"`, 1)
	m, err := parse(t, []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	a := m.Assets[0]
	if a.Key() != "assets/checkpoint/<sha256>" || a.Target() != "models/checkpoints/sdxl.safetensors" || a.Action != ActionCopy ||
		a.SHA256 != sha || a.Kind != "checkpoint" || string(a.AssetID) != "123" || m.ManifestVersion.String() != "1" {
		t.Fatalf("example read as %+v", a)
	}
}

func TestParseManifest_OlderS3KeyDefaultActionAndUnknownFields(t *testing.T) {
	raw := bundletest.Manifest("b-1", []bundletest.Asset{
		{SHA256: sha, Key: "assets/lora/" + sha, Target: "models/loras/a.safetensors", OldKeyName: true, OmitAction: true,
			Extra: map[string]any{"license": "cc-by", "mirrors": []string{"x"}}},
		{OmitSHA256: true, Key: "assets/custom_node/" + sha, Target: "custom_nodes/ComfyUI-Pack", Action: ActionExtractTarGz},
	}, map[string]any{"published_by": map[string]any{"id": 7}, "schema": "v1"})
	if !strings.Contains(string(raw), `"s3_key"`) || strings.Contains(string(raw), `"asset_s3_key": "assets/lora`) {
		t.Fatalf("fixture did not rename the key:\n%s", raw)
	}
	m, err := parse(t, raw)
	if err != nil {
		t.Fatal(err)
	}
	if k := m.Assets[0].Key(); k != "assets/lora/"+sha {
		t.Errorf("s3_key read as %q", k)
	}
	if m.Assets[0].Action != ActionCopy {
		t.Errorf("missing action read as %q, want copy", m.Assets[0].Action)
	}
	if m.Assets[1].SHA256 != "" || m.Assets[1].Target() != "custom_nodes/ComfyUI-Pack" {
		t.Errorf("second asset %+v", m.Assets[1])
	}
}

func TestParseManifest_RefusesAndNamesEveryProblem(t *testing.T) {
	for _, c := range []struct {
		name   string
		id     string
		assets []bundletest.Asset
		extra  map[string]any
		want   []string
	}{
		{name: "bundle_id differs from the pointer", id: "b-2",
			assets: []bundletest.Asset{{SHA256: sha, Key: "assets/checkpoint/" + sha}},
			want:   []string{`bundle_id "b-2" disagrees with the active_bundle pointer's id "b-1"`}},
		{name: "later manifest version", id: "b-1", extra: map[string]any{"manifest_version": 2},
			assets: []bundletest.Asset{{SHA256: sha, Key: "assets/checkpoint/" + sha}},
			want:   []string{"manifest_version 2"}},
		{name: "no assets", id: "b-1", extra: map[string]any{"assets": nil}, want: []string{"assets is missing"}},
		{name: "each bad asset", id: "b-1", assets: []bundletest.Asset{
			{SHA256: "abc", Key: "assets/checkpoint/" + sha, Action: "move"},
			{SHA256: sha, Key: "/etc/passwd"},
			{SHA256: sha, Key: "assets/x/" + sha, Target: "/opt/comfyui/models/checkpoints/x"},
			{SHA256: sha, Key: "assets/x/" + sha, Target: "models/checkpoints/../../venv/bin/python"},
			{SHA256: sha, Key: "assets/x/" + sha, Target: "venv/lib/python3.10/site-packages/torch/__init__.py"},
			{SHA256: sha, Key: "assets/x/" + sha, Target: "main.py"},
			{SHA256: sha, Key: "assets/x/" + sha, Target: ".active_bundle_id"},
			{SHA256: sha, Key: "assets/x/" + sha, Target: "models/checkpoints"},
			{SHA256: sha, Key: "assets/x/" + sha, Target: "custom_nodes"},
			{SHA256: sha, Key: "assets/x/" + sha, Target: "user/default/comfy.settings.json"},
		}, want: []string{
			`assets[0]`, `action "move"`, `sha256 "abc" is not 64 hex digits`,
			`assets[1]`, `asset_s3_key "/etc/passwd"`,
			`assets[2]`, `is absolute`,
			`assets[3]`, `contains ..`,
			`assets[4]`, `target_path "venv/lib`,
			`assets[5]`, `target_path "main.py" is not inside`,
			`assets[6]`, `target_path ".active_bundle_id" is not inside`,
			`assets[7]`, `target_path "models/checkpoints" is not inside`,
			`assets[8]`, `target_path "custom_nodes" is not inside`,
			`assets[9]`, `target_path "user/default`,
		}},
		{name: "overlapping targets", id: "b-1", assets: []bundletest.Asset{
			{SHA256: sha, Key: "assets/x/" + sha, Target: "custom_nodes/pack", Action: ActionExtractZip},
			{SHA256: sha, Key: "assets/x/" + sha, Target: "custom_nodes/pack/extra.py"},
		}, want: []string{`assets[0] target_path "custom_nodes/pack" and assets[1] target_path "custom_nodes/pack/extra.py" overlap`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse(t, bundletest.Manifest(c.id, c.assets, c.extra))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
