package bundle

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// member is one archive entry, whatever the archive format.
type member struct {
	name    string
	dir     bool
	symlink string // link target when a symlink
	open    func() (io.ReadCloser, error)
}

// extract scans every member first (so a bad one aborts before anything is
// written), then writes them under dir, which is inside root.
func extract(root, dir string, members func(visit func(member) error) error) error {
	var errs []error
	links := map[string]bool{} // archive paths (relative to dir) made symlinks so far
	if err := members(func(m member) error {
		errs = append(errs, checkMember(root, dir, m, links))
		return nil
	}); err != nil {
		return err
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("archive rejected: %w", err)
	}
	return members(func(m member) error { return writeMember(root, dir, m) })
}

// checkMember refuses an entry that leaves dir, a symlink that leaves root,
// and any entry whose parent path goes through a symlink an earlier entry
// made: symlink checks are lexical, so `a -> .` then `a/l -> ../..` would
// otherwise plant a link that escapes (and `a/l/x/f` would write through it).
func checkMember(root, dir string, m member, links map[string]bool) error {
	rel, err := relativeInside(m.name)
	if err != nil {
		return fmt.Errorf("entry %q: %w", m.name, err)
	}
	for p := filepath.Dir(rel); p != "."; p = filepath.Dir(p) {
		if links[p] {
			return fmt.Errorf("entry %q: its path goes through symlink %q of the same archive, which could escape the target directory", m.name, p)
		}
	}
	if m.symlink == "" {
		delete(links, rel) // a later file or directory replaces the link
		return nil
	}
	links[rel] = true
	return checkSymlink(root, filepath.Join(dir, rel), m.symlink)
}

func writeMember(root, dir string, m member) error {
	dest, err := safeJoin(dir, m.name)
	if err != nil {
		return err
	}
	if m.dir {
		if err := prepareParent(root, filepath.Join(dest, "x")); err != nil {
			return err
		}
		return nil
	}
	if err := prepareParent(root, dest); err != nil {
		return err
	}
	if m.symlink != "" {
		// Checked again against the real parent: the lexical check above
		// cannot see symlinks that were already on disk.
		if err := checkSymlinkOnDisk(root, dest, m.symlink); err != nil {
			return err
		}
		_ = os.Remove(dest)
		if err := os.Symlink(m.symlink, dest); err != nil {
			return fmt.Errorf("create symlink %s: %w", dest, err)
		}
		return nil
	}
	rc, err := m.open()
	if err != nil {
		return fmt.Errorf("open archive entry %s: %w", m.name, err)
	}
	defer rc.Close()
	f, err := os.OpenFile(dest, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", dest, err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", dest, err)
	}
	return f.Close()
}

// zipMembers lists a zip file's entries.
func zipMembers(path string) func(func(member) error) error {
	return func(visit func(member) error) error {
		zr, err := zip.OpenReader(path)
		if err != nil {
			return fmt.Errorf("open zip: %w", err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			m := member{name: f.Name, dir: f.FileInfo().IsDir(), open: f.Open}
			switch mode := f.Mode(); {
			case mode&os.ModeSymlink != 0:
				rc, err := f.Open()
				if err != nil {
					return fmt.Errorf("read zip symlink %s: %w", f.Name, err)
				}
				target, err := io.ReadAll(io.LimitReader(rc, 4096))
				rc.Close()
				if err != nil {
					return fmt.Errorf("read zip symlink %s: %w", f.Name, err)
				}
				m.symlink = string(target)
				if m.symlink == "" {
					return fmt.Errorf("zip symlink %s has no target", f.Name)
				}
			case !mode.IsRegular() && !mode.IsDir():
				return fmt.Errorf("zip entry %s has unsupported type %v", f.Name, mode.Type())
			}
			if err := visit(m); err != nil {
				return err
			}
		}
		return nil
	}
}

// tarGzMembers lists a .tar.gz file's entries, streaming it from disk.
func tarGzMembers(path string) func(func(member) error) error {
	return func(visit func(member) error) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("open gzip: %w", err)
		}
		tr := tar.NewReader(gz)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read tar: %w", err)
			}
			m := member{name: h.Name, open: func() (io.ReadCloser, error) { return io.NopCloser(tr), nil }}
			switch h.Typeflag {
			case tar.TypeReg:
			case tar.TypeDir:
				m.dir = true
			case tar.TypeSymlink:
				m.symlink = h.Linkname
				if m.symlink == "" {
					return fmt.Errorf("tar symlink %s has no target", h.Name)
				}
			case tar.TypeXGlobalHeader:
				continue
			default:
				return fmt.Errorf("tar entry %s has unsupported type %q (hard links and devices are refused)", h.Name, h.Typeflag)
			}
			if err := visit(m); err != nil {
				return err
			}
		}
	}
}
