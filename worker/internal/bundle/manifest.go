// Package bundle installs a fleet's model bundle into the ComfyUI root exactly
// as the backend's Admin UI describes it: the active_bundle SSM parameter
// points at bundles/<bundle_id>, whose manifest.json lists assets in the
// models bucket and where each goes under /opt/comfyui. Everything is
// downloaded, verified and unpacked into a staging folder first, then moved
// into place; a failure before the switch leaves the previous bundle as it was.
package bundle

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Actions of a manifest asset; copy is the default when action is missing.
const (
	ActionCopy         = "copy"
	ActionExtractZip   = "extract_zip"
	ActionExtractTarGz = "extract_tar_gz"
)

// Manifest is the part of the backend's manifest.json the sync uses; other
// fields (name, created_at, notes, and any added later) are ignored.
type Manifest struct {
	ManifestVersion json.Number `json:"manifest_version"`
	BundleID        string      `json:"bundle_id"`
	Assets          []Asset     `json:"assets"`
}

// Asset is one entry of assets[]; asset_id, kind, size_bytes and
// original_filename are only logged, unknown fields ignored.
type Asset struct {
	AssetID          json.RawMessage `json:"asset_id"`
	Kind             string          `json:"kind"`
	SHA256           string          `json:"sha256"`
	OriginalFilename string          `json:"original_filename"`
	AssetS3Key       string          `json:"asset_s3_key"`
	S3Key            string          `json:"s3_key"` // older manifests
	TargetPath       string          `json:"target_path"`
	Action           string          `json:"action"`

	// Filled by ParseManifest.
	key    string // asset_s3_key, else s3_key
	target string // cleaned target_path
}

// Key is the object key of the asset in the models bucket.
func (a Asset) Key() string { return a.key }

// Target is the cleaned target_path, relative to the ComfyUI root.
func (a Asset) Target() string { return a.target }

var hexSHA = regexp.MustCompile(`^[0-9a-f]{64}$`)

// supportedManifestVersion is the format 7a describes; a later version may
// change what fields mean, so it is refused rather than half understood.
const supportedManifestVersion = "1"

// ParseManifest decodes the manifest of the bundle the pointer names and
// checks every asset; all problems are reported at once.
func ParseManifest(r io.Reader, p Pointer) (*Manifest, error) {
	var m Manifest
	raw, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("manifest %s is not a JSON object: %w", p.ManifestKey(), err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", p.ManifestKey(), err)
	}
	var errs []error
	if v := m.ManifestVersion.String(); v != "" && v != supportedManifestVersion {
		errs = append(errs, fmt.Errorf("manifest_version %s: this worker reads version %s; update the worker before activating this bundle", v, supportedManifestVersion))
	}
	if m.BundleID != "" && m.BundleID != p.ID {
		errs = append(errs, fmt.Errorf("bundle_id %q disagrees with the active_bundle pointer's id %q: the bundle is corrupt, re-publish it", m.BundleID, p.ID))
	}
	if _, ok := fields["assets"]; !ok || m.Assets == nil {
		errs = append(errs, errors.New("assets is missing: the manifest lists no assets array"))
	}
	for i := range m.Assets {
		if err := m.Assets[i].check(); err != nil {
			errs = append(errs, fmt.Errorf("assets[%d]: %w", i, err))
		}
	}
	for i := range m.Assets {
		for j := i + 1; j < len(m.Assets); j++ {
			a, b := m.Assets[i].target, m.Assets[j].target
			if a != "" && b != "" && nested(a, b) {
				errs = append(errs, fmt.Errorf("assets[%d] target_path %q and assets[%d] target_path %q overlap: each asset needs its own path", i, a, j, b))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("manifest %s refused: %w", p.ManifestKey(), err)
	}
	return &m, nil
}

// check validates one asset and fills key and target.
func (a *Asset) check() error {
	var errs []error
	if a.Action == "" {
		a.Action = ActionCopy
	}
	switch a.Action {
	case ActionCopy, ActionExtractZip, ActionExtractTarGz:
	default:
		errs = append(errs, fmt.Errorf("action %q: use copy, extract_zip or extract_tar_gz", a.Action))
	}
	a.key = a.AssetS3Key
	if a.key == "" {
		a.key = a.S3Key
	}
	switch {
	case a.key == "":
		errs = append(errs, errors.New("asset_s3_key (or s3_key) is missing: give the object key, e.g. assets/checkpoint/<sha256>"))
	case strings.HasPrefix(a.key, "/") || strings.Contains("/"+a.key+"/", "/../"):
		errs = append(errs, fmt.Errorf("asset_s3_key %q: give an object key in the models bucket such as assets/checkpoint/<sha256>", a.key))
	}
	t, err := CheckTargetPath(a.TargetPath)
	if err != nil {
		errs = append(errs, err)
	}
	a.target = t
	if a.SHA256 != "" {
		a.SHA256 = strings.ToLower(a.SHA256)
		if !hexSHA.MatchString(a.SHA256) {
			errs = append(errs, fmt.Errorf("sha256 %q is not 64 hex digits", a.SHA256))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("(asset_id %s, target_path %q) %w", string(a.AssetID), a.TargetPath, err)
	}
	return nil
}
