// Package bundletest builds model bundles the way the backend writes them,
// for the bundle package's tests and the worker's black-box test. Every
// manifest starts from manifest-7a.json, the backend's own example (see
// README.md), so the field list is the backend's, not ours.
package bundletest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
)

//go:embed manifest-7a.json
var example []byte

// Example is the backend's manifest example, unchanged.
func Example() []byte { return bytes.Clone(example) }

// Asset is one assets[] entry; zero fields keep the example's value.
type Asset struct {
	AssetID          int
	Kind             string
	SHA256           string
	Size             int64
	OriginalFilename string
	Key              string
	Target           string
	Action           string

	OmitSHA256 bool // the backend gave no sha256
	OmitAction bool // action missing: copy is the default
	OldKeyName bool // older manifests: s3_key instead of asset_s3_key
	// Extra adds fields the worker does not know (must be ignored).
	Extra map[string]any
}

// Manifest renders a manifest for bundle id from the example: top-level
// fields as the example has them (bundle_id set), assets built from the
// example's asset. extra adds unknown top-level fields.
func Manifest(id string, assets []Asset, extra map[string]any) []byte {
	var top map[string]any
	if err := json.Unmarshal(example, &top); err != nil {
		panic(err)
	}
	tmpl := top["assets"].([]any)[0].(map[string]any)
	top["bundle_id"] = id
	list := []any{}
	for _, a := range assets {
		m := maps.Clone(tmpl)
		set := func(k string, v any, zero bool) {
			if !zero {
				m[k] = v
			}
		}
		set("asset_id", a.AssetID, a.AssetID == 0)
		set("kind", a.Kind, a.Kind == "")
		set("sha256", a.SHA256, a.SHA256 == "")
		set("size_bytes", a.Size, a.Size == 0)
		set("original_filename", a.OriginalFilename, a.OriginalFilename == "")
		set("asset_s3_key", a.Key, a.Key == "")
		set("target_path", a.Target, a.Target == "")
		set("action", a.Action, a.Action == "")
		if a.OmitSHA256 {
			delete(m, "sha256")
		}
		if a.OmitAction {
			delete(m, "action")
		}
		if a.OldKeyName {
			m["s3_key"] = m["asset_s3_key"]
			delete(m, "asset_s3_key")
		}
		maps.Copy(m, a.Extra)
		list = append(list, m)
	}
	top["assets"] = list
	maps.Copy(top, extra)
	out, err := json.MarshalIndent(top, "", "  ")
	if err != nil {
		panic(err)
	}
	return out
}

// Store is a models bucket's content: key -> bytes.
type Store map[string][]byte

// Put stores data content-addressed, as the backend does
// (assets/<kind>/<sha256>), and returns the key and the sha256.
func (s Store) Put(kind string, data []byte) (key, sum string) {
	h := sha256.Sum256(data)
	sum = hex.EncodeToString(h[:])
	key = "assets/" + kind + "/" + sum
	s[key] = data
	return key, sum
}

// Entry is one archive member: a file (Body), a folder (Dir) or a symlink (Link).
type Entry struct {
	Name, Body, Link string
	Dir              bool
	Hardlink         string // tar only: a hard link to this name
}

// Zip builds a zip archive.
func Zip(entries []Entry) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate}
		body := e.Body
		switch {
		case e.Link != "":
			h.SetMode(os.ModeSymlink | 0o777)
			body = e.Link
		case e.Dir:
			h.Name += "/"
			h.SetMode(os.ModeDir | 0o755)
		default:
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			panic(err)
		}
		_, _ = io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// TarGz builds a .tar.gz archive.
func TarGz(entries []Entry) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Mode: 0o644, Size: int64(len(e.Body)), Typeflag: tar.TypeReg}
		switch {
		case e.Link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.Link, 0
		case e.Hardlink != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, e.Hardlink, 0
		case e.Dir:
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(fmt.Sprintf("tar header %s: %v", e.Name, err))
		}
		if h.Typeflag == tar.TypeReg {
			_, _ = io.WriteString(tw, e.Body)
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	if err := gz.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
