package main

import (
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// dataVerb says what an IAM action does to a resource's data, "" for
// actions that are not drawn: control-plane and metadata calls (Describe*,
// ecr:GetAuthorizationToken), the caller's own logs (logs:*), KMS use that
// accompanies an access already drawn, ENI management, Session Manager.
func dataVerb(action string) (service, verb string) {
	service, name, ok := strings.Cut(action, ":")
	if !ok {
		return "", ""
	}
	service, lname := strings.ToLower(service), strings.ToLower(name)
	has := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(lname, p) {
				return true
			}
		}
		return false
	}
	switch service {
	case "s3":
		switch {
		case lname == "*":
			return service, "read/write"
		case has("get", "list"):
			return service, "read"
		case has("put", "delete", "abortmultipartupload", "restore"):
			return service, "write"
		}
	case "secretsmanager":
		switch {
		case lname == "*":
			return service, "read/write"
		case lname == "getsecretvalue":
			return service, "read"
		case lname == "putsecretvalue" || lname == "updatesecret":
			return service, "write"
		}
	case "ssm":
		switch {
		case has("getparameter"):
			return service, "read"
		case lname == "putparameter" || has("deleteparameter"):
			return service, "write"
		}
	case "sns":
		if lname == "publish" {
			return service, "publish"
		}
	case "sqs":
		switch lname {
		case "sendmessage":
			return service, "send"
		case "receivemessage", "deletemessage":
			return service, "receive"
		}
	case "ecr":
		switch lname {
		case "batchgetimage", "getdownloadurlforlayer", "batchchecklayeravailability":
			return service, "image pull"
		case "putimage", "initiatelayerupload", "uploadlayerpart", "completelayerupload":
			return service, "image push"
		}
	case "lambda":
		if lname == "invokefunction" {
			return service, "invoke"
		}
	case "autoscaling":
		if has("set", "update", "startinstancerefresh", "terminateinstance", "completelifecycleaction", "recordlifecycleactionheartbeat", "detach", "attach", "enterstandby", "exitstandby") {
			return service, name
		}
	case "cloudwatch":
		switch lname {
		case "putmetricdata":
			return service, "write"
		case "getmetricdata", "getmetricstatistics", "listmetrics":
			return service, "read"
		}
	}
	return "", ""
}

// serviceKinds are the node kinds an action of a service can touch.
var serviceKinds = map[string]string{
	"s3": kindBucket.name, "secretsmanager": kindSecret.name, "ssm": kindSSM.name, "sns": kindSNS.name,
	"sqs": kindSQS.name, "ecr": kindECR.name, "lambda": kindLambda.name, "autoscaling": kindASG.name,
}

type statement struct {
	stack     string
	actions   []string
	resources []any
	condition map[string]any
}

// grants draws the data access that the roles of compute resources allow:
// the ECS task role, an ASG's instance profile, a Lambda's role, from the
// caller to the resource; the ECS execution role's secrets and images,
// which ECS fetches when a task starts, from the resource to the service.
func (b *builder) grants() {
	params := map[string]bool{}
	for _, node := range slices.Sorted(maps.Keys(b.members)) {
		taskRoles, execRoles := b.rolesOf(node)
		for _, role := range taskRoles {
			for _, s := range b.statementsOf(role) {
				b.drawStatement(node, s, false, params)
			}
		}
		for _, role := range execRoles {
			for _, s := range b.statementsOf(role) {
				b.drawStatement(node, s, true, params)
			}
		}
	}
	if len(params) > 0 {
		id := b.outside(kindParamStore, kindParamStore.label)
		b.nodes[id].Label = kindParamStore.label + "\\n" + strings.Join(slices.Sorted(maps.Keys(params)), "\\n")
	}
}

