package test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bp/infra/stacks/base"
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
		file, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		rows, err := csv.NewReader(file).ReadAll()
		file.Close()
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
// every stack silences, on the very resource it sits on, a finding for each
// finding id it applies to. NagSuppressions.addResourceSuppressionsByPath
// with applyToChildren copies a suppression onto every resource below its
// path (and cdk-nag matches "X/Resource" to X as well), so a suppression
// spread that way, or left on a resource whose finding is gone, shows up
// here silencing nothing, ready to silence whatever a later change adds.
// switched-on has two fleets, so each needs its own suppressions.
func TestSuppressionsSitOnTheResourcesTheySilence(t *testing.T) {
	checked := 0
	for _, b := range all() {
		for _, kind := range b.kinds() {
			st := b.stacks[kind]
			for _, path := range slices.Sorted(maps.Keys(st.resourceAt)) {
				res, _ := b.templates[kind].Resource(st.resourceAt[path])
				for _, s := range nagSuppressionsOf(res) {
					checked++
					if !silencesAFinding(s, b.silenced[path]) {
						t.Errorf("%s/%s: suppression %s (applies to %v) on %s does not silence a finding there for each of them: put it on the resource that has the finding, or drop what no longer applies. Reason: %.70s",
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

func nagSuppressionsOf(res Resource) []nagSuppression {
	raw, _ := json.Marshal(get(res.Raw, "Metadata.cdk_nag.rules_to_suppress"))
	var out []nagSuppression
	_ = json.Unmarshal(raw, &out) // null when the resource has none
	return out
}

// silencesAFinding: the report has the row each part of the suppression
// makes. cdk-nag writes a silenced finding's reason as the suppression's
// reason when it applies to the whole rule, and as "[<finding id>] <reason>"
// for each finding id it applies to (ignoreRule in nag-pack.js); a covered
// CdkNagValidationFailure is a row of the rule that failed to run, with the
// finding id "" ("[] <reason>") when the suppression names that rule.
func silencesAFinding(s nagSuppression, rows []nagReportRow) bool {
	has := func(rule, reason string) bool {
		return slices.Contains(rows, nagReportRow{rule: rule, reason: reason})
	}
	switch {
	case s.ID == "CdkNagValidationFailure":
		for _, rule := range s.AppliesTo {
			if !has(rule, "[] "+s.Reason) {
				return false
			}
		}
		// Without finding ids it covers every rule that fails to run here,
		// and cdk-nag writes the bare reason.
		return len(s.AppliesTo) > 0 || slices.ContainsFunc(rows, func(r nagReportRow) bool { return r.reason == s.Reason })
	case len(s.AppliesTo) > 0:
		for _, finding := range s.AppliesTo {
			if !has(s.ID, "["+finding+"] "+s.Reason) {
				return false
			}
		}
		return true
	default:
		return has(s.ID, s.Reason)
	}
}

// TestEverySuppressionLandsOnItsResource: each suppression a stack applies
// (every stack lists them in its base.SuppressionsMetadata entry) is in the
// template metadata of the resource its path names, or of that construct's
// "Resource". With applyToChildren off, cdk-nag attaches a suppression only
// to the construct at the path or its default child when that is a
// CfnResource, yet accepts any path that exists: one written on a plain
// construct (a fleet, a subtree) would attach nothing and silence nothing
// while reading as reviewed.
func TestEverySuppressionLandsOnItsResource(t *testing.T) {
	checked := 0
	for _, b := range all() {
		for _, kind := range b.kinds() {
			st := b.stacks[kind]
			for _, s := range st.suppressed {
				checked++
				at := st.cfn.DisplayName + "/" + s.Path // the stack's construct path (cfn.Stack.DisplayName)
				id, ok := st.resourceAt[at]
				if !ok {
					id, ok = st.resourceAt[at+"/Resource"]
				}
				if !ok {
					t.Errorf("%s/%s: suppression %s is on %q, which is no resource (nor a construct whose Resource is one): cdk-nag attaches it to nothing",
						b.label, kind, s.Rule, s.Path)
					continue
				}
				res, _ := b.templates[kind].Resource(id)
				if !slices.ContainsFunc(nagSuppressionsOf(res), func(n nagSuppression) bool {
					return n.ID == s.Rule && n.Reason == s.Reason && slices.Equal(n.AppliesTo, s.AppliesTo)
				}) {
					t.Errorf("%s/%s: suppression %s on %q is not in the metadata of %s", b.label, kind, s.Rule, s.Path, id)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no stack lists a suppression in its " + base.SuppressionsMetadata + " metadata")
	}
}
