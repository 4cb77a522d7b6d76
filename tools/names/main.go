// Command names lists the CI/CD contract names of one stage as synthesized in
// cdk.out (system-facts section 1), writes them to cdk.out/names-<stage>.json
// and fails when they differ from the contract.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bp/infra/internal/cfn"
	"github.com/bp/infra/tools/cicdnames"
)

func main() {
	cdkOut := flag.String("cdk-out", "cdk.out", "cloud assembly directory")
	stage := flag.String("stage", "", "stage to list (staging or production)")
	app := flag.String("app", "bp", "app prefix")
	flag.Parse()
	if err := run(*cdkOut, *stage, *app); err != nil {
		fmt.Fprintln(os.Stderr, "names:", err)
		os.Exit(1)
	}
}

func run(cdkOut, stage, app string) error {
	if stage == "" {
		return fmt.Errorf("--stage is required")
	}
	stacks, err := cfn.LoadAssembly(cdkOut, app)
	if err != nil {
		return err
	}
	stageStacks, err := cfn.StageStacks(stacks, stage)
	if err != nil {
		return err
	}
	var templates []map[string]any
	for _, s := range stageStacks {
		path := s.TemplatePath // already joined with the assembly folder
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var tpl map[string]any
		if err := json.Unmarshal(raw, &tpl); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		templates = append(templates, tpl)
	}
	got := cicdnames.Extract(templates)
	out, _ := json.MarshalIndent(got, "", "  ")
	file := filepath.Join(cdkOut, "names-"+stage+".json")
	if err := os.WriteFile(file, append(out, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Println(string(out))
	if diffs := cicdnames.Diff(cicdnames.Contract(app, stage, cicdnames.FleetSlugs(templates)), got); len(diffs) > 0 {
		for _, d := range diffs {
			fmt.Fprintln(os.Stderr, "contract mismatch:", d)
		}
		return fmt.Errorf("%d names differ from the CI/CD contract (system-facts section 1)", len(diffs))
	}
	fmt.Fprintf(os.Stderr, "%s matches the CI/CD contract\n", file)
	return nil
}
