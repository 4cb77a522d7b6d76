package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// staging is the folder a bundle is prepared in:
//
//	dl/   downloads, one file per asset
//	new/  the bundle's paths laid out as under the ComfyUI root
//	old/  what the switch moves out of the root (deleted at the end)
type staging struct {
	dir string
}

func (s staging) dl(i int) string         { return filepath.Join(s.dir, "dl", fmt.Sprintf("asset-%d", i)) }
func (s staging) newRoot() string         { return filepath.Join(s.dir, "new") }
func (s staging) oldRoot() string         { return filepath.Join(s.dir, "old") }
func (s staging) newPath(p string) string { return filepath.Join(s.newRoot(), p) }
func (s staging) oldPath(p string) string { return filepath.Join(s.oldRoot(), p) }

func newStaging(dir string) (staging, error) {
	s := staging{dir: dir}
	for _, d := range []string{filepath.Join(dir, "dl"), s.newRoot(), s.oldRoot()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return s, fmt.Errorf("create staging folder %s: %w", d, err)
		}
	}
	return s, nil
}

// stageAsset downloads one asset, checks its sha256 when the manifest gives
// one, and puts it at its target path inside staging/new.
func (sy *Syncer) stageAsset(ctx context.Context, st staging, i int, a Asset) (int64, error) {
	tmp := st.dl(i)
	n, err := sy.download(ctx, a, tmp)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp)
	dest := st.newPath(a.Target())
	switch a.Action {
	case ActionCopy:
		if err := prepareParent(st.newRoot(), dest); err != nil {
			return 0, err
		}
		if err := os.Rename(tmp, dest); err != nil {
			return 0, fmt.Errorf("stage %s: %w", a.Target(), err)
		}
	case ActionExtractZip:
		err = extract(st.newRoot(), dest, zipMembers(tmp))
	case ActionExtractTarGz:
		err = extract(st.newRoot(), dest, tarGzMembers(tmp))
	default:
		err = fmt.Errorf("unknown action %q", a.Action)
	}
	if err != nil {
		return 0, refused(fmt.Errorf("%s of s3://%s/%s into %s: %w", a.Action, sy.Bucket, a.Key(), a.Target(), err))
	}
	return n, readableByAll(dest)
}

// download streams the object to path, hashing it on the way.
func (sy *Syncer) download(ctx context.Context, a Asset, path string) (int64, error) {
	obj, err := sy.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(sy.Bucket), Key: aws.String(a.Key())})
	if err != nil {
		return 0, fmt.Errorf("download s3://%s/%s: %w", sy.Bucket, a.Key(), err)
	}
	defer obj.Body.Close()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", path, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), obj.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("download s3://%s/%s: %w", sy.Bucket, a.Key(), err)
	}
	if a.SHA256 != "" {
		if got := hex.EncodeToString(h.Sum(nil)); got != a.SHA256 {
			return 0, refused(fmt.Errorf("sha256 of s3://%s/%s is %s, the manifest says %s", sy.Bucket, a.Key(), got, a.SHA256))
		}
	}
	return n, nil
}

// readableByAll sets 0644 on files and 0755 on folders under p (not through
// symlinks), whatever the archive or umask said: ComfyUI runs as another
// user and only reads what the bundle installs.
func readableByAll(p string) error {
	return filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			return nil
		case d.IsDir():
			return os.Chmod(path, 0o755)
		default:
			return os.Chmod(path, 0o644)
		}
	})
}
