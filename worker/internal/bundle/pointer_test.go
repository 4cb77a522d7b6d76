package bundle

import (
	"strings"
	"testing"
)

// The backend writes the bundle's S3 prefix, bundles/<bundle_id>, maybe with
// a trailing "/", or "none".
func TestParsePointer(t *testing.T) {
	const id = "7f1c2a4e-5b6d-4e8f-9a0b-1c2d3e4f5a6b"
	for _, c := range []struct {
		value, prefix, id string
		none              bool
		err               string
	}{
		{value: "bundles/" + id, prefix: "bundles/" + id, id: id},
		{value: "bundles/" + id + "/", prefix: "bundles/" + id, id: id},
		{value: " bundles/" + id + "/\n", prefix: "bundles/" + id, id: id},
		{value: "none", none: true},
		{value: "", err: "not a bundle prefix"},
		{value: "/", err: "not a bundle prefix"},
		{value: "bundles//" + id, err: "empty, . or .."},
		{value: "/bundles/" + id, err: "empty, . or .."},
		{value: "bundles/../" + id, err: "empty, . or .."},
		{value: "bundles/a b", err: "bundle id"},
	} {
		p, ok, err := ParsePointer(c.value)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.value, err, c.err)
			}
		case err != nil:
			t.Errorf("%q: %v", c.value, err)
		case ok == c.none:
			t.Errorf("%q: ok=%v, want none=%v", c.value, ok, c.none)
		case p.Prefix != c.prefix || p.ID != c.id:
			t.Errorf("%q: %+v, want prefix %q id %q", c.value, p, c.prefix, c.id)
		case ok && p.ManifestKey() != "bundles/"+id+"/manifest.json":
			t.Errorf("%q: manifest key %s", c.value, p.ManifestKey())
		}
	}
}
