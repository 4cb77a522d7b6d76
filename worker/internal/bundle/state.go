package bundle

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bp/infra/bootcontract"
)

// State files directly in the ComfyUI root (names from bootcontract, which
// keeps the old installer's names), plus the sync's own working names.
var (
	bakedIDName        = filepath.Base(bootcontract.BakedBundleIDFile)
	activeIDName       = filepath.Base(bootcontract.ActiveBundleIDFile)
	installedPathsName = filepath.Base(bootcontract.InstalledBundlePathsFile)
)

const (
	// stagingName is where a bundle is downloaded and unpacked before the
	// switch: inside the root, so moving into place is a rename.
	stagingName = ".bundle_staging"
	// switchMarkerName exists only while files are being moved; found at
	// start it means a run died mid-switch, so the disk matches no bundle id
	// and nothing may be skipped.
	switchMarkerName = ".bundle_switch_in_progress"
	lockName         = ".bundle_sync.lock"
)

// root is the ComfyUI root a sync works in.
type root string

func (r root) join(name string) string { return filepath.Join(string(r), name) }

// readID returns the trimmed content of an id file, "" when it is absent.
func (r root) readID(name string) (string, error) {
	b, err := os.ReadFile(r.join(name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", r.join(name), err)
	}
	return strings.TrimSpace(string(b)), nil
}

// readFileOrNil returns a file's bytes, nil when it is absent.
func (r root) readFileOrNil(name string) ([]byte, error) {
	b, err := os.ReadFile(r.join(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.join(name), err)
	}
	return b, nil
}

// restoreFile puts back bytes read by readFileOrNil (nil: the file was absent).
func (r root) restoreFile(name string, b []byte) error {
	if b == nil {
		err := os.Remove(r.join(name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return writeAtomic(r.join(name), b)
}

// parseInstalledPaths reads the installed paths file: one path per line,
// relative to the root (an absolute path inside the root is accepted too).
// Lines that are not valid bundle targets are returned separately and never
// touched: that file must not be able to make the sync delete the venv.
func parseInstalledPaths(b []byte, rootDir string) (valid, refused []string) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		rel := line
		if strings.HasPrefix(line, "/") {
			r, err := filepath.Rel(rootDir, line)
			if err != nil {
				refused = append(refused, line)
				continue
			}
			rel = r
		}
		c, err := CheckTargetPath(rel)
		if err != nil {
			refused = append(refused, line)
			continue
		}
		valid = append(valid, c)
	}
	return valid, refused
}

func formatInstalledPaths(paths []string) []byte {
	var b bytes.Buffer
	for _, p := range paths {
		b.WriteString(p + "\n")
	}
	return b.Bytes()
}

// writeAtomic replaces path with data (0644, readable by ComfyUI's user):
// written beside it, synced, then renamed.
func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
