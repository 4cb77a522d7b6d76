package bundle

import (
	"fmt"
	"regexp"
	"strings"
)

// NoBundle is the pointer value that means "no bundle: run with the AMI's models".
const NoBundle = "none"

// Pointer is the value of the fleet's active_bundle SSM parameter: the S3
// prefix of the bundle in the models bucket, e.g. bundles/<bundle_id>.
type Pointer struct {
	Prefix string // without a trailing slash
	ID     string // the last path segment of Prefix
}

// ManifestKey is where the backend writes the bundle's manifest.
func (p Pointer) ManifestKey() string { return p.Prefix + "/manifest.json" }

// The id names files and log lines; a UUID (what the backend writes) fits.
var bundleIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ParsePointer reads the parameter value. ok is false for "none". A trailing
// "/" is stripped; the bundle id is the last path segment.
func ParsePointer(value string) (p Pointer, ok bool, err error) {
	v := strings.TrimSpace(value)
	if v == NoBundle {
		return Pointer{}, false, nil
	}
	prefix := strings.TrimRight(v, "/")
	if prefix == "" {
		return Pointer{}, false, fmt.Errorf("value %q is not a bundle prefix: write bundles/<bundle_id> or %s", value, NoBundle)
	}
	for _, seg := range strings.Split(prefix, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return Pointer{}, false, fmt.Errorf("value %q has an empty, . or .. path segment: write bundles/<bundle_id> or %s", value, NoBundle)
		}
	}
	id := prefix[strings.LastIndex(prefix, "/")+1:]
	if !bundleIDPattern.MatchString(id) {
		return Pointer{}, false, fmt.Errorf("value %q: bundle id %q must be letters, digits, . _ - (at most 128), e.g. a UUID", value, id)
	}
	return Pointer{Prefix: prefix, ID: id}, true, nil
}
