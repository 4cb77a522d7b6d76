package filecache

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Put then Get returns the bytes; a missing key misses; only the file stays.
func TestCacheStoresWholeFiles(t *testing.T) {
	c := At(t.TempDir())
	data := bytes.Repeat([]byte("ELF"), 1000)
	c.Put("k1", data)
	if got, ok := c.Get("k1"); !ok || !bytes.Equal(got, data) {
		t.Fatalf("Get after Put: ok=%v, %d bytes", ok, len(got))
	}
	if _, ok := c.Get("k2"); ok {
		t.Fatal("a key never stored was found")
	}
	entries, _ := os.ReadDir(c.dir)
	if len(entries) != 1 {
		t.Fatalf("want only the stored file in the cache folder, found %d entries", len(entries))
	}
}

// A file unused for longer than the TTL goes at the next Put; one read
// recently stays.
func TestCacheTrimsFilesUnusedForAWeek(t *testing.T) {
	c := At(t.TempDir())
	c.Put("old", []byte("x"))
	c.Put("read", []byte("y"))
	stale := time.Now().Add(-TTL - time.Hour)
	for _, k := range []string{"old", "read"} {
		if err := os.Chtimes(filepath.Join(c.dir, k), stale, stale); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := c.Get("read"); !ok {
		t.Fatal("stored file missing")
	}
	c.Put("new", []byte("z"))
	if _, err := os.Stat(filepath.Join(c.dir, "old")); !os.IsNotExist(err) {
		t.Errorf("a file unused for %v survived the trim (stat: %v)", TTL+time.Hour, err)
	}
	for _, k := range []string{"read", "new"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s was trimmed", k)
		}
	}
}

// No cache folder: nothing is stored and nothing found.
func TestZeroCacheCachesNothing(t *testing.T) {
	var c Cache
	c.Put("k", []byte("x"))
	if _, ok := c.Get("k"); ok {
		t.Fatal("the zero Cache returned a file")
	}
}
