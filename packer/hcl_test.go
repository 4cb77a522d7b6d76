package packer_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/packer/internal/bootfiles"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func TestTemplate_SourceIsUbuntuJammyFromCanonical(t *testing.T) {
	tpl := parseTemplate(t)
	src := tpl.block(t, "source", "amazon-ebs", "gpu")
	filter := childBlock(t, src.Body, "source_ami_filter")

	owners := stringList(t, literal(t, filter.Body, "owners"))
	if !equalStrings(owners, []string{"099720109477"}) {
		t.Errorf("owners = %v, want [099720109477] (Canonical)", owners)
	}
	if !literal(t, filter.Body, "most_recent").True() {
		t.Error("most_recent must be true")
	}
	filters := literal(t, filter.Body, "filters")
	name := filters.GetAttr("name").AsString()
	if name != "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*" {
		t.Errorf("filters.name = %q, want the Ubuntu 22.04 amd64 hvm-ssd server images", name)
	}
	if got := literal(t, src.Body, "ssh_username").AsString(); got != "ubuntu" {
		t.Errorf("ssh_username = %q, want ubuntu", got)
	}
}

func TestTemplate_RootVolumeIsEncryptedGP3(t *testing.T) {
	tpl := parseTemplate(t)
	src := tpl.block(t, "source", "amazon-ebs", "gpu")
	disk := childBlock(t, src.Body, "launch_block_device_mappings")
	if got := literal(t, disk.Body, "device_name").AsString(); got != "/dev/sda1" {
		t.Errorf("device_name = %q, want the Ubuntu root device /dev/sda1", got)
	}
	if got := literal(t, disk.Body, "volume_type").AsString(); got != "gp3" {
		t.Errorf("volume_type = %q, want gp3", got)
	}
	size, _ := literal(t, disk.Body, "volume_size").AsBigFloat().Int64()
	if size != 100 {
		t.Errorf("volume_size = %d, want 100 GiB", size)
	}
	for _, key := range []string{"encrypted", "delete_on_termination"} {
		if !literal(t, disk.Body, key).True() {
			t.Errorf("%s must be true", key)
		}
	}
}

func TestTemplate_BuildInstanceRequiresIMDSv2(t *testing.T) {
	tpl := parseTemplate(t)
	src := tpl.block(t, "source", "amazon-ebs", "gpu")
	md := childBlock(t, src.Body, "metadata_options")
	if got := literal(t, md.Body, "http_tokens").AsString(); got != "required" {
		t.Errorf("metadata_options.http_tokens = %q, want required", got)
	}
	if got := literal(t, src.Body, "imds_support").AsString(); got != "v2.0" {
		t.Errorf("imds_support = %q, want v2.0 so instances from the AMI default to IMDSv2", got)
	}
}

func TestTemplate_TagsCarryProvenance(t *testing.T) {
	tpl := parseTemplate(t)
	ctx := fullContext(t, tpl)
	src := tpl.block(t, "source", "amazon-ebs", "gpu")
	vars := variableValues(t, tpl)
	for _, attr := range []string{"tags", "snapshot_tags"} {
		a, ok := src.Body.Attributes[attr]
		if !ok {
			t.Fatalf("source has no %s", attr)
		}
		tags, diags := a.Expr.Value(ctx)
		if diags.HasErrors() {
			t.Fatalf("evaluate %s: %s", attr, diags.Error())
		}
		want := map[string]string{
			"Project":       vars["app"].AsString(),
			"Stage":         vars["stage"].AsString(),
			"FleetSlug":     vars["fleet_slug"].AsString(),
			"ComfyUIRef":    vars["comfyui_ref"].AsString(),
			"BundleId":      vars["bundle_id"].AsString(),
			"WorkerVersion": vars["worker_version"].AsString(),
			"BuiltBy":       "packer",
		}
		for k, v := range want {
			if !tags.Type().HasAttribute(k) {
				t.Errorf("%s lacks tag %s", attr, k)
				continue
			}
			if got := tags.GetAttr(k).AsString(); got != v {
				t.Errorf("%s[%s] = %q, want %q", attr, k, got, v)
			}
		}
	}
	name := evalString(t, ctx, src.Body, "ami_name")
	if !strings.Contains(name, vars["fleet_slug"].AsString()) || !strings.Contains(name, "20260102-030405") {
		t.Errorf("ami_name = %q, want the fleet slug and a timestamp", name)
	}
}

