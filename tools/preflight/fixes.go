package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// The problem lines: stack, resource, what is missing, and the command that fixes it.

// cdkBin is the pinned CDK CLI that `make tools` installs.
const cdkBin = ".tools/node_modules/.bin/cdk"

// startAtZeroContext is the context that synthesizes the ECS services with
// DesiredCount 0 for a first deploy without images.
const startAtZeroContext = "-c cluster.servicesStartAtZero=true"

func (p *plan) deployCmd(stacks []string, extra string) string {
	cmd := "make deploy STAGE=" + p.Stage
	if len(stacks) > 0 {
		cmd += fmt.Sprintf(" STACKS=%q", strings.Join(stacks, " "))
	}
	if extra != "" {
		cmd += " " + extra
	}
	return "`" + cmd + "`"
}

// rerun is the deploy the user asked for.
func (p *plan) rerun() string { return p.deployCmd(p.Selected, "") }

// orStacksBefore offers to deploy what does not need the missing thing.
func (p *plan) orStacksBefore(stacks []cfn.Stack) string {
	var ids []string
	for _, s := range stacks {
		ids = append(ids, s.ArtifactID)
	}
	before := p.stacksBefore(ids...)
	if len(before) == 0 {
		return ""
	}
	return "; or deploy the stacks before it: " + p.deployCmd(before, "")
}

func missingParam(p *plan, pc *paramCheck, region string) []string {
	var out []string
	for _, u := range pc.Uses {
		head := fmt.Sprintf("%s: %s needs SSM parameter %s", stackList(u.Stacks), u.What, pc.Name)
		switch {
		case pc.AMI:
			out = append(out, fmt.Sprintf("%s (no AMI yet): build and publish one with %s, then re-run %s%s",
				head, publishAMI(pc, region), p.rerun(), p.orStacksBefore(u.Stacks)))
		case strings.HasPrefix(pc.Name, "/cdk-bootstrap/"):
			env := fmt.Sprintf("aws://%s/%s", or(pc.Account, "<account>"), region)
			out = append(out, fmt.Sprintf("%s (%s is not bootstrapped for CDK): run `%s bootstrap %s`, then re-run %s",
				head, env, cdkBin, env, p.rerun()))
		default:
			out = append(out, fmt.Sprintf("%s: create it (`aws ssm put-parameter --region %s --name %s --type String --value <value>`), then re-run %s%s",
				head, region, pc.Name, p.rerun(), p.orStacksBefore(u.Stacks)))
		}
	}
	return out
}

func notAnAMI(p *plan, pc *paramCheck, region, value string) []string {
	var out []string
	for _, u := range pc.Uses {
		out = append(out, fmt.Sprintf("%s: %s reads SSM parameter %s, which holds %q, not an AMI id (ami- and 8 or 17 hex digits): publish a real one with %s, then re-run %s%s",
			stackList(u.Stacks), u.What, pc.Name, value, publishAMI(pc, region), p.rerun(), p.orStacksBefore(u.Stacks)))
	}
	return out
}

// publishAMI is the command that writes an AMI id to the parameter: the AMI
// pipeline for the pipeline's own names (/<app>/ami/fleets/<stage>/<slug>),
// else a plain put-parameter with the data type that makes SSM verify the AMI.
func publishAMI(pc *paramCheck, region string) string {
	if m := fleetAMIParam.FindStringSubmatch(pc.Name); m != nil {
		return fmt.Sprintf("`make ami-build STAGE=%s FLEET=%s` (fill in packer/vars/%[1]s-%[2]s.pkrvars.hcl first, as packer/README.md describes)", m[2], m[3])
	}
	return fmt.Sprintf("`aws ssm put-parameter --region %s --name %s --type String --data-type aws:ec2:image --value ami-<id> --overwrite`", region, pc.Name)
}

func missingImage(p *plan, ic *imageCheck) string {
	region := or(ic.RepoStack.Region, "<region>")
	registry := strings.SplitN(ic.URI(), "/", 2)[0]
	return fmt.Sprintf("%s: service %s (%s) needs image %s, which is not in repository %s: push it (the image pipeline, or `aws ecr get-login-password --region %s | docker login --username AWS --password-stdin %s` and `docker buildx build --platform %s --push -t %s <build context>`), then re-run %s; or, on a first deploy, start the services at zero: %s",
		ic.Stack.ShortName(), ic.Service, containerList(ic.Containers), ic.Ref(), ic.Repo, region, registry, ic.Platform, ic.URI(), p.rerun(), p.deployCmd(p.Selected, "CDK_CONTEXT='"+startAtZeroContext+"'"))
}

