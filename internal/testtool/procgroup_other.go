//go:build !unix

package testtool

import "os/exec"

// KillGroupOnCancel leaves cmd as it is: without process groups ending its
// context kills the process alone.
func KillGroupOnCancel(*exec.Cmd) {}
