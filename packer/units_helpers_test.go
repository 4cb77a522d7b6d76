package packer_test

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unitFile is a parsed systemd unit: section -> key -> values (keys repeat).
type unitFile map[string]map[string][]string

func parseUnit(t *testing.T, path string) unitFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open unit: %v", err)
	}
	defer f.Close()
	u := unitFile{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: malformed line %q", path, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return u
}

// one returns the single value of a key, failing when absent or repeated.
func (u unitFile) one(t *testing.T, section, key string) string {
	t.Helper()
	vs := u[section][key]
	if len(vs) != 1 {
		t.Fatalf("[%s] %s has %d values %v, want 1", section, key, len(vs), vs)
	}
	return vs[0]
}

// words splits space-separated list values of a key.
func (u unitFile) words(section, key string) []string {
	var out []string
	for _, v := range u[section][key] {
		out = append(out, strings.Fields(v)...)
	}
	return out
}

// systemRoot is a throwaway OS tree for systemd-analyze verify --root: the
// host's stock units (sysinit.target, multi-user.target, ...) plus ours.
func systemRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	fillSystemRoot(t, root)
	return root
}

// stockUnits is where the distribution's units live, on the host and in a
// test tree.
const stockUnits = "usr/lib/systemd/system"

// fillSystemRoot lays the stock units and /bin/sh of systemRoot into root.
func fillSystemRoot(t *testing.T, root string) {
	t.Helper()
	src := "/" + stockUnits
	if _, err := os.Stat(src); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing; install the Debian package systemd", src)
		}
		t.Skipf("%s missing: %v", src, err)
	}
	dst := filepath.Join(root, stockUnits)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
	})
	if err != nil {
		t.Fatalf("copy stock units into %s: %v", root, err)
	}
	// The base image's shell, which the worker unit's ExecStopPost runs.
	writeFile(t, filepath.Join(root, "bin/sh"), "#!/bin/sh\nexit 0\n", 0o755)
}
