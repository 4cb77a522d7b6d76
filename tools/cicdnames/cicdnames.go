// Package cicdnames reads, from synthesized templates, every name of
// system-facts section 1 that CI/CD, the backend and the AMI pipeline rely on,
// and states that contract independently of the naming package, so a rename
// in code cannot silently break the pipeline.
package cicdnames

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Names are the contract names of one stage.
type Names struct {
	Cluster         string              `json:"cluster"`
	Services        []string            `json:"services"`
	TaskFamilies    []string            `json:"taskFamilies"`
	Containers      map[string][]string `json:"containers"` // family -> container names
	ContainerPorts  map[string]int      `json:"containerPorts"`
	Commands        map[string]string   `json:"commands"` // container -> command
	EcrRepositories []string            `json:"ecrRepositories"`
	ImageTags       map[string]string   `json:"imageTags"` // container -> tag
	AmiParameters   []string            `json:"amiParameters"`
	// MetricsNamespaces are the namespaces of the fleet metrics: what the
	// backend's task role may write and what alarms and scaling read with a
	// FleetSlug dimension.
	MetricsNamespaces []string `json:"metricsNamespaces"`
}

// Contract is system-facts section 1 for app prefix and stage, written out
// literally. Only the default (moving) image tags are stated; a pinned
// -c imageTag=<sha7> replaces "latest".
func Contract(app, stage string, fleetSlugs []string) Names {
	p := app + "-" + stage
	var amis []string
	for _, slug := range fleetSlugs {
		amis = append(amis, fmt.Sprintf("/%s/ami/fleets/%s/%s", app, stage, slug))
	}
	sort.Strings(amis)
	return Names{
		Cluster:      p,
		Services:     []string{p + "-backend", p + "-frontend"},
		TaskFamilies: []string{p + "-backend", p + "-frontend"},
		Containers: map[string][]string{
			p + "-backend":  {"nginx", "php-fpm", "queue-worker", "scheduler"},
			p + "-frontend": {"nextjs"},
		},
		ContainerPorts: map[string]int{"nginx": 80, "php-fpm": 9000, "nextjs": 3000},
		Commands: map[string]string{
			"scheduler":    "php artisan schedule:work",
			"queue-worker": "php artisan queue:work --sleep=3 --tries=3 --max-time=3600",
		},
		EcrRepositories:   []string{app + "-backend-" + stage, app + "-frontend-" + stage},
		ImageTags:         map[string]string{"nginx": "nginx-latest", "php-fpm": "php-latest", "scheduler": "php-latest", "queue-worker": "php-latest", "nextjs": "latest"},
		AmiParameters:     amis,
		MetricsNamespaces: []string{"ComfyUI/Workers"},
	}
}

// contractContainers are the containers the contract names; a task may carry
// helpers (e.g. an init container) beside them.
var contractContainers = map[string]bool{"nginx": true, "php-fpm": true, "scheduler": true, "queue-worker": true, "nextjs": true}

var (
	amiParam  = regexp.MustCompile(`/[A-Za-z0-9_-]+/ami/fleets/[A-Za-z0-9_-]+/[a-z0-9-]+`)
	imageTagR = regexp.MustCompile(`:([A-Za-z0-9._-]+)$`)
)

// Extract reads the names from one stage's templates (any number of stacks).
func Extract(templates []map[string]any) Names {
	n := Names{Containers: map[string][]string{}, ContainerPorts: map[string]int{}, Commands: map[string]string{}, ImageTags: map[string]string{}}
	amis := map[string]bool{}
	namespaces := map[string]bool{}
	backend := backendRoles(templates)
	for _, tpl := range templates {
		res, _ := tpl["Resources"].(map[string]any)
		for _, id := range slices.Sorted(maps.Keys(res)) {
			r, _ := res[id].(map[string]any)
			props, _ := r["Properties"].(map[string]any)
			switch r["Type"] {
			case "AWS::ECS::Cluster":
				n.Cluster = str(props["ClusterName"])
			case "AWS::ECS::Service":
				n.Services = append(n.Services, str(props["ServiceName"]))
			case "AWS::ECR::Repository":
				n.EcrRepositories = append(n.EcrRepositories, str(props["RepositoryName"]))
			case "AWS::ECS::TaskDefinition":
				family := str(props["Family"])
				n.TaskFamilies = append(n.TaskFamilies, family)
				defs, _ := props["ContainerDefinitions"].([]any)
				for _, d := range defs {
					c, _ := d.(map[string]any)
					name := str(c["Name"])
					if !contractContainers[name] {
						continue
					}
					n.Containers[family] = append(n.Containers[family], name)
					if ports, _ := c["PortMappings"].([]any); len(ports) > 0 {
						pm, _ := ports[0].(map[string]any)
						if f, ok := pm["ContainerPort"].(float64); ok {
							n.ContainerPorts[name] = int(f)
						}
					}
					if cmd, ok := c["Command"].([]any); ok {
						n.Commands[name] = joinStrings(cmd)
					}
					if m := imageTagR.FindStringSubmatch(flatten(c["Image"])); m != nil {
						n.ImageTags[name] = m[1]
					}
				}
				sort.Strings(n.Containers[family])
			}
			raw, _ := json.Marshal(r)
			for _, m := range amiParam.FindAllString(string(raw), -1) {
				amis[m] = true
			}
			for _, ns := range fleetNamespaces(r, backend) {
				namespaces[ns] = true
			}
		}
	}
	sort.Strings(n.Services)
	sort.Strings(n.TaskFamilies)
	sort.Strings(n.EcrRepositories)
	n.AmiParameters = slices.Sorted(maps.Keys(amis))
	n.MetricsNamespaces = slices.Sorted(maps.Keys(namespaces))
	return n
}