// The scripts run in this order; any change must be deliberate.
func TestTemplate_ProvisionerOrder(t *testing.T) {
	tpl := parseTemplate(t)
	steps := provisionerSteps(t, tpl, fullContext(t, tpl))

	var scripts []string
	for _, s := range steps {
		if strings.HasPrefix(s.name, "script:") {
			scripts = append(scripts, strings.TrimPrefix(s.name, "script:"))
		}
	}
	want := []string{"install-nvidia.sh", "create-service-user.sh", "install-comfyui.sh", "set-comfyui-owners.sh",
		"install-worker.sh", "install-units.sh", "install-imds-block.sh", "install-logging.sh", "install-cloudwatch-agent.sh", "bake-bundle.sh", "self-check.sh"}
	if !equalStrings(scripts, want) {
		t.Fatalf("script order = %v, want %v", scripts, want)
	}

	before := func(a, b string) {
		t.Helper()
		ia, ib := stepIndex(steps, a), stepIndex(steps, b)
		if ia < 0 || ib < 0 || ia >= ib {
			t.Errorf("%s (step %d) must come before %s (step %d)", a, ia, b, ib)
		}
	}
	before("upload:worker-linux-amd64", "script:install-worker.sh")
	before("upload:units", "script:install-units.sh")
	before("upload:comfyui-imds-block", "script:install-imds-block.sh")
	// The bake writes models as the worker user into the folders it owns.
	before("script:set-comfyui-owners.sh", "script:bake-bundle.sh")
	before("upload:comfyui-worker", "script:install-logging.sh")
	// The log folder needs the service user; the self-check needs the agent.
	before("script:create-service-user.sh", "script:install-logging.sh")
	before("script:install-comfyui.sh", "upload:worker-linux-amd64")

	reboot := -1
	for i, s := range steps {
		if strings.Contains(s.name, "reboot") {
			reboot = i
			if s.block.Body.Attributes["expect_disconnect"] == nil {
				t.Error("the reboot provisioner must set expect_disconnect")
			}
		}
	}
	if reboot <= stepIndex(steps, "script:install-nvidia.sh") || reboot >= stepIndex(steps, "script:install-comfyui.sh") {
		t.Errorf("a reboot must load the driver between install-nvidia.sh and install-comfyui.sh; steps: %v", steps)
	}
	// Nothing after the self-check may change what it checked.
	for _, s := range steps[stepIndex(steps, "script:self-check.sh")+1:] {
		if !strings.HasPrefix(s.name, "inline:rm -rf") {
			t.Errorf("step %q after the self-check; only cleanup may follow it", s.name)
		}
	}
}

