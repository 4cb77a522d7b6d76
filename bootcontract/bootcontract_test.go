package bootcontract

import (
	"path"
	"testing"
)

// The AMI creates LogDir and the user data creates dir(EnvFile) before writing
// the agent config; files elsewhere would have no folder to land in.
func TestLogAndAgentPathsShareTheirFolders(t *testing.T) {
	for _, f := range []string{WorkerLogFile, ComfyUILogFile} {
		if path.Dir(f) != LogDir {
			t.Errorf("%s is not directly in LogDir %s", f, LogDir)
		}
	}
	if WorkerLogFile == ComfyUILogFile {
		t.Error("worker and ComfyUI share a log file; they need separate streams")
	}
	if path.Dir(CloudWatchAgentConfig) != path.Dir(EnvFile) {
		t.Errorf("agent config %s is not next to %s", CloudWatchAgentConfig, EnvFile)
	}
	if path.Dir(CloudWatchAgentCtl) != path.Dir(CloudWatchAgentBinary) {
		t.Errorf("agent ctl %s and binary %s are in different folders of the package", CloudWatchAgentCtl, CloudWatchAgentBinary)
	}
}

// The worker finds the bundle state files by name inside the root it is
// given (--root), so they must sit directly in ComfyUIHome.
func TestBundleStateFilesAreInTheComfyUIRoot(t *testing.T) {
	for _, f := range []string{BakedBundleIDFile, ActiveBundleIDFile, InstalledBundlePathsFile} {
		if path.Dir(f) != ComfyUIHome {
			t.Errorf("%s is not directly in %s", f, ComfyUIHome)
		}
	}
	for _, d := range []string{ComfyUIModelsDir, ComfyUICustomNodesDir, ComfyUIVenv} {
		if path.Dir(d) != ComfyUIHome {
			t.Errorf("%s is not directly in %s", d, ComfyUIHome)
		}
	}
}
