package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bp/infra/worker/testsupport/bundletest"
)

// firstBundle: a checkpoint copy, a custom node tarball extracted into
// custom_nodes/<name>, and a zip of LoRAs, pointer with a trailing "/".
func firstBundle(e *env) {
	node := bundletest.TarGz([]bundletest.Entry{
		{Name: "__init__.py", Body: "NODE_CLASS_MAPPINGS = {}\n"},
		{Name: "nodes", Dir: true},
		{Name: "nodes/sampler.py", Body: "# sampler\n"},
		{Name: "js/ui.js", Body: "// ui\n"},
	})
	loras := bundletest.Zip([]bundletest.Entry{{Name: "style-a.safetensors", Body: "A"}, {Name: "alias.safetensors", Link: "style-a.safetensors"}})
	e.publish("b-1", []bundletest.Asset{
		e.asset("checkpoint", []byte("sdxl weights"), "models/checkpoints/sdxl.safetensors", ActionCopy),
		e.asset("custom_node", node, "custom_nodes/ComfyUI-Sampler", ActionExtractTarGz),
		e.asset("lora", loras, "models/loras/styles", ActionExtractZip),
	}, "/")
}

func TestSync_AppliesTheBackendsBundle(t *testing.T) {
	e := newEnv(t)
	firstBundle(e)
	res := e.mustSync()
	if res.Outcome != OutcomeApplied || res.BundleID != "b-1" || res.Assets != 3 {
		t.Fatalf("result %+v", res)
	}
	for rel, want := range map[string]string{
		"models/checkpoints/sdxl.safetensors":           "sdxl weights",
		"custom_nodes/ComfyUI-Sampler/__init__.py":      "NODE_CLASS_MAPPINGS = {}\n",
		"custom_nodes/ComfyUI-Sampler/nodes/sampler.py": "# sampler\n",
		"custom_nodes/ComfyUI-Sampler/js/ui.js":         "// ui\n",
		"models/loras/styles/alias.safetensors":         "A",
		activeFile:                                      "b-1\n",
		installedFile:                                   "models/checkpoints/sdxl.safetensors\ncustom_nodes/ComfyUI-Sampler\nmodels/loras/styles\n",
		"models/checkpoints/put_checkpoints_here":       "",
	} {
		if got := e.read(rel); got != want {
			t.Errorf("%s = %q, want %q", rel, got, want)
		}
	}
	// ComfyUI runs as another user: what the bundle installs is world-readable.
	for rel, mode := range map[string]os.FileMode{"models/checkpoints/sdxl.safetensors": 0o644,
		"custom_nodes/ComfyUI-Sampler": 0o755, "custom_nodes/ComfyUI-Sampler/js": 0o755, "custom_nodes/ComfyUI-Sampler/js/ui.js": 0o644,
		activeFile: 0o644, installedFile: 0o644} {
		fi, err := os.Stat(filepath.Join(e.root, rel))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v (err %v), want %o", rel, fi.Mode().Perm(), err, mode)
		}
	}
	for _, leftover := range []string{stagingName, switchMarkerName, bakedFile} {
		if e.exists(leftover) {
			t.Errorf("%s left in the root", leftover)
		}
	}
	// Next boot: same pointer, nothing downloaded.
	res = e.mustSync()
	if res.Outcome != OutcomeAlreadyActive || len(e.s3.gets) != 0 {
		t.Fatalf("second sync %+v, S3 gets %v: want already active, no download", res, e.s3.gets)
	}
}

func TestSync_SecondBundleReplacesTheFirstAndRemovesOnlyItsOldPaths(t *testing.T) {
	e := newEnv(t)
	firstBundle(e)
	e.mustSync()
	e.write("models/checkpoints/mine.safetensors", "put there by hand") // never listed
	node2 := bundletest.TarGz([]bundletest.Entry{{Name: "__init__.py", Body: "v2\n"}})
	e.publish("b-2", []bundletest.Asset{
		e.asset("checkpoint", []byte("sdxl weights"), "models/checkpoints/sdxl.safetensors", ""), // kept
		e.asset("custom_node", node2, "custom_nodes/ComfyUI-Sampler", ActionExtractTarGz),        // replaced
		e.asset("vae", []byte("vae"), "models/vae/fix.safetensors", ActionCopy),                  // new
	}, "")
	res := e.mustSync()
	if res.Outcome != OutcomeApplied || !slices.Equal(res.Removed, []string{"models/loras/styles"}) {
		t.Fatalf("result %+v, want models/loras/styles removed", res)
	}
	if e.exists("models/loras/styles") || e.exists("custom_nodes/ComfyUI-Sampler/nodes") {
		t.Error("a path of the first bundle survived")
	}
	if e.read("custom_nodes/ComfyUI-Sampler/__init__.py") != "v2\n" || e.read("models/vae/fix.safetensors") != "vae" ||
		e.read("models/checkpoints/sdxl.safetensors") != "sdxl weights" {
		t.Error("second bundle not in place")
	}
	for _, keep := range []string{"models/checkpoints/mine.safetensors", "models/loras/put_loras_here", "main.py", "venv/bin/python",
		"custom_nodes/example_node.py.example", "user/default/comfy.settings.json", "models/loras"} {
		if !e.exists(keep) {
			t.Errorf("%s was removed; it was never a bundle path", keep)
		}
	}
	if e.read(activeFile) != "b-2\n" || e.read(installedFile) != "models/checkpoints/sdxl.safetensors\ncustom_nodes/ComfyUI-Sampler\nmodels/vae/fix.safetensors\n" {
		t.Errorf("state files: %q %q", e.read(activeFile), e.read(installedFile))
	}
}

