package main

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// paramCheck is one SSM parameter that CloudFormation resolves while it
// creates or updates a stack: it must exist before the deploy.
type paramCheck struct {
	Name    string // as CloudFormation resolves it (may carry :version or :label)
	Region  string
	Account string
	AMI     bool       // the value must be an AMI id
	Uses    []paramUse // who needs it; uses with the same What are merged across stacks
}

type paramUse struct {
	Stacks []cfn.Stack
	What   string // "fleet launch template bp-staging-gpu-default", "template parameter BootstrapVersion"
}

// ssmParamType is the prefix of template parameter types CloudFormation
// fills from Parameter Store, using the parameter's Default as the name.
const ssmParamType = "AWS::SSM::Parameter::Value<"

// amiParamTypes are the SSM parameter types whose value is an AMI id.
var amiParamTypes = []string{"AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"}

// resolveSSMPrefix is the ImageId form of a launch template that
// CloudFormation resolves from Parameter Store when it creates the template.
const resolveSSMPrefix = "resolve:ssm:"

// amiID is the form of an EC2 image id: "ami-" and 8 or 17 hex digits.
var amiID = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)

func (p *plan) collectParams(s cfn.Stack) {
	tpl := s.Template
	// Parameters a launch template's ImageId refers to carry an AMI id even
	// when their type says only String.
	amiParams := map[string]bool{}
	for _, id := range tpl.OfType("AWS::EC2::LaunchTemplate") {
		res := tpl.Resources[id]
		data, _ := res.Properties["LaunchTemplateData"].(map[string]any)
		image := data["ImageId"]
		what := "fleet launch template " + launchTemplateName(s, id, res)
		switch v := image.(type) {
		case string:
			if name, ok := strings.CutPrefix(v, resolveSSMPrefix); ok {
				p.addParam(s, name, paramUse{What: what}, true)
			}
		case map[string]any:
			if ref, ok := v["Ref"].(string); ok {
				if _, isParam := tpl.Parameters[ref]; isParam {
					amiParams[ref] = true
				}
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(tpl.Parameters)) {
		par := tpl.Parameters[n]
		if !strings.HasPrefix(par.Type, ssmParamType) {
			continue
		}
		def, ok := par.Default.(string)
		if !ok || def == "" {
			p.Problems = append(p.Problems, problemsOf([]cfn.Stack{s}, fmt.Sprintf("%s: template parameter %s (%s) has no default parameter name, so cdk deploy cannot fill it: give it a Default in the stack", s.ShortName(), n, par.Type))...)
			continue
		}
		p.addParam(s, def, paramUse{What: "template parameter " + n}, amiParams[n] || slices.Contains(amiParamTypes, par.Type))
	}
}

func (p *plan) addParam(s cfn.Stack, name string, use paramUse, ami bool) {
	use.Stacks = []cfn.Stack{s}
	for _, c := range p.Params {
		if c.Name != name || c.Region != s.Region || c.Account != s.Account {
			continue
		}
		c.AMI = c.AMI || ami
		for i := range c.Uses {
			if c.Uses[i].What == use.What {
				c.Uses[i].Stacks = append(c.Uses[i].Stacks, s)
				return
			}
		}
		c.Uses = append(c.Uses, use)
		return
	}
	p.Params = append(p.Params, &paramCheck{Name: name, Region: s.Region, Account: s.Account, AMI: ami, Uses: []paramUse{use}})
}

func launchTemplateName(s cfn.Stack, id string, res cfn.Resource) string {
	if name, err := resolver(s).String(res.Properties["LaunchTemplateName"]); err == nil && name != "" {
		return name
	}
	return id
}

// fleetAMIParam is the AMI pipeline's parameter name, /<app>/ami/fleets/<stage>/<slug>.
var fleetAMIParam = regexp.MustCompile(`^/([A-Za-z0-9_.-]+)/ami/fleets/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)$`)

// dropParamsThisDeployCreates forgets parameters that a stack of this deploy
// creates (an AWS::SSM::Parameter with that Name): cdk deploy orders the
// stacks so the producer runs first, as the network stack does for the NAT
// addresses compute reads.
func (p *plan) dropParamsThisDeployCreates() {
	created := map[string]bool{}
	for _, s := range p.Deploy {
		for _, id := range s.Template.OfType("AWS::SSM::Parameter") {
			if name, err := resolver(s).String(s.Template.Resources[id].Properties["Name"]); err == nil {
				created[s.Account+"/"+s.Region+"/"+name] = true
			}
		}
	}
	p.Params = slices.DeleteFunc(p.Params, func(c *paramCheck) bool { return created[c.Account+"/"+c.Region+"/"+c.Name] })
}
