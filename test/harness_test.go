// Package test holds the assertion, cdk-nag and snapshot tests over the
// synthesized stages. TestMain builds every app once (one jsii process serves
// the whole test binary and no construct may be added after the first synth)
// and caches each stack's template as plain JSON for the tests to read.
package test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/config"
	"github.com/bp/infra/stacks"
)

// built is one synthesized stage with its templates by stack kind.
type built struct {
	label     string // stage name, or "staging+<variant>"
	stage     stacks.Stage
	templates map[string]Template      // stack kind -> the template as plain JSON
	stacks    map[string]stackArtifact // stack kind -> the rest tests read of it
	// silenced are the findings cdk-nag's reports record as suppressed, by
	// construct path (shared by every build of one app).
	silenced map[string][]nagReportRow
}

var (
	// scratch holds the folders the apps synthesize into, removed at the end.
	scratch []string
	// stages are built from cdk.json exactly as `cdk synth` builds them.
	stages = map[string]*built{}
	// variants are stages built from modified settings, keyed by a test name.
	variants = map[string]*built{}
)

// variantOverrides are extra apps the tests need, each switches a user makes
// on staging. "switched-on": every switch that is off by default, at once:
// plain HTTP without a certificate (blocker 3) in an account shared with
// production, the first deploy with the services at zero, NAT gateways
// instead of the NAT instance, every interface endpoint config accepts, a
// custom media CDN domain with its rate-limiting ACL, and the capacity
// features (a fleet with the On-Demand fallback, the warm buffer and the
// volume initialization rate on, and a fleet pinned to an AMI id). Each
// variant costs a whole stage's synthesis (about 2 s of both cores), so the
// switches share one: they touch different resources, and each test reads
// its own.
var variantOverrides = map[string]map[string]any{
	"switched-on": {
		"certificateArn":              "",
		"allowHttpOnly":               true,
		"account":                     "222222222222", // production's
		"cluster.servicesStartAtZero": true,
		"network.natKind":             "gateway", // staging's preset has a NAT instance
		"network.interfaceEndpoints":  strings.Join(config.InterfaceEndpointNames(), ","),
		"media.cdnDomainName":         "media.staging.example.com",
		"media.cdnCertificateArn":     "arn:aws:acm:us-east-1:222222222222:certificate/00000000-0000-4000-8000-000000000009",
		"media.wafRequestsPer5Min":    3000,
		"fleets": []any{
			map[string]any{"slug": "gpu-default", "maxSize": 4,
				"onDemandFallback":        map[string]any{"enabled": true, "maxInstances": 2, "afterMinutes": 5},
				"warmBuffer":              map[string]any{"enabled": true, "minInstances": 1, "startCron": warmStart, "endCron": warmEnd},
				"rootVolumeInitRateMiBps": 300},
			map[string]any{"slug": "gpu-pinned", "amiId": pinnedAMI},
		},
	},
}