// missingRepositories reports repositories that do not exist, one line per
// repository with every image and service that needs it.
func missingRepositories(p *plan, ics []*imageCheck) []problem {
	var repos []string
	byRepo := map[string][]*imageCheck{}
	for _, ic := range ics {
		if _, ok := byRepo[ic.Repo]; !ok {
			repos = append(repos, ic.Repo)
		}
		byRepo[ic.Repo] = append(byRepo[ic.Repo], ic)
	}
	var out []problem
	for _, repo := range repos {
		list := byRepo[repo]
		var stacks []cfn.Stack
		var services []string
		refs := map[string][]string{}
		for _, ic := range list {
			if !slices.ContainsFunc(stacks, func(s cfn.Stack) bool { return s.ArtifactID == ic.Stack.ArtifactID }) {
				stacks = append(stacks, ic.Stack)
			}
			if _, ok := refs[ic.Service]; !ok {
				services = append(services, ic.Service)
			}
			refs[ic.Service] = append(refs[ic.Service], ic.Ref())
		}
		var needs []string
		for _, svc := range services {
			needs = append(needs, fmt.Sprintf("service %s needs %s", svc, strings.Join(refs[svc], ", ")))
		}
		owner := list[0].RepoStack
		first := p.withDependencies(owner.ArtifactID)
		head := fmt.Sprintf("%s: %s, but repository %s (stack %s) does not exist yet", stackList(stacks), strings.Join(needs, "; "), repo, owner.ShortName())
		if p.deploying(owner.ArtifactID) {
			out = append(out, problemsOf(stacks, fmt.Sprintf("%s: it will be created by this deploy, and its images must be pushed before %s can start: deploy %s first (%s), push, then the rest (%s), or use %s (%s)",
				head, stackList(stacks), strings.Join(first, "+"), p.deployCmd(first, ""), p.deployCmd(nil, ""), startAtZeroContext, p.deployCmd(p.Selected, "CDK_CONTEXT='"+startAtZeroContext+"'")))...)
		} else {
			out = append(out, problemsOf(stacks, fmt.Sprintf("%s, and stack %s is not part of this deploy: deploy it first (%s), push the images, then re-run %s",
				head, owner.ShortName(), p.deployCmd(first, ""), p.rerun()))...)
		}
	}
	return out
}

// cannotCheck reports an AWS error that is not an answer: access denied,
// rejected credentials, throttling, no network.
func cannotCheck(stack, what string, err error, action, arn string) string {
	code := apiCode(err)
	switch {
	case strings.Contains(code, "AccessDenied") || code == "UnauthorizedOperation":
		return fmt.Sprintf("%s: cannot check %s: access denied (%v): the deploy credentials need %s on %s", stack, what, err, action, arn)
	case strings.Contains(code, "Unrecognized") || strings.Contains(code, "InvalidSignature") || strings.Contains(code, "ExpiredToken") || strings.Contains(code, "InvalidClientTokenId"):
		return fmt.Sprintf("%s: cannot check %s: the AWS credentials were rejected (%v): renew them and re-run", stack, what, err)
	}
	return fmt.Sprintf("%s: cannot check %s: %v", stack, what, err)
}

func stackList(stacks []cfn.Stack) string {
	var names []string
	for _, s := range stacks {
		names = append(names, s.ShortName())
	}
	return strings.Join(names, ", ")
}

func allStacks(uses []paramUse) []cfn.Stack {
	var out []cfn.Stack
	for _, u := range uses {
		for _, s := range u.Stacks {
			if !slices.ContainsFunc(out, func(x cfn.Stack) bool { return x.ArtifactID == s.ArtifactID }) {
				out = append(out, s)
			}
		}
	}
	return out
}

func containerList(names []string) string {
	if len(names) == 1 {
		return "container " + names[0]
	}
	return "containers " + strings.Join(names, ", ")
}
