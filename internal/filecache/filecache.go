// Package filecache is a folder of files named by a key that stands for
// everything that made them (a linked Lambda binary, cfn-lint's findings on
// one template), so a process can reuse what an earlier one computed. The
// caller makes the key; a file is never updated in place, only replaced
// whole, and files no process has read for a week are removed.
package filecache

import (
	"os"
	"path/filepath"
	"time"
)

// TTL drops files no process has used for a week.
const TTL = 7 * 24 * time.Hour

// Cache is a folder of files named by key; dir "" caches nothing.
type Cache struct{ dir string }

// Open uses <user cache dir>/bp-infra/<name> (~/.cache/bp-infra/<name> on
// Linux), or caches nothing when the machine has no cache dir or it cannot
// be created. Removing the folder forces every entry to be computed again.
func Open(name string) Cache {
	dir, err := Dir(name)
	if err != nil {
		return Cache{}
	}
	return At(dir)
}

// Dir is the folder of the cache name: <user cache dir>/bp-infra/<name>.
func Dir(name string) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "bp-infra", name), nil
}

// At uses dir, creating it; tests give it a temporary folder.
func At(dir string) Cache {
	if os.MkdirAll(dir, 0o755) != nil {
		return Cache{}
	}
	return Cache{dir: dir}
}

// Get returns the file stored under key and marks it as used.
func (c Cache) Get(key string) ([]byte, bool) {
	if c.dir == "" {
		return nil, false
	}
	path := filepath.Join(c.dir, key)
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(path, now, now) // still in use: keep it past the trim
	return data, true
}

// Put stores data under key by writing a temporary file and renaming it, so
// a process reading the key concurrently sees all of it or none.
func (c Cache) Put(key string, data []byte) {
	if c.dir == "" {
		return
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-"+key+"-")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	if cerr := tmp.Close(); werr != nil || serr != nil || cerr != nil || os.Rename(tmp.Name(), filepath.Join(c.dir, key)) != nil {
		_ = os.Remove(tmp.Name())
		return
	}
	c.trim()
}

// trim removes files (and stray temporary files) unused for TTL.
func (c Cache) trim() {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > TTL {
			_ = os.Remove(filepath.Join(c.dir, e.Name()))
		}
	}
}
