package test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestBackendMayWriteItsFleetPointers: the backend's Admin UI writes each
// fleet's pointers, "Its task role therefore needs ssm:PutParameter and
// ssm:GetParameter on exactly /<app>/<stage>/fleets/*/active_bundle and
// /<app>/<stage>/fleets/*/desired_config of its own stage" (the backend's
// contract, restated in docs/requirements.md). An SSM parameter's ARN is
// arn:${Partition}:ssm:${Region}:${Account}:parameter/${ParameterName}
// without the name's leading slash (Service Authorization Reference, AWS
// Systems Manager resource types).
func TestBackendMayWriteItsFleetPointers(t *testing.T) {
	for _, b := range all() {
		cfg := b.stage.Cfg
		want := []string{
			fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s/%s/fleets/*/active_bundle", cfg.Region, cfg.Account, cfg.AppPrefix, cfg.Stage),
			fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s/%s/fleets/*/desired_config", cfg.Region, cfg.Account, cfg.AppPrefix, cfg.Stage),
		}
		var granted []string
		for _, st := range statements(b.templates["compute"], "BackendTaskTaskRole") {
			actions := actionsOf(st)
			if !slices.Contains(actions, "ssm:PutParameter") && !slices.Contains(actions, "ssm:GetParameter") {
				continue
			}
			slices.Sort(actions)
			if !slices.Equal(actions, []string{"ssm:GetParameter", "ssm:PutParameter"}) || st["Condition"] != nil {
				t.Errorf("%s: pointer statement has actions %v, condition %v; want exactly ssm:GetParameter and ssm:PutParameter, unconditioned", b.label, actions, st["Condition"])
			}
			resources, ok := st["Resource"].([]any)
			if !ok {
				resources = []any{st["Resource"]}
			}
			for _, r := range resources {
				granted = append(granted, strings.ReplaceAll(renderJoin(r), `${{"Ref":"AWS::Partition"}}`, "aws"))
			}
		}
		slices.Sort(granted)
		if !slices.Equal(granted, want) {
			t.Errorf("%s: backend task role may use SSM parameters %v, want exactly %v", b.label, granted, want)
		}
	}
}
