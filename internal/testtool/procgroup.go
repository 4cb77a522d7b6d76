package testtool

import (
	"os/exec"
	"syscall"
)

// KillGroupOnCancel starts cmd in a process group of its own and makes
// ending its context kill the whole group (a go build with every compiler
// and linker it started, a wrapper script with the program behind it).
// cmd must come from exec.CommandContext.
func KillGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