// Every failure before the switch (and a failure inside it) leaves the
// previous bundle's files and both state files exactly as they were.
func TestSync_AFailedBundleLeavesThePreviousOneIntact(t *testing.T) {
	cases := []struct {
		name    string
		publish func(e *env)
		hook    func(e *env)
		refused bool
	}{
		{name: "bad sha256 of the second asset", refused: true, publish: func(e *env) {
			bad := e.asset("vae", []byte("vae"), "models/vae/fix.safetensors", ActionCopy)
			e.s3.objects[bad.Key] = []byte("tampered")
			e.publish("b-2", []bundletest.Asset{e.asset("checkpoint", []byte("new"), "models/checkpoints/sdxl.safetensors", ActionCopy), bad}, "")
		}},
		{name: "extraction of the second asset fails midway", refused: true, publish: func(e *env) {
			// "a" is written, then "a/b" needs a folder where the file "a" is.
			broken := bundletest.TarGz([]bundletest.Entry{{Name: "ok.py", Body: "1"}, {Name: "a", Body: "file"}, {Name: "a/b", Body: "2"}})
			e.publish("b-2", []bundletest.Asset{
				e.asset("checkpoint", []byte("new"), "models/checkpoints/sdxl.safetensors", ActionCopy),
				e.asset("custom_node", broken, "custom_nodes/ComfyUI-Sampler", ActionExtractTarGz),
			}, "")
		}},
		{name: "second asset missing from the bucket", publish: func(e *env) {
			gone := e.asset("vae", []byte("vae"), "models/vae/fix.safetensors", ActionCopy)
			delete(e.s3.objects, gone.Key)
			e.publish("b-2", []bundletest.Asset{e.asset("checkpoint", []byte("new"), "models/checkpoints/sdxl.safetensors", ActionCopy), gone}, "")
		}},
		{name: "manifest missing", publish: func(e *env) { e.ssm.value = "bundles/b-9" }},
		{name: "manifest names another bundle", refused: true, publish: func(e *env) {
			e.publish("b-2", []bundletest.Asset{e.asset("checkpoint", []byte("new"), "models/checkpoints/sdxl.safetensors", ActionCopy)}, "")
			e.s3.objects["bundles/b-2/manifest.json"] = bundletest.Manifest("b-3",
				[]bundletest.Asset{e.asset("checkpoint", []byte("new"), "models/checkpoints/sdxl.safetensors", ActionCopy)}, nil)
		}},
		{name: "failure between the two state files", publish: func(e *env) {
			e.publish("b-2", []bundletest.Asset{e.asset("checkpoint", []byte("new"), "models/checkpoints/sdxl.safetensors", ActionCopy)}, "")
		}, hook: func(e *env) {
			e.syncer.testHookBeforeActive = func() error { return errors.New("disk full") }
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			firstBundle(e)
			e.mustSync()
			before := snapshot(t, filepath.Dir(e.root))
			c.publish(e)
			if c.hook != nil {
				c.hook(e)
			}
			_, err := e.sync()
			if err == nil {
				t.Fatal("a broken bundle was applied")
			}
			t.Logf("failed as expected: %v", err)
			if isRefused(err) != c.refused {
				t.Errorf("refused=%v, want %v: %v", isRefused(err), c.refused, err)
			}
			if d := diffSnapshots(before, snapshot(t, filepath.Dir(e.root))); len(d) > 0 {
				t.Fatalf("the previous bundle changed (%v):\n%s", err, strings.Join(d, "\n"))
			}
			// The fixed bundle applies on the next run.
			e.syncer.testHookBeforeActive = nil
			e.publish("b-4", []bundletest.Asset{e.asset("checkpoint", []byte("fixed"), "models/checkpoints/sdxl.safetensors", ActionCopy)}, "")
			if res := e.mustSync(); res.Outcome != OutcomeApplied || e.read("models/checkpoints/sdxl.safetensors") != "fixed" {
				t.Fatalf("fixed bundle: %+v", res)
			}
		})
	}
}

// A run that dies mid-switch leaves the marker: the next run re-applies even
// when .active_bundle_id still names the pointer's bundle.
func TestSync_AfterAnInterruptedSwitchNothingIsSkipped(t *testing.T) {
	e := newEnv(t)
	firstBundle(e)
	e.mustSync()
	e.write(switchMarkerName, "b-2\n")
	if err := os.Remove(filepath.Join(e.root, "models/checkpoints/sdxl.safetensors")); err != nil {
		t.Fatal(err)
	}
	if res := e.mustSync(); res.Outcome != OutcomeApplied || e.read("models/checkpoints/sdxl.safetensors") != "sdxl weights" || e.exists(switchMarkerName) {
		t.Fatalf("result %+v", res)
	}
}

