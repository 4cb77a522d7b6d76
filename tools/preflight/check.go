package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/bp/infra/internal/cfn"
)

// result is what AWS said about the plan.
type result struct {
	Problems      []problem
	Caller        string // account of the credentials
	ParamsChecked int
	ImagesChecked int
}

// check asks AWS about every item of the plan with the default credential
// chain (the one cdk deploy uses). Endpoints come from the SDK's standard
// variables (AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL_STS).
func check(ctx context.Context, p *plan) result {
	res := result{Problems: slices.Clone(p.Problems)}
	if len(p.Params) == 0 && len(p.Images) == 0 {
		return res
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		res.Problems = append(res.Problems, problemsOf(nil, fmt.Sprintf("cannot load the AWS configuration: %v (check AWS_PROFILE and ~/.aws/config)", err))...)
		return res
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		res.Problems = append(res.Problems, problemsOf(nil, fmt.Sprintf("no AWS credentials: %v; the preflight uses the same default chain as cdk deploy: set AWS_PROFILE (and run `aws sso login` for SSO profiles) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for stage %s's account", err, p.Stage))...)
		return res
	}
	a := &awsClients{cfg: cfg, ssm: map[string]*ssm.Client{}, ecr: map[string]*ecr.Client{}}

	// Checking another account would report everything missing for the wrong reason.
	caller, err := a.callerAccount(ctx, p.region(cfg))
	if err != nil {
		res.Problems = append(res.Problems, problemsOf(nil, fmt.Sprintf("the AWS credentials were rejected by sts:GetCallerIdentity: %v; renew them (e.g. `aws sso login`) and re-run", err))...)
		return res
	}
	res.Caller = caller
	if want := p.accounts(); len(want) > 0 && !slices.Contains(want, caller) {
		res.Problems = append(res.Problems, problemsOf(nil, fmt.Sprintf("stage %s deploys to account %s (the stacks' environment in cdk.out), but the AWS credentials are for account %s: use credentials of account %s (e.g. AWS_PROFILE=<its profile>)", p.Stage, strings.Join(want, ", "), caller, strings.Join(want, ", ")))...)
		return res
	}

	for _, pc := range p.Params {
		res.ParamsChecked++
		res.Problems = append(res.Problems, problemsOf(allStacks(pc.Uses), a.checkParam(ctx, p, pc, cfg.Region)...)...)
	}
	res.Problems = append(res.Problems, a.checkImages(ctx, p, cfg.Region, &res.ImagesChecked)...)
	return res
}

type awsClients struct {
	cfg aws.Config
	ssm map[string]*ssm.Client
	ecr map[string]*ecr.Client
}

func (a *awsClients) ssmIn(region string) *ssm.Client {
	if c, ok := a.ssm[region]; ok {
		return c
	}
	c := ssm.NewFromConfig(a.cfg, func(o *ssm.Options) { o.Region = region })
	a.ssm[region] = c
	return c
}

func (a *awsClients) ecrIn(region string) *ecr.Client {
	if c, ok := a.ecr[region]; ok {
		return c
	}
	c := ecr.NewFromConfig(a.cfg, func(o *ecr.Options) { o.Region = region })
	a.ecr[region] = c
	return c
}

func (a *awsClients) callerAccount(ctx context.Context, region string) (string, error) {
	out, err := sts.NewFromConfig(a.cfg, func(o *sts.Options) { o.Region = region }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Account), nil
}

// region is the stacks' region, else the SDK's (AWS_REGION, profile).
func (p *plan) region(cfg aws.Config) string {
	for _, s := range p.Deploy {
		if s.Region != "" {
			return s.Region
		}
	}
	return cfg.Region
}

// accounts lists the target accounts of the deployed stacks.
func (p *plan) accounts() []string {
	var out []string
	for _, s := range p.Deploy {
		if s.Account != "" && !slices.Contains(out, s.Account) {
			out = append(out, s.Account)
		}
	}
	return out
}

func (a *awsClients) checkParam(ctx context.Context, p *plan, pc *paramCheck, defaultRegion string) []string {
	region := or(pc.Region, defaultRegion)
	if region == "" {
		return []string{fmt.Sprintf("%s: no region to look up SSM parameter %s: the stack is environment-agnostic and AWS_REGION is not set", stackList(allStacks(pc.Uses)), pc.Name)}
	}
	out, err := a.ssmIn(region).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(pc.Name)})
	if err != nil {
		if code := apiCode(err); code == "ParameterNotFound" || code == "ParameterVersionNotFound" {
			return missingParam(p, pc, region)
		}
		return []string{cannotCheck(stackList(allStacks(pc.Uses)), "SSM parameter "+pc.Name, err,
			"ssm:GetParameter", fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", region, or(pc.Account, "<account>"), slashed(pc.Name)))}
	}
	if v := aws.ToString(out.Parameter.Value); pc.AMI && !amiID.MatchString(v) {
		return notAnAMI(p, pc, region, v)
	}
	return nil
}

// checkImages asks ECR for every image; a repository that does not exist
// yet is reported once with every image that needs it.
func (a *awsClients) checkImages(ctx context.Context, p *plan, defaultRegion string, checked *int) []problem {
	var probs []problem
	var noRepo []*imageCheck
	for _, ic := range p.Images {
		*checked++
		region := or(ic.RepoStack.Region, defaultRegion)
		id := ecrtypes.ImageIdentifier{}
		if ic.Digest != "" {
			id.ImageDigest = aws.String(ic.Digest)
		} else {
			id.ImageTag = aws.String(ic.Tag)
		}
		out, err := a.ecrIn(region).DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(ic.Repo), ImageIds: []ecrtypes.ImageIdentifier{id}})
		switch code := apiCode(err); {
		case err == nil && len(out.ImageDetails) > 0:
		case err == nil || code == "ImageNotFoundException":
			probs = append(probs, problemsOf([]cfn.Stack{ic.Stack}, missingImage(p, ic))...)
		case code == "RepositoryNotFoundException":
			noRepo = append(noRepo, ic)
		default:
			probs = append(probs, problemsOf([]cfn.Stack{ic.Stack}, cannotCheck(ic.Stack.ShortName(), "image "+ic.Ref(), err,
				"ecr:DescribeImages", fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", region, or(ic.RepoStack.Account, "<account>"), ic.Repo)))...)
		}
	}
	return append(probs, missingRepositories(p, noRepo)...)
}

// apiCode is the AWS error code of err ("" for errors that are not AWS's).
func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func slashed(name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return "/" + name
}
