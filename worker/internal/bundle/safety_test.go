package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bp/infra/worker/testsupport/bundletest"
)

func charDeviceTarGz() []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	_ = tw.WriteHeader(&tar.Header{Name: "null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666})
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// Archive members and symlinks that leave the asset's folder or the ComfyUI
// root, hard links and devices: the whole bundle is refused and nothing of it
// lands anywhere.
func TestSync_RefusesArchivesThatEscape(t *testing.T) {
	zipped := func(entries ...bundletest.Entry) (string, []byte) { return ActionExtractZip, bundletest.Zip(entries) }
	tarred := func(entries ...bundletest.Entry) (string, []byte) {
		return ActionExtractTarGz, bundletest.TarGz(entries)
	}
	cases := map[string]struct {
		action string
		data   []byte
		want   string
	}{}
	add := func(name, want string, action string, data []byte) {
		cases[name] = struct {
			action string
			data   []byte
			want   string
		}{action, data, want}
	}
	a, d := zipped(bundletest.Entry{Name: "ok.py", Body: "1"}, bundletest.Entry{Name: "../../../outside/escaped", Body: "evil"})
	add("zip member climbing out", "escapes", a, d)
	a, d = tarred(bundletest.Entry{Name: "ok.py", Body: "1"}, bundletest.Entry{Name: "../../../outside/escaped", Body: "evil"})
	add("tar member climbing out", "escapes", a, d)
	a, d = tarred(bundletest.Entry{Name: "/etc/escaped", Body: "evil"})
	add("tar absolute member", "absolute", a, d)
	a, d = zipped(bundletest.Entry{Name: "link", Link: "../../../outside"})
	add("zip symlink out of the root", "escapes", a, d)
	a, d = tarred(bundletest.Entry{Name: "link", Link: "/etc/passwd"})
	add("tar absolute symlink", "absolute", a, d)
	a, d = tarred(bundletest.Entry{Name: "a", Link: "."}, bundletest.Entry{Name: "a/l", Link: "../.."}, bundletest.Entry{Name: "a/l/newdir/f", Body: "evil"})
	add("entries through a symlink of the same archive", `goes through symlink "a"`, a, d)
	a, d = tarred(bundletest.Entry{Name: "ok.py", Body: "1"}, bundletest.Entry{Name: "hard", Hardlink: "/etc/shadow"})
	add("tar hard link", "hard links and devices are refused", a, d)
	add("tar device", "hard links and devices are refused", ActionExtractTarGz, charDeviceTarGz())

	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.publish("b-evil", []bundletest.Asset{e.asset("custom_node", c.data, "custom_nodes/pack", c.action)}, "")
			_, err := e.sync()
			if err == nil || !isRefused(err) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err=%v, want a refusal mentioning %q", err, c.want)
			}
			for _, p := range []string{"../outside/escaped", "../outside/newdir", "custom_nodes/pack", activeFile, installedFile} {
				if e.exists(p) {
					t.Errorf("%s exists after a refused bundle", p)
				}
			}
		})
	}
}

// A symlink already in the root (say models/checkpoints -> /somewhere) must
// not carry a bundle file outside.
func TestSync_RefusesToInstallThroughASymlinkOutOfTheRoot(t *testing.T) {
	e := newEnv(t)
	if err := os.Symlink(e.outside, filepath.Join(e.root, "models/trap")); err != nil {
		t.Fatal(err)
	}
	e.write(activeFile, "b-0\n")
	before := snapshot(t, filepath.Dir(e.root))
	e.publish("b-3", []bundletest.Asset{e.asset("checkpoint", []byte("evil"), "models/trap/newdir/escaped", ActionCopy)}, "")
	if _, err := e.sync(); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Fatalf("err=%v, want refusal to write through the symlink", err)
	}
	if d := diffSnapshots(before, snapshot(t, filepath.Dir(e.root))); len(d) > 0 {
		t.Fatalf("disk changed: %v", d)
	}
	if _, err := os.Lstat(filepath.Join(e.outside, "newdir")); err == nil {
		t.Fatal("a folder was created outside the root")
	}
}

// Symlinks inside an archive may point anywhere inside the ComfyUI root
// (measured from where they land), not outside it.
func TestSync_ArchiveSymlinksAreMeasuredFromTheRoot(t *testing.T) {
	e := newEnv(t)
	node := bundletest.TarGz([]bundletest.Entry{{Name: "weights", Link: "../../models/checkpoints"}, {Name: "__init__.py", Body: ""}})
	e.publish("b-1", []bundletest.Asset{e.asset("custom_node", node, "custom_nodes/pack", ActionExtractTarGz)}, "")
	e.mustSync()
	if l, err := os.Readlink(filepath.Join(e.root, "custom_nodes/pack/weights")); err != nil || l != "../../models/checkpoints" {
		t.Fatalf("link %q %v", l, err)
	}
	e.publish("b-2", []bundletest.Asset{e.asset("custom_node",
		bundletest.TarGz([]bundletest.Entry{{Name: "up", Link: "../../../outside"}}), "custom_nodes/pack", ActionExtractTarGz)}, "")
	if _, err := e.sync(); err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Fatalf("err=%v: a link one level above the root was accepted", err)
	}
}
