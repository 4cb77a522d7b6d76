package naming

import "testing"

// TestImageTagsFollowThePipeline: the tags the image pipeline pushes
// (docs/requirements.md, "S1. CI/CD names"): the moving
// nginx-latest, php-latest and latest by default, the pinned build with
// -c imageTag=<sha7>.
func TestImageTagsFollowThePipeline(t *testing.T) {
	cases := []struct{ prefix, pinned, want string }{
		{"nginx-", "", "nginx-latest"},
		{"php-", "", "php-latest"},
		{"", "", "latest"},
		{"nginx-", "abc1234", "nginx-abc1234"},
		{"php-", "abc1234", "php-abc1234"},
		{"", "abc1234", "abc1234"},
	}
	for _, c := range cases {
		if got := ImageTag(c.prefix, c.pinned); got != c.want {
			t.Errorf("ImageTag(%q, %q) = %q, want %q", c.prefix, c.pinned, got, c.want)
		}
	}
}
