package bundle

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// move is one rename of the switch, kept so it can be undone.
type move struct{ from, to string }

// switchIn makes the staged bundle the installed one:
//  1. mark the switch as in progress;
//  2. move out of the root every path of the previous bundle and every
//     existing path the new bundle installs (into staging/old);
//  3. move the staged paths in;
//  4. write the installed paths, then the active bundle id;
//  5. clear the mark.
//
// Any failure undoes every rename and restores both state files, so the
// previous bundle stays exactly as it was. Only renames happen here (no
// download), so the window is short. Deleting staging/old afterwards is what
// removes the previous bundle's paths the new one no longer has: only paths
// listed in the previous installed paths file (or replaced by the new bundle)
// ever get there.
func (sy *Syncer) switchIn(r root, st staging, id string, newPaths, oldPaths []string) (removed []string, err error) {
	oldInstalled, err := r.readFileOrNil(installedPathsName)
	if err != nil {
		return nil, err
	}
	oldActive, err := r.readFileOrNil(activeIDName)
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(r.join(switchMarkerName), []byte(id+"\n")); err != nil {
		return nil, fmt.Errorf("mark the switch: %w", err)
	}
	var done []move
	undo := func(cause error) error {
		var errs []error
		for i := len(done) - 1; i >= 0; i-- {
			if err := os.Rename(done[i].to, done[i].from); err != nil {
				errs = append(errs, err)
			}
		}
		errs = append(errs, r.restoreFile(installedPathsName, oldInstalled), r.restoreFile(activeIDName, oldActive))
		if err := errors.Join(errs...); err != nil {
			// The marker stays: the next run re-applies instead of skipping.
			return fmt.Errorf("%w; undoing the switch also failed (the next run re-applies the bundle): %v", cause, err)
		}
		os.Remove(r.join(switchMarkerName))
		return cause
	}
	realRoot, err := filepath.EvalSymlinks(string(r))
	if err != nil {
		return nil, undo(err)
	}

	isNew := map[string]bool{}
	for _, p := range newPaths {
		isNew[p] = true
	}
	for _, p := range outermost(append(append([]string{}, oldPaths...), newPaths...)) {
		src := r.join(p)
		if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, undo(err)
		}
		// A rename follows symlinks in the parent path: never move anything
		// that really lives outside the root.
		if err := resolvesWithin(realRoot, string(r), filepath.Dir(src)); err != nil {
			if !isNew[p] {
				sy.Log.Warn("previous bundle path left alone: its folder leaves the ComfyUI root", "path", p, "error", err.Error())
				continue
			}
			return nil, undo(refused(err))
		}
		dst := st.oldPath(p)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, undo(err)
		}
		if err := os.Rename(src, dst); err != nil {
			return nil, undo(fmt.Errorf("move %s out of the way: %w", src, err))
		}
		done = append(done, move{from: src, to: dst})
		if !isNew[p] {
			removed = append(removed, p)
		}
	}
	for _, p := range newPaths {
		dst := r.join(p)
		if err := prepareParent(string(r), dst); err != nil {
			return nil, undo(refused(err))
		}
		if err := os.Rename(st.newPath(p), dst); err != nil {
			return nil, undo(fmt.Errorf("move %s into place: %w", p, err))
		}
		done = append(done, move{from: st.newPath(p), to: dst})
	}
	if err := writeAtomic(r.join(installedPathsName), formatInstalledPaths(newPaths)); err != nil {
		return nil, undo(fmt.Errorf("write %s: %w", installedPathsName, err))
	}
	if err := sy.beforeActiveWrite(); err != nil {
		return nil, undo(err)
	}
	if err := writeAtomic(r.join(activeIDName), []byte(id+"\n")); err != nil {
		return nil, undo(fmt.Errorf("write %s: %w", activeIDName, err))
	}
	if err := os.Remove(r.join(switchMarkerName)); err != nil {
		sy.Log.Warn("could not clear the switch marker; the next boot re-applies the bundle", "error", err.Error())
	}
	return removed, nil
}

// beforeActiveWrite is a test hook (a failure between the two state files).
func (sy *Syncer) beforeActiveWrite() error {
	if sy.testHookBeforeActive != nil {
		return sy.testHookBeforeActive()
	}
	return nil
}

// outermost sorts and de-duplicates paths and drops those inside another
// listed path (moving the outer one moves them too).
func outermost(paths []string) []string {
	sort.Strings(paths)
	var out []string
next:
	for _, p := range paths {
		for _, o := range out {
			if o == p || strings.HasPrefix(p, o+"/") {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}