func TestSync_SmartSkipOfTheBakedBundle(t *testing.T) {
	e := newEnv(t)
	firstBundle(e)
	e.write(bakedFile, "b-1\n")
	res := e.mustSync()
	if res.Outcome != OutcomeBaked || len(e.s3.gets) != 0 {
		t.Fatalf("result %+v, S3 gets %v: want nothing downloaded", res, e.s3.gets)
	}
	if e.read(activeFile) != "b-1\n" {
		t.Errorf("the baked bundle was not recorded as active")
	}

	// Once another bundle replaced the AMI's files, the baked id no longer
	// describes the disk: going back to it downloads it.
	e2 := newEnv(t)
	firstBundle(e2)
	e2.write(bakedFile, "b-1\n")
	e2.write(activeFile, "b-0\n")
	if res := e2.mustSync(); res.Outcome != OutcomeApplied || len(e2.s3.gets) != 4 {
		t.Fatalf("result %+v, gets %v: want the bundle downloaded", res, e2.s3.gets)
	}
}

func TestSync_NoneOrNoParameterKeepsTheDisk(t *testing.T) {
	for name, set := range map[string]func(*memSSM){
		"none":   func(m *memSSM) { m.value = "none" },
		"absent": func(m *memSSM) { m.missing = true },
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			firstBundle(e)
			e.mustSync()
			before := snapshot(t, e.root)
			set(e.ssm)
			res := e.mustSync()
			if res.Outcome != OutcomeNoBundle || len(e.s3.gets) != 0 {
				t.Fatalf("result %+v, gets %v", res, e.s3.gets)
			}
			if d := diffSnapshots(before, snapshot(t, e.root)); len(d) > 0 {
				t.Fatalf("disk changed: %v", d)
			}
		})
	}
}

func TestSync_BakeRecordsTheBakedIDAndRefusesAnotherBundle(t *testing.T) {
	e := newEnv(t)
	firstBundle(e)
	e.syncer.Bake, e.syncer.ExpectID = true, "b-1"
	if res := e.mustSync(); res.Outcome != OutcomeApplied || e.read(bakedFile) != "b-1\n" || e.read(activeFile) != "b-1\n" {
		t.Fatalf("bake: %+v", res)
	}
	e2 := newEnv(t)
	firstBundle(e2)
	e2.syncer.Bake, e2.syncer.ExpectID = true, "b-7"
	if _, err := e2.sync(); err == nil || !isRefused(err) || !strings.Contains(err.Error(), "b-7 was asked for") || len(e2.s3.gets) != 0 {
		t.Fatalf("err=%v gets=%v: want refusal before any download", err, e2.s3.gets)
	}
	if e2.exists(bakedFile) {
		t.Error("a refused bake wrote the baked id")
	}
}

// The previous installed paths file can only ever remove bundle paths: lines
// naming ComfyUI's code, venv, state or anything outside are left alone.
func TestSync_RemovalNeverLeavesTheBundlePlaces(t *testing.T) {
	e := newEnv(t)
	e.write(activeFile, "b-0\n")
	e.write(installedFile, strings.Join([]string{"venv", "main.py", "../outside/keep.txt", filepath.Join(filepath.Dir(e.root), "outside/keep.txt"),
		"/etc/passwd", "models", "custom_nodes", ".active_bundle_id", "models/checkpoints/../../venv", "models/loras/put_loras_here"}, "\n")+"\n")
	e.publish("b-1", []bundletest.Asset{e.asset("checkpoint", []byte("w"), "models/checkpoints/sdxl.safetensors", ActionCopy)}, "")
	res := e.mustSync()
	if !slices.Equal(res.Removed, []string{"models/loras/put_loras_here"}) {
		t.Errorf("removed %v, want only the one valid listed path", res.Removed)
	}
	for _, keep := range []string{"venv/bin/python", "main.py", "models/checkpoints/put_checkpoints_here", "custom_nodes/example_node.py.example", "../outside/keep.txt"} {
		if !e.exists(keep) {
			t.Errorf("%s was deleted", keep)
		}
	}

	// A model folder that is a symlink out of the root: nothing behind it is moved or deleted.
	e2 := newEnv(t)
	e2.write(activeFile, "b-0\n")
	e2.write(installedFile, "models/evil/keep.txt\n")
	if err := os.Symlink(e2.outside, filepath.Join(e2.root, "models/evil")); err != nil {
		t.Fatal(err)
	}
	e2.publish("b-1", []bundletest.Asset{e2.asset("checkpoint", []byte("w"), "models/checkpoints/sdxl.safetensors", ActionCopy)}, "")
	if res := e2.mustSync(); len(res.Removed) != 0 || !e2.exists("../outside/keep.txt") {
		t.Fatalf("removed %v through a symlink out of the root", res.Removed)
	}
}
