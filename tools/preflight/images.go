package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// imageCheck is one image of an app repository that an ECS service starts
// during the deploy: CloudFormation waits for the service to become stable,
// which it never does when the tag cannot be pulled.
type imageCheck struct {
	Stack      cfn.Stack // the stack of the service
	Service    string
	Containers []string
	Repo       string    // repository name
	RepoStack  cfn.Stack // the stack that owns the repository
	Tag        string    // or Digest
	Digest     string
	Platform   string // docker platform of the task definition, e.g. linux/arm64
}

// Ref is how people write the image: repo:tag or repo@digest.
func (c *imageCheck) Ref() string {
	if c.Digest != "" {
		return c.Repo + "@" + c.Digest
	}
	return c.Repo + ":" + c.Tag
}

// URI is the image's full name in the repository's registry.
func (c *imageCheck) URI() string {
	acct := c.RepoStack.Account
	if acct == "" {
		acct = "<account>"
	}
	region := c.RepoStack.Region
	if region == "" {
		region = "<region>"
	}
	return fmt.Sprintf("%s.dkr.ecr.%s.%s/%s", acct, region, urlSuffix(c.RepoStack.Region), c.Ref())
}

// service is an AWS::ECS::Service of the template, as far as the preflight cares.
type service struct {
	Name      string
	StartZero bool // DesiredCount 0: CloudFormation starts no task, so nothing is pulled
}

func (p *plan) collectImages(s cfn.Stack) {
	tpl := s.Template
	r := resolver(s)
	byTask := map[string][]service{}
	for _, id := range tpl.OfType("AWS::ECS::Service") {
		props := tpl.Resources[id].Properties
		task, ok := cfn.TargetID(props["TaskDefinition"])
		if !ok {
			continue // a task definition of another stack: that stack's images
		}
		name, err := r.String(props["ServiceName"])
		if err != nil || name == "" {
			name = id
		}
		// Without DesiredCount CloudFormation creates the service with one
		// task; only an explicit 0 starts none.
		n, err := r.Number(props["DesiredCount"])
		byTask[task] = append(byTask[task], service{Name: name, StartZero: err == nil && n == 0})
	}
	for _, id := range tpl.OfType("AWS::ECS::TaskDefinition") {
		props := tpl.Resources[id].Properties
		platform := dockerPlatform(props)
		containers, _ := props["ContainerDefinitions"].([]any)
		for _, c := range containers {
			def, _ := c.(map[string]any)
			cname, _ := def["Name"].(string)
			ref, isECR, err := parseECRImage(def["Image"])
			if !isECR {
				continue // a public or third-party image: nothing of ours to push
			}
			if err != nil {
				p.Problems = append(p.Problems, problemsOf([]cfn.Stack{s}, fmt.Sprintf("%s: task definition %s container %s: cannot read its ECR image (%v); the preflight reads Fn::Join [account, .dkr.ecr., region, ., URL suffix, /, Ref or Fn::ImportValue of the repository, :tag], as CDK's ContainerImage.fromEcrRepository writes it", s.ShortName(), id, cname, err))...)
				continue
			}
			repo, owner, err := p.resolveRepository(s, ref.repo)
			if err != nil {
				p.Problems = append(p.Problems, problemsOf([]cfn.Stack{s}, fmt.Sprintf("%s: task definition %s container %s: %v", s.ShortName(), id, cname, err))...)
				continue
			}
			svcs := byTask[id]
			if len(svcs) == 0 {
				p.note("%s: task definition %s (container %s, image %s) is run by no service of the deploy: not checked, it is pulled only when something runs it", s.ShortName(), id, cname, (&imageCheck{Repo: repo, Tag: ref.tag, Digest: ref.digest}).Ref())
				continue
			}
			for _, svc := range svcs {
				ic := &imageCheck{Stack: s, Service: svc.Name, Containers: []string{cname}, Repo: repo, RepoStack: owner, Tag: ref.tag, Digest: ref.digest, Platform: platform}
				if svc.StartZero {
					p.note("%s: service %s has DesiredCount 0 (cluster.servicesStartAtZero): image %s not checked; push it before the service is scaled up", s.ShortName(), svc.Name, ic.Ref())
					continue
				}
				p.addImage(ic)
			}
		}
	}
}

func (p *plan) addImage(ic *imageCheck) {
	for _, c := range p.Images {
		if c.Stack.ArtifactID == ic.Stack.ArtifactID && c.Service == ic.Service && c.Ref() == ic.Ref() {
			c.Containers = append(c.Containers, ic.Containers...)
			return
		}
	}
	p.Images = append(p.Images, ic)
}