// Diff lists every way got differs from want.
func Diff(want, got Names) []string {
	w, _ := json.MarshalIndent(want, "", "  ")
	g, _ := json.MarshalIndent(got, "", "  ")
	if string(w) == string(g) {
		return nil
	}
	var wm, gm map[string]any
	_ = json.Unmarshal(w, &wm)
	_ = json.Unmarshal(g, &gm)
	var out []string
	for _, k := range slices.Sorted(maps.Keys(wm)) {
		wj, _ := json.Marshal(wm[k])
		gj, _ := json.Marshal(gm[k])
		if string(wj) != string(gj) {
			out = append(out, fmt.Sprintf("%s: want %s, synthesized %s", k, wj, gj))
		}
	}
	return out
}

// flatten renders an image reference, joining Fn::Join parts.
func flatten(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			parts, _ := j[1].([]any)
			var b strings.Builder
			for _, p := range parts {
				b.WriteString(flatten(p))
			}
			return b.String()
		}
		return "<token>"
	}
	return ""
}

func joinStrings(list []any) string {
	var parts []string
	for _, p := range list {
		parts = append(parts, str(p))
	}
	return strings.Join(parts, " ")
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// FleetSlugs reads the FleetSlug tags of the GPU fleets' Auto Scaling groups.
func FleetSlugs(templates []map[string]any) []string {
	slugs := map[string]bool{}
	for _, tpl := range templates {
		res, _ := tpl["Resources"].(map[string]any)
		for _, r := range res {
			rm, _ := r.(map[string]any)
			if rm["Type"] != "AWS::AutoScaling::AutoScalingGroup" {
				continue
			}
			props, _ := rm["Properties"].(map[string]any)
			tags, _ := props["Tags"].([]any)
			for _, t := range tags {
				tm, _ := t.(map[string]any)
				if tm["Key"] == "FleetSlug" {
					slugs[str(tm["Value"])] = true
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(slugs))
}

// backendRoles are the logical ids of the roles the backend's task
// definitions run as (TaskRoleArn), across the stage's templates.
func backendRoles(templates []map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, tpl := range templates {
		res, _ := tpl["Resources"].(map[string]any)
		for _, r := range res {
			rm, _ := r.(map[string]any)
			props, _ := rm["Properties"].(map[string]any)
			if rm["Type"] != "AWS::ECS::TaskDefinition" || !strings.HasSuffix(str(props["Family"]), "-backend") {
				continue
			}
			if ga, ok := props["TaskRoleArn"].(map[string]any)["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
				out[str(ga[0])] = true
			}
		}
	}
	return out
}

// fleetNamespaces lists the fleet-metric namespaces one resource uses: the
// PutMetricData namespace a backend role's policy allows, and every metric
// an alarm or scaling policy reads with a FleetSlug dimension.
func fleetNamespaces(r map[string]any, backend map[string]bool) []string {
	var out []string
	if r["Type"] == "AWS::IAM::Policy" {
		props, _ := r["Properties"].(map[string]any)
		roles, _ := json.Marshal(props["Roles"])
		attached := false
		for id := range backend {
			attached = attached || strings.Contains(string(roles), `"`+id+`"`)
		}
		if !attached {
			return nil
		}
		raw, _ := json.Marshal(props["PolicyDocument"])
		for _, part := range strings.Split(string(raw), `"cloudwatch:namespace":"`)[1:] {
			out = append(out, part[:strings.Index(part, `"`)])
		}
		return out
	}
	if r["Type"] != "AWS::CloudWatch::Alarm" && r["Type"] != "AWS::AutoScaling::ScalingPolicy" {
		return nil
	}
	var visit func(any)
	visit = func(v any) {
		switch node := v.(type) {
		case map[string]any:
			if ns, ok := node["Namespace"].(string); ok && strings.Contains(str2(node["Dimensions"]), `"FleetSlug"`) {
				out = append(out, ns)
			}
			for _, child := range node {
				visit(child)
			}
		case []any:
			for _, child := range node {
				visit(child)
			}
		}
	}
	visit(r["Properties"])
	return out
}

func str2(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