// rolesOf returns the roles whose permissions a drawn compute resource
// uses: the roles its code runs with, and (ECS) the execution role.
func (b *builder) rolesOf(node string) (roles, exec []nodeKey) {
	isRole := func(k nodeKey) bool {
		r, ok := b.idx.resource(k)
		return ok && r.Type == "AWS::IAM::Role"
	}
	for _, k := range b.members[node] {
		r, _ := b.idx.resource(k)
		switch r.Type {
		case "AWS::ECS::Service":
			for _, td := range b.taskDefinitions(k, r) {
				roles = append(roles, slices.DeleteFunc(b.idx.keys(td.key.stack, td.res.Properties["TaskRoleArn"]), func(k nodeKey) bool { return !isRole(k) })...)
				exec = append(exec, slices.DeleteFunc(b.idx.keys(td.key.stack, td.res.Properties["ExecutionRoleArn"]), func(k nodeKey) bool { return !isRole(k) })...)
			}
		case "AWS::AutoScaling::AutoScalingGroup":
			for _, lt := range launchTemplates(b.idx, k, r) {
				for _, ip := range b.idx.keys(lt.key.stack, dig(lt.res.Properties, "LaunchTemplateData", "IamInstanceProfile")) {
					if p, ok := b.idx.resource(ip); ok && p.Type == "AWS::IAM::InstanceProfile" {
						roles = append(roles, slices.DeleteFunc(b.idx.keys(ip.stack, p.Properties["Roles"]), func(k nodeKey) bool { return !isRole(k) })...)
					}
				}
			}
		case "AWS::Lambda::Function":
			roles = append(roles, slices.DeleteFunc(b.idx.keys(k.stack, r.Properties["Role"]), func(k nodeKey) bool { return !isRole(k) })...)
		}
	}
	return roles, exec
}

