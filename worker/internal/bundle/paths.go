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
		return "", fmt.Errorf("path %q is absolute: paths must be relative to their folder", p)
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
// carry a write outside. The check runs before anything is created (on the
// deepest part of the path that exists) and again after.
func prepareParent(root, dest string) error {
	parent := filepath.Dir(dest)
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", root, err)
	}
	if err := resolvesWithin(realRoot, root, deepestExisting(parent)); err != nil {
		return err
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", parent, err)
	}
	if err := resolvesWithin(realRoot, root, parent); err != nil {
		return err
	}
	// Never write through an existing symlink at the destination itself.
	if fi, err := os.Lstat(dest); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if err := os.Remove(dest); err != nil {
			return fmt.Errorf("replace symlink %s: %w", dest, err)
		}
	}
	return nil
}

// deepestExisting returns p or its nearest ancestor that exists.
func deepestExisting(p string) string {
	for {
		if _, err := os.Lstat(p); err == nil {
			return p
		}
		up := filepath.Dir(p)
		if up == p {
			return p
		}
		p = up
	}
}

// resolvesWithin checks that path, with every symlink resolved, is inside realRoot.
func resolvesWithin(realRoot, root, path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", path, err)
	}
	if !within(realRoot, real) {
		return fmt.Errorf("%s resolves to %s, outside %s", path, real, root)
	}
	return nil
}

// checkSymlinkOnDisk refuses a link whose target, taken from the real
// (symlink-resolved) directory it is created in, leaves root.
func checkSymlinkOnDisk(root, linkPath, target string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", root, err)
	}
	realDir, err := filepath.EvalSymlinks(filepath.Dir(linkPath))
	if err != nil {
		return fmt.Errorf("resolve %s: %w", filepath.Dir(linkPath), err)
	}
	if filepath.IsAbs(target) || !within(realRoot, filepath.Join(realDir, target)) {
		return fmt.Errorf("symlink %s -> %s escapes %s", linkPath, target, root)
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