// Each script that touches the boot path gets local.boot_env, the paths
// generated from bootcontract, and the template's upload targets agree.
func TestTemplate_InstallPathsComeFromBootcontract(t *testing.T) {
	tpl := parseTemplate(t)
	ctx := fullContext(t, tpl)

	bootEnvVal := ctx.Variables["local"].GetAttr(bootfiles.BootLocalName)
	if got := stringList(t, bootEnvVal); !equalStrings(got, bootfiles.BootEnvStrings()) {
		t.Fatalf("local.%s = %v, want %v (run go run ./packer/cmd/genunits)", bootfiles.BootLocalName, got, bootfiles.BootEnvStrings())
	}
	for _, kv := range []string{
		"BOOT_WORKER_BINARY=" + bootcontract.WorkerBinary,
		"BOOT_COMFYUI_PYTHON=" + bootcontract.ComfyUIPython,
		"BOOT_COMFYUI_VENV=" + bootcontract.ComfyUIVenv,
		"BOOT_ENV_FILE=" + bootcontract.EnvFile,
		"BOOT_WORKER_STATE_DIR=" + bootcontract.WorkerStateDir,
	} {
		if !slices.Contains(stringList(t, bootEnvVal), kv) {
			t.Errorf("local.%s lacks %s", bootfiles.BootLocalName, kv)
		}
	}

	steps := provisionerSteps(t, tpl, ctx)
	for _, s := range steps {
		if !strings.HasPrefix(s.name, "script:") || s.name == "script:install-nvidia.sh" {
			continue
		}
		env := s.block.Body.Attributes["environment_vars"]
		if env == nil {
			t.Errorf("%s has no environment_vars", s.name)
			continue
		}
		v, diags := env.Expr.Value(ctx)
		if diags.HasErrors() {
			t.Fatalf("%s environment_vars: %s", s.name, diags.Error())
		}
		got := stringList(t, v)
		for _, kv := range bootfiles.BootEnvStrings() {
			if !slices.Contains(got, kv) {
				t.Errorf("%s does not receive %s", s.name, kv)
			}
		}
	}

	// The worker upload lands where install-worker.sh reads it.
	upload := steps[stepIndex(steps, "upload:worker-linux-amd64")].block
	dest := evalString(t, ctx, upload.Body, "destination")
	install := steps[stepIndex(steps, "script:install-worker.sh")].block
	v, _ := install.Body.Attributes["environment_vars"].Expr.Value(ctx)
	if !slices.Contains(stringList(t, v), "WORKER_SRC="+dest) {
		t.Errorf("install-worker.sh does not get WORKER_SRC=%s", dest)
	}
	src := evalString(t, ctx, upload.Body, "source")
	if filepath.ToSlash(filepath.Clean(src)) != "../dist/worker-linux-amd64" {
		t.Errorf("worker upload source = %q, want make worker's dist/worker-linux-amd64", src)
	}

	// The generated logrotate config lands where install-logging.sh reads it.
	lr := steps[stepIndex(steps, "upload:"+filepath.Base(bootfiles.LogrotateFile))].block
	if got := filepath.ToSlash(filepath.Clean(evalString(t, ctx, lr.Body, "source"))); got != bootfiles.LogrotateFile {
		t.Errorf("logrotate upload source = %q, want the generated %s", got, bootfiles.LogrotateFile)
	}
	logging := steps[stepIndex(steps, "script:install-logging.sh")].block
	v, _ = logging.Body.Attributes["environment_vars"].Expr.Value(ctx)
	if want := "LOGROTATE_SRC=" + evalString(t, ctx, lr.Body, "destination"); !slices.Contains(stringList(t, v), want) {
		t.Errorf("install-logging.sh does not get %s", want)
	}
}

func TestTemplate_EveryVariableUsedIsDeclaredAndViceVersa(t *testing.T) {
	tpl := parseTemplate(t)
	declared := map[string]bool{}
	for _, b := range tpl.blocks("variable") {
		declared[b.Labels[0]] = true
		if b.Body.Attributes["type"] == nil || b.Body.Attributes["description"] == nil {
			t.Errorf("variable %s needs a type and a description", b.Labels[0])
		}
	}
	used := map[string]bool{}
	locals := tpl.locals(t)
	usedLocals := map[string]bool{}
	for _, body := range tpl.files {
		for _, b := range body.Blocks {
			if b.Type == "variable" {
				continue // a validation naming its own variable is not a use
			}
			for n := range references(b.Body, "var") {
				used[n] = true
			}
			for n := range references(b.Body, "local") {
				usedLocals[n] = true
			}
		}
	}
	for n := range used {
		if !declared[n] {
			t.Errorf("var.%s is used but not declared", n)
		}
	}
	for n := range declared {
		if !used[n] {
			t.Errorf("variable %s is declared but never used", n)
		}
	}
	for n := range usedLocals {
		if locals[n] == nil {
			t.Errorf("local.%s is used but not defined", n)
		}
	}
	for n := range locals {
		if !usedLocals[n] {
			t.Errorf("local %s is defined but never used", n)
		}
	}
	for name := range parseHCLFile(t, exampleVarFile).Attributes {
		if !declared[name] {
			t.Errorf("%s sets undeclared variable %s", exampleVarFile, name)
		}
	}
}

// validates evaluates every validation block of a variable for one value.
func validates(t *testing.T, tpl template, name string, value cty.Value) bool {
	t.Helper()
	b := tpl.block(t, "variable", name)
	vs := childBlocks(b.Body, "validation")
	if len(vs) == 0 {
		t.Fatalf("variable %s has no validation block", name)
	}
	ctx := evalContext(map[string]cty.Value{name: value}, nil)
	for _, v := range vs {
		ok, diags := v.Body.Attributes["condition"].Expr.Value(ctx)
		if diags.HasErrors() {
			t.Fatalf("variable %s: condition fails to evaluate for %#v: %s", name, value, diags.Error())
		}
		if ok.False() {
			return false
		}
	}
	return true
}

