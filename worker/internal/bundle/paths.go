package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// relativeInside cleans a manifest or archive path and refuses one that is
// absolute, empty or climbs out with "..".
func relativeInside(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("empty path")
	}
	if strings.Contains(p, "\\") || strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("path %q contains a backslash or NUL", p)
	}
	if filepath.IsAbs(p) {
		return "", fmt.Errorf("path %q is absolute: paths must be relative to the models directory", p)
	}
	c := filepath.Clean(p)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("path %q escapes the target directory", p)
	}
	return c, nil
}

// within reports whether path is root or below it (both cleaned, absolute).
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

// safeJoin joins a relative path under dir (which is inside root).
func safeJoin(dir, rel string) (string, error) {
	c, err := relativeInside(rel)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, c), nil
}

// prepareParent creates dest's parent and checks that, with every symlink
// resolved, it is still inside root: an existing symlink in the path must not
// carry a write outside.
func prepareParent(root, dest string) error {
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", parent, err)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", root, err)
	}
	realParent, err := filepath.EvalSymlinks(parent)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", parent, err)
	}
	if !within(realRoot, realParent) {
		return fmt.Errorf("%s resolves to %s, outside %s", parent, realParent, root)
	}
	// Never write through an existing symlink at the destination itself.
	if fi, err := os.Lstat(dest); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if err := os.Remove(dest); err != nil {
			return fmt.Errorf("replace symlink %s: %w", dest, err)
		}
	}
	return nil
}

// checkSymlink refuses a link whose target leaves root.
func checkSymlink(root, linkPath, target string) error {
	if filepath.IsAbs(target) {
		return fmt.Errorf("symlink %s -> %s is absolute", linkPath, target)
	}
	resolved := filepath.Join(filepath.Dir(linkPath), target)
	if !within(root, resolved) {
		return fmt.Errorf("symlink %s -> %s escapes %s", linkPath, target, root)
	}
	return nil
}
