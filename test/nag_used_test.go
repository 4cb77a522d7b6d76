package test

import (
	"encoding/csv"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// nagReportRow is one "Suppressed" line of a cdk-nag report. cdk-nag's
// NagReportLogger (on by default in every pack) writes one CSV per stack into
// the app's outdir, "<pack>-<stage id>-<stack name>-NagReport.csv", with the
// header "Rule ID,Resource ID,Compliance,Exception Reason,Rule Level,Rule Info"
// (nag-logger.js in cdk-nag 2.38). A silenced finding is Compliance
// "Suppressed" with the suppression's reason, after "[finding ids] " for a
// finding with ids, and so is a CdkNagValidationFailure that a suppression
// covers: the row then names the rule that failed to run.
type nagReportRow struct{ rule, reason string }

// readSuppressedFindings reads every cdk-nag report in an app's outdir and
// returns the suppressed findings by construct path (the Resource ID column).
func readSuppressedFindings(dir string) (map[string][]nagReportRow, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*-NagReport.csv"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no cdk-nag report (*-NagReport.csv) in %s", dir)
	}
	out := map[string][]nagReportRow{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if len(rows) == 0 || strings.Join(rows[0], ",") != "Rule ID,Resource ID,Compliance,Exception Reason,Rule Level,Rule Info" {
			return nil, fmt.Errorf("%s: not the cdk-nag CSV header: %q", f, rows)
		}
		for _, r := range rows[1:] {
			if r[2] == "Suppressed" {
				out[r[1]] = append(out[r[1]], nagReportRow{rule: r[0], reason: r[3]})
			}
		}
	}
	return out, nil
}

// TestSuppressionsSitOnTheResourcesTheySilence: every cdk-nag suppression in
// every stack silences a finding cdk-nag made on the very resource it sits
// on. NagSuppressions.addResourceSuppressionsByPath with applyToChildren (how
// the stacks attach theirs) copies a suppression onto every resource below
// its path, so one written on a construct instead of its resource (a task
// definition, a fleet, the Fleets subtree) shows up here on resources it
// silences nothing on, and would silence whatever a later change adds below
// it. switched-on has two fleets, so each needs its own suppressions.
func TestSuppressionsSitOnTheResourcesTheySilence(t *testing.T) {
	checked := 0
	for _, b := range all() {
		for _, kind := range slices.Sorted(maps.Keys(b.templates)) {
			for _, res := range b.templates[kind].Resources("") {
				metadata, _ := res.Raw["Metadata"].(map[string]any)
				for _, s := range nagSuppressionsOf(metadata) {
					checked++
					path := b.paths[kind][res.LogicalID]
					if !silencesAFinding(s, b.silenced[path]) {
						t.Errorf("%s/%s: suppression %s (applies to %v) on %s silences no finding there: put it on the resource that has the finding. Reason: %.70s",
							b.label, kind, s.ID, s.AppliesTo, path, s.Reason)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no cdk-nag suppression found in any template: the metadata cdk_nag.rules_to_suppress is not being read")
	}
}

// nagSuppression is one entry of a resource's Metadata.cdk_nag.rules_to_suppress,
// the shape cdk-nag's README shows for suppressions in a template.
type nagSuppression struct {
	ID        string   `json:"id"`
	Reason    string   `json:"reason"`
	AppliesTo []string `json:"applies_to"`
}

func nagSuppressionsOf(metadata map[string]any) []nagSuppression {
	nag, _ := metadata["cdk_nag"].(map[string]any)
	list, _ := nag["rules_to_suppress"].([]any)
	var out []nagSuppression
	for _, e := range list {
		m, _ := e.(map[string]any)
		s := nagSuppression{ID: str(m["id"]), Reason: str(m["reason"])}
		applies, _ := m["applies_to"].([]any)
		for _, a := range applies {
			s.AppliesTo = append(s.AppliesTo, str(a))
		}
		out = append(out, s)
	}
	return out
}

// silencesAFinding: a report row of the suppression's rule carries its reason.
// A CdkNagValidationFailure suppression's row names the rule that could not
// run, one of those it applies to.
func silencesAFinding(s nagSuppression, rows []nagReportRow) bool {
	for _, r := range rows {
		rule := r.rule == s.ID || (s.ID == "CdkNagValidationFailure" && slices.Contains(s.AppliesTo, r.rule))
		if rule && strings.Contains(r.reason, s.Reason) {
			return true
		}
	}
	return false
}
