package bundle

import (
	"fmt"
	"path"
	"strings"
)

// Where a bundle may install, relative to the ComfyUI root: a file or folder
// inside one of the model folders (models/checkpoints/, models/loras/, ...,
// models/other/) or one custom node folder under custom_nodes/. That is
// everything the backend's asset kinds map to; ComfyUI's code, its venv, the
// input/output/user folders and the bundle state files are never reachable,
// and a bundle never replaces a whole category folder (a later bundle that
// drops the path would delete the folder with everything in it).
const (
	modelsTop      = "models"
	customNodesTop = "custom_nodes"
)

// CheckTargetPath cleans a manifest target_path (or a line of the installed
// paths file) and refuses one that could reach outside the allowed places.
func CheckTargetPath(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("target_path is empty: give a path such as models/checkpoints/sdxl.safetensors")
	}
	if strings.ContainsAny(p, "\\\x00") {
		return "", fmt.Errorf("target_path %q contains a backslash or NUL", p)
	}
	if strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("target_path %q is absolute: give it relative to the ComfyUI root, e.g. models/checkpoints/sdxl.safetensors", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", fmt.Errorf("target_path %q contains ..: give it relative to the ComfyUI root without ..", p)
		}
	}
	c := path.Clean(p)
	segs := strings.Split(c, "/")
	switch {
	case segs[0] == modelsTop && len(segs) >= 3, segs[0] == customNodesTop && len(segs) >= 2:
		return c, nil
	}
	return "", fmt.Errorf("target_path %q is not inside a model folder or custom node folder: use models/<folder>/<name> or custom_nodes/<name> (ComfyUI's code, venv and state files are not bundle targets)", p)
}

// nested reports whether a and b are the same path or one contains the other.
func nested(a, b string) bool {
	return a == b || strings.HasPrefix(b, a+"/") || strings.HasPrefix(a, b+"/")
}
