//go:build !unix

package test

import (
	"errors"
)

// Without named pipes cfn-lint reads plain files, started once they are written.
func mkfifo(string) error { return errors.New("no named pipes") }