func (p *plan) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if !slices.Contains(p.Notes, n) {
		p.Notes = append(p.Notes, n)
	}
}

type ecrImage struct {
	repo   any // Ref or Fn::ImportValue of the repository
	tag    string
	digest string
}

// parseECRImage reads the image CDK writes for an ECR repository:
// Fn::Join "" [<account>, ".dkr.ecr.", <region>, ".", {Ref AWS::URLSuffix},
// "/", <repository Ref or Fn::ImportValue>, ":<tag>"]. isECR says whether the
// value is an ECR image at all.
func parseECRImage(v any) (img ecrImage, isECR bool, err error) {
	m, ok := v.(map[string]any)
	if !ok {
		return img, false, nil
	}
	join, ok := m["Fn::Join"].([]any)
	if !ok || len(join) != 2 {
		return img, false, nil
	}
	parts, _ := join[1].([]any)
	if !slices.Contains(parts, any(".dkr.ecr.")) {
		return img, false, nil
	}
	if delim, _ := join[0].(string); delim != "" {
		return img, true, fmt.Errorf("Fn::Join delimiter %q, want \"\"", delim)
	}
	slash := slices.Index(parts, any("/"))
	if slash < 0 || slash+1 >= len(parts) {
		return img, true, fmt.Errorf(`no "/" before the repository`)
	}
	repo, ok := parts[slash+1].(map[string]any)
	if !ok || len(repo) != 1 || (repo["Ref"] == nil && repo["Fn::ImportValue"] == nil) {
		return img, true, fmt.Errorf("the repository part %v is not a Ref or Fn::ImportValue", parts[slash+1])
	}
	var rest strings.Builder
	for _, x := range parts[slash+2:] {
		s, ok := x.(string)
		if !ok {
			return img, true, fmt.Errorf("the tag part %v is not a literal", x)
		}
		rest.WriteString(s)
	}
	img.repo = repo
	switch t := rest.String(); {
	case strings.HasPrefix(t, ":") && len(t) > 1:
		img.tag = t[1:]
	case strings.HasPrefix(t, "@") && len(t) > 1:
		img.digest = t[1:]
	default:
		return img, true, fmt.Errorf("%q after the repository is neither :<tag> nor @<digest>", t)
	}
	return img, true, nil
}

// resolveRepository follows the repository reference of an image to the
// AWS::ECR::Repository it names: a Ref in the same stack, or an import of
// another stack's export whose value is the repository's Ref (its name).
func (p *plan) resolveRepository(s cfn.Stack, ref any) (string, cfn.Stack, error) {
	m := ref.(map[string]any)
	if id, ok := m["Ref"].(string); ok {
		return repositoryName(s, id)
	}
	exportName, err := resolver(s).String(m["Fn::ImportValue"])
	if err != nil {
		return "", cfn.Stack{}, fmt.Errorf("cannot tell which export the image's repository imports: %v", err)
	}
	for _, owner := range p.All {
		for outID, out := range owner.Template.Outputs {
			if out.Export == nil {
				continue
			}
			if name, err := resolver(owner).String(out.Export.Name); err != nil || name != exportName {
				continue
			}
			val, _ := out.Value.(map[string]any)
			id, ok := val["Ref"].(string)
			if !ok || len(val) != 1 {
				return "", cfn.Stack{}, fmt.Errorf("export %s (stack %s, output %s) is %v, not the Ref of a repository", exportName, owner.ShortName(), outID, out.Value)
			}
			return repositoryName(owner, id)
		}
	}
	return "", cfn.Stack{}, fmt.Errorf("the image's repository is imported from export %s, which no stack of stage %s exports", exportName, p.Stage)
}

func repositoryName(s cfn.Stack, id string) (string, cfn.Stack, error) {
	res, ok := s.Template.Resources[id]
	if !ok || res.Type != "AWS::ECR::Repository" {
		return "", cfn.Stack{}, fmt.Errorf("the image's repository %s (stack %s) is not an AWS::ECR::Repository of the stack", id, s.ShortName())
	}
	name, err := resolver(s).String(res.Properties["RepositoryName"])
	if err != nil || name == "" {
		return "", cfn.Stack{}, fmt.Errorf("repository %s (stack %s) has no literal RepositoryName, so its name is known only after the deploy: give it one", id, s.ShortName())
	}
	return name, s, nil
}

// dockerPlatform is the `docker build --platform` of a task definition.
func dockerPlatform(props map[string]any) string {
	rp, _ := props["RuntimePlatform"].(map[string]any)
	if arch, _ := rp["CpuArchitecture"].(string); arch == "ARM64" {
		return "linux/arm64"
	}
	return "linux/amd64" // Fargate's default architecture is X86_64
}