func TestTemplate_ComfyUIRefMustBePinned(t *testing.T) {
	tpl := parseTemplate(t)
	cases := map[string]bool{
		"0123456789abcdef0123456789abcdef01234567": true,
		"v0.3.10": true,
		"master":  false,
		"main":    false,
		"0123456": false, // short sha: ambiguous, may later match another commit
		"0123456789abcdef0123456789abcdef0123456":   false,
		"0123456789ABCDEF0123456789ABCDEF01234567":  false,
		"0123456789abcdef0123456789abcdef012345678": false,
		"v0.3":   false,
		"latest": false,
		"":       false,
	}
	for ref, want := range cases {
		if got := validates(t, tpl, "comfyui_ref", cty.StringVal(ref)); got != want {
			t.Errorf("comfyui_ref %q: valid = %v, want %v", ref, got, want)
		}
	}
	if tpl.block(t, "variable", "comfyui_ref").Body.Attributes["default"] != nil {
		t.Error("comfyui_ref must have no default: every build names its ComfyUI version")
	}
}

func TestTemplate_OtherValidations(t *testing.T) {
	tpl := parseTemplate(t)
	cases := []struct {
		variable string
		value    string
		want     bool
	}{
		{"stage", "staging", true}, {"stage", "production", true}, {"stage", "prod", false},
		{"nvidia_driver_branch", "535", true}, {"nvidia_driver_branch", "latest", false},
		{"cuda_version", "12.2", true}, {"cuda_version", "12", false},
		{"fleet_slug", "gpu-default", true}, {"fleet_slug", "GPU default", false},
		{"bundle_id", "", true}, {"bundle_id", "b-2026.01", true}, {"bundle_id", "../x", false},
		{"models_prefix", "bundles/", true}, {"models_prefix", "bundles", false},
		{"worker_version", "", false}, {"worker_version", "v1.2.3", true},
		{"cloudwatch_agent_version", "1.300064.1b1344", true}, {"cloudwatch_agent_version", "latest", false},
		{"cloudwatch_agent_version", "1.300064.1", false}, {"cloudwatch_agent_version", "../1.2.3b4", false},
	}
	for _, c := range cases {
		if got := validates(t, tpl, c.variable, cty.StringVal(c.value)); got != c.want {
			t.Errorf("%s = %q: valid = %v, want %v", c.variable, c.value, got, c.want)
		}
	}
	// The example var file must pass every validation it is subject to.
	vals := variableValues(t, tpl)
	for _, b := range tpl.blocks("variable") {
		name := b.Labels[0]
		if len(childBlocks(b.Body, "validation")) == 0 {
			continue
		}
		v, ok := vals[name]
		if !ok {
			t.Errorf("variable %s has no default and is not set in %s", name, exampleVarFile)
			continue
		}
		if !validates(t, tpl, name, v) {
			t.Errorf("%s: %s = %#v fails validation", exampleVarFile, name, v)
		}
	}
}

func TestTemplate_ManifestCarriesTheSSMParameter(t *testing.T) {
	tpl := parseTemplate(t)
	ctx := fullContext(t, tpl)
	build := tpl.block(t, "build")
	var manifest *hclsyntax.Block
	for _, pp := range childBlocks(build.Body, "post-processor") {
		if pp.Labels[0] == "manifest" {
			manifest = pp
		}
	}
	if manifest == nil {
		t.Fatal("no manifest post-processor")
	}
	if got := evalString(t, ctx, manifest.Body, "output"); filepath.Clean(got) != "manifest.json" {
		t.Errorf("manifest output = %q, want packer/manifest.json (publish-ami-id.sh's default)", got)
	}
	custom, diags := manifest.Body.Attributes["custom_data"].Expr.Value(ctx)
	if diags.HasErrors() {
		t.Fatalf("custom_data: %s", diags.Error())
	}
	// system-facts section 1: /<app>/ami/fleets/<stage>/<fleet-slug>
	if got := custom.GetAttr("ssm_parameter").AsString(); got != "/bp/ami/fleets/staging/gpu-default" {
		t.Errorf("custom_data.ssm_parameter = %q, want /bp/ami/fleets/staging/gpu-default", got)
	}
}