func TestMain(m *testing.M) {
	code := func() int {
		defer func() {
			stopLint()
			for _, dir := range scratch {
				_ = os.RemoveAll(dir)
			}
		}()
		defer jsii.Close()
		if err := buildAll(); err != nil {
			fmt.Fprintln(os.Stderr, "building the app failed:", err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func buildAll() error {
	ctx, err := cdkJSONContext()
	if err != nil {
		return err
	}
	cfgs, err := config.Load(ctx)
	if err != nil {
		return err
	}
	// Each app is synthesized once, as soon as it is built, and hands its
	// templates to cfn-lint (cfnlint_run_test.go), which started before.
	app := newApp(ctx)
	var main []*built
	for _, s := range stacks.Build(app, cfgs) {
		b := &built{label: s.Cfg.Stage, stage: s}
		stages[s.Cfg.Stage] = b
		main = append(main, b)
	}
	startLint((len(main) + len(variantOverrides)) * len(main[0].stage.Stacks())) // at most that many distinct templates
	if err := synth(app, main...); err != nil {
		return err
	}
	for _, b := range main {
		feedLint(b)
	}
	for _, name := range slices.Sorted(maps.Keys(variantOverrides)) {
		vctx := map[string]any{}
		for k, v := range ctx {
			vctx[k] = v
		}
		for k, v := range variantOverrides[name] {
			vctx[k] = v
		}
		vctx[config.StageKey] = "staging"
		cfgs, err := config.Load(vctx)
		if err != nil {
			return fmt.Errorf("variant %s: %w", name, err)
		}
		app := newApp(vctx)
		b := &built{label: "staging+" + name, stage: stacks.Build(app, cfgs)[0]}
		variants[name] = b
		if err := synth(app, b); err != nil {
			return err
		}
		feedLint(b)
	}
	finishLint()
	return synthProbe(ctx)
}

// kinds are the build's stack kinds (network, data, ...), sorted: the order
// tests walk them in, so their failures read the same every run.
func (b *built) kinds() []string { return slices.Sorted(maps.Keys(b.templates)) }

func all() []*built {
	var out []*built
	for _, name := range config.StageNames() {
		out = append(out, stages[name])
	}
	for _, name := range slices.Sorted(maps.Keys(variants)) {
		out = append(out, variants[name])
	}
	return out
}

func newApp(cfgCtx map[string]any) awscdk.App {
	dir, _ := os.MkdirTemp("", "cdk-test-out-")
	scratch = append(scratch, dir)
	ctx := maps.Clone(cfgCtx)
	// No test reads the Lambda code: the assets are not bundled (each gets a
	// hash of its construct path instead of its binary's, which the snapshots
	// mask anyway), as `cdk synth --exclusively` skips the stacks it leaves out.
	// The handlers' builds are tested in internal/lambdabuild.
	ctx["aws:cdk:bundling-stacks"] = []any{}
	return awscdk.NewApp(&awscdk.AppProps{
		AnalyticsReporting: jsii.Bool(false),
		// The template validator runs once, as errors, in `make synth`.
		BuiltinCloudFormationValidation: jsii.Bool(false),
		// No test reads tree.json (CDK inspects every construct to write it).
		TreeMetadata: jsii.Bool(false),
		Outdir:       jsii.String(dir),
		Context:      &ctx,
	})
}

// cdkJSONContext reads the context block of ../cdk.json, the one cdk synth uses.
func cdkJSONContext() (map[string]any, error) {
	raw, err := os.ReadFile(filepath.Join("..", "cdk.json"))
	if err != nil {
		return nil, err
	}
	var file struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	return file.Context, nil
}

// synth synthesizes app once and reads the templates and cdk-nag findings
// of its builds' stacks from the assembly's files.
func synth(app awscdk.App, builds ...*built) error {
	var dir string
	if err := recoverPanic(func() { dir = *app.Synth(nil).Directory() }); err != nil {
		return fmt.Errorf("synthesizing %s: %w", builds[0].label, err)
	}
	artifacts, err := readAssembly(dir)
	if err != nil {
		return fmt.Errorf("reading the assembly of %s: %w", builds[0].label, err)
	}
	silenced, err := readSuppressedFindings(dir)
	if err != nil {
		return fmt.Errorf("reading the cdk-nag reports of %s: %w", builds[0].label, err)
	}
	for _, b := range builds {
		b.silenced = silenced
		b.templates, b.stacks = map[string]Template{}, map[string]stackArtifact{}
		for _, stack := range b.stage.Stacks() {
			kind, id := *stack.Node().Id(), *stack.ArtifactId()
			s, ok := artifacts[id]
			if !ok {
				return fmt.Errorf("%s/%s: no artifact %s in %s", b.label, kind, id, dir)
			}
			var tpl Template
			if err := json.Unmarshal(s.cfn.Raw, &tpl); err != nil {
				return fmt.Errorf("%s: %w", s.cfn.TemplatePath, err)
			}
			b.templates[kind], b.stacks[kind] = tpl, s
		}
	}
	return nil
}

func recoverPanic(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	f()
	return nil
}

// must runs a CDK assertions call and turns its panic into a test failure.
func must(t *testing.T, what string, f func()) {
	t.Helper()
	if err := recoverPanic(f); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
