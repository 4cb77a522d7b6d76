// Package bundle applies a fleet's model bundle to the ComfyUI models
// directory: it reads the active bundle id from SSM, the manifest from S3,
// checks every object against its sha256, and copies or extracts it, refusing
// any path that would land outside the models directory.
package bundle

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Actions of a manifest entry.
const (
	ActionCopy         = "copy"
	ActionExtractZip   = "extract_zip"
	ActionExtractTarGz = "extract_tar_gz"
)

// Manifest is s3://<models bucket>/bundles/<bundle-id>/manifest.json.
type Manifest struct {
	BundleID string  `json:"bundle_id"`
	Entries  []Entry `json:"entries"`
}

// Entry puts one S3 object into the models directory.
type Entry struct {
	// Key is the object key in the models bucket, normally assets/<kind>/<sha256>.
	Key string `json:"key"`
	// Target is a path relative to the models directory: the file for copy, the
	// directory to extract into for extract_zip and extract_tar_gz.
	Target string `json:"target"`
	// Action is copy, extract_zip or extract_tar_gz.
	Action string `json:"action"`
	// SHA256 is required only when Key is not content-addressed; when both are
	// present they must agree.
	SHA256 string `json:"sha256,omitempty"`
}

var (
	bundleIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	contentKey      = regexp.MustCompile(`^assets/[A-Za-z0-9._-]+/([0-9a-f]{64})$`)
	hexSHA          = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ManifestKey is where the manifest of a bundle lives.
func ManifestKey(bundleID string) string { return "bundles/" + bundleID + "/manifest.json" }

// ParseManifest decodes and checks a manifest for bundleID; every problem is
// reported at once and nothing is applied if there is any.
func ParseManifest(r io.Reader, bundleID string) (*Manifest, error) {
	dec := json.NewDecoder(io.LimitReader(r, 16<<20))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode manifest of bundle %s: %w", bundleID, err)
	}
	var errs []error
	if m.BundleID != "" && m.BundleID != bundleID {
		errs = append(errs, fmt.Errorf("manifest says bundle_id %q but the active bundle is %q", m.BundleID, bundleID))
	}
	if len(m.Entries) == 0 {
		errs = append(errs, errors.New("manifest has no entries"))
	}
	for i := range m.Entries {
		if err := m.Entries[i].check(); err != nil {
			errs = append(errs, fmt.Errorf("entries[%d] (key %q, target %q): %w", i, m.Entries[i].Key, m.Entries[i].Target, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("manifest of bundle %s rejected: %w", bundleID, err)
	}
	return &m, nil
}

// check validates one entry and fills SHA256 from a content-addressed key.
func (e *Entry) check() error {
	var errs []error
	switch e.Action {
	case ActionCopy, ActionExtractZip, ActionExtractTarGz:
	default:
		errs = append(errs, fmt.Errorf("action %q: use copy, extract_zip or extract_tar_gz", e.Action))
	}
	if e.Key == "" || strings.HasPrefix(e.Key, "/") || strings.Contains(e.Key, "..") {
		errs = append(errs, fmt.Errorf("key %q: give an object key such as assets/checkpoints/<sha256>", e.Key))
	}
	if _, err := relativeInside(e.Target); err != nil {
		errs = append(errs, err)
	}
	want := strings.ToLower(e.SHA256)
	if e.SHA256 != "" && !hexSHA.MatchString(want) {
		errs = append(errs, fmt.Errorf("sha256 %q is not 64 hex digits", e.SHA256))
	}
	if m := contentKey.FindStringSubmatch(e.Key); m != nil {
		if want != "" && want != m[1] {
			errs = append(errs, fmt.Errorf("sha256 %s disagrees with the content-addressed key", want))
		}
		want = m[1]
	}
	if want == "" {
		errs = append(errs, errors.New("content cannot be verified: use a key assets/<kind>/<sha256> or give sha256"))
	}
	e.SHA256 = want
	return errors.Join(errs...)
}
