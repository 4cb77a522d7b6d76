// Package modroot finds the repository's Go module root, so code run from
// the root (cdk synth) and from a package folder (go test) finds the same
// files.
package modroot

import (
	"errors"
	"os"
	"path/filepath"
)

// Find returns the closest folder holding go.mod, from the working
// directory up.
func Find() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