// statementsOf returns the Allow statements attached to a role: its inline
// policies, AWS::IAM::Policy and customer managed policies of the stage.
func (b *builder) statementsOf(role nodeKey) []statement {
	var out []statement
	addDoc := func(stack string, doc any) {
		for _, s := range list(dig(doc, "Statement")) {
			m, _ := s.(map[string]any)
			if m == nil || str(m, "Effect") != "Allow" || m["NotAction"] != nil || m["NotResource"] != nil {
				continue
			}
			var actions []string
			for _, a := range list(m["Action"]) {
				if s, ok := a.(string); ok {
					actions = append(actions, s)
				}
			}
			cond, _ := m["Condition"].(map[string]any)
			out = append(out, statement{stack: stack, actions: actions, resources: list(m["Resource"]), condition: cond})
		}
	}
	r, _ := b.idx.resource(role)
	for _, p := range list(r.Properties["Policies"]) {
		addDoc(role.stack, dig(p, "PolicyDocument"))
	}
	managed := b.idx.keys(role.stack, r.Properties["ManagedPolicyArns"])
	b.idx.each(func(k nodeKey, p cfn.Resource) {
		if slices.Contains(b.idx.keys(k.stack, p.Properties["Roles"]), role) || slices.Contains(managed, k) {
			addDoc(k.stack, p.Properties["PolicyDocument"])
		}
	}, "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
	return out
}

func (b *builder) drawStatement(node string, s statement, exec bool, params map[string]bool) {
	for _, action := range s.actions {
		service, verb := dataVerb(action)
		if verb == "" {
			continue
		}
		for _, res := range s.resources {
			targets, scope := b.statementTargets(s, service, res, params)
			for _, to := range targets {
				switch {
				case !exec:
					b.access(node, to, strings.TrimSpace(verb+" "+scope))
				case service == "secretsmanager" && verb == "read":
					b.access(to, node, "injected at start")
				case service == "ecr" && verb == "image pull":
					b.access(to, node, "image pull at start")
				}
			}
		}
	}
}

// statementTargets returns the drawn nodes one Resource entry of a
// statement names for a service's action, and what the condition limits
// the access to (a metric namespace).
func (b *builder) statementTargets(s statement, service string, res any, params map[string]bool) ([]string, string) {
	if res == "*" {
		switch service {
		case "cloudwatch":
			ns := conditionValues(s.condition, "StringEquals", "cloudwatch:namespace")
			return []string{b.outside(kindMetrics, kindMetrics.label)}, strings.Join(ns, ", ")
		case "autoscaling":
			return b.taggedASGs(s.condition), ""
		}
		return nil, ""
	}
	return b.resourceTargets(s, service, res, params), ""
}

func (b *builder) resourceTargets(s statement, service string, res any, params map[string]bool) []string {
	want := serviceKinds[service]
	var out []string
	add := func(id string) {
		if id != "" && b.nodes[id].Kind == want && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	refs := b.idx.refs(s.stack, res)
	for _, r := range refs {
		for _, id := range b.refNodes(r) {
			add(id)
		}
	}
	if len(refs) > 0 {
		return out
	}
	arn := b.idx.literal(s.stack, res)
	switch service {
	case "ssm":
		_, path, ok := strings.Cut(arn, ":parameter")
		if !ok {
			return nil
		}
		matched := false
		b.idx.each(func(k nodeKey, p cfn.Resource) {
			if globMatch(path, str(p.Properties, "Name")) {
				add(b.node(k))
				matched = true
			}
		}, "AWS::SSM::Parameter")
		if !matched {
			params[path] = true
			return []string{b.outside(kindParamStore, kindParamStore.label)}
		}
	case "autoscaling":
		_, name, ok := strings.Cut(arn, ":autoScalingGroupName/")
		if !ok {
			return nil
		}
		b.idx.each(func(k nodeKey, p cfn.Resource) {
			if globMatch(name, str(p.Properties, "AutoScalingGroupName")) {
				add(b.node(k))
			}
		}, "AWS::AutoScaling::AutoScalingGroup")
	}
	return out
}

// refNodes returns the drawn nodes behind a reference in a policy: a
// secret attachment stands for its secret, a database's
// MasterUserSecret.SecretArn for the secret RDS manages for it.
func (b *builder) refNodes(r ref) []string {
	res, ok := b.idx.resource(r.key)
	if !ok {
		return nil
	}
	switch {
	case res.Type == "AWS::SecretsManager::SecretTargetAttachment":
		var out []string
		for _, k := range b.idx.keys(r.key.stack, res.Properties["SecretId"]) {
			if id := b.node(k); id != "" {
				out = append(out, id)
			}
		}
		return out
	case strings.HasPrefix(r.attr, "MasterUserSecret."):
		return []string{b.masterSecret(r.key)}
	}
	if id := b.node(r.key); id != "" {
		return []string{id}
	}
	return nil
}

// masterSecret returns the node of the master-user secret RDS manages for
// a database (ManageMasterUserPassword): it is no resource of the template.
func (b *builder) masterSecret(db nodeKey) string {
	id := nodeID(db.stack, db.id+"_MasterUserSecret")
	if _, ok := b.nodes[id]; !ok {
		name := "master user of " + shortID(db.id)
		if dbNode := b.nodes[b.node(db)]; dbNode != nil {
			name = "master user of " + dbNode.Name
		}
		b.nodes[id] = &Node{ID: id, Stack: db.stack, Kind: kindSecret.name, Name: name, Label: kindSecret.label + "\\n" + name + "\\n(managed by RDS)", Shape: kindSecret.shape}
	}
	return id
}

// taggedASGs returns the ASGs that an autoscaling statement on "*" reaches
// when its condition limits it to resource tags: every tag condition must
// hold for the ASG's tags. Without such a condition it is not drawn.
func (b *builder) taggedASGs(cond map[string]any) []string {
	tags := map[string][]string{}
	for op, v := range cond {
		m, _ := v.(map[string]any)
		for key := range m {
			tag, ok := strings.CutPrefix(key, "autoscaling:ResourceTag/")
			if !ok {
				tag, ok = strings.CutPrefix(key, "aws:ResourceTag/")
			}
			if !ok || op != "StringEquals" {
				return nil // a condition the template cannot decide
			}
			tags[tag] = conditionValues(cond, op, key)
		}
	}
	if len(tags) == 0 {
		return nil
	}
	var out []string
	b.idx.each(func(k nodeKey, r cfn.Resource) {
		for tag, values := range tags {
			if !slices.Contains(values, tagValue(r, tag)) {
				return
			}
		}
		if id := b.node(k); id != "" {
			out = append(out, id)
		}
	}, "AWS::AutoScaling::AutoScalingGroup")
	sort.Strings(out)
	return out
}

func conditionValues(cond map[string]any, op, key string) []string {
	var out []string
	for _, v := range list(dig(cond, op, key)) {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// globMatch matches an IAM resource pattern (* and ?) against a name.
func globMatch(pattern, name string) bool {
	if name == "" {
		return false
	}
	var re strings.Builder
	re.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re.WriteString("$")
	ok, _ := regexp.MatchString(re.String(), name)
	return ok
}
