package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

const (
	providerFargate     = "FARGATE"
	providerFargateSpot = "FARGATE_SPOT"
)

// strategyEntry is one capacity provider of a service's strategy.
type strategyEntry struct {
	provider     string
	weight, base float64
}

// estimateECSService prices a Fargate service's tasks at DesiredCount, split
// between FARGATE and FARGATE_SPOT by its capacity provider strategy.
func estimateECSService(e *stackEstimate, id string, res cfn.Resource) {
	props := res.Properties
	name := e.displayName(id, res, "ServiceName")
	key := "fargate/" + id
	if lt, err := e.r.String(props["LaunchType"]); err == nil && lt != "FARGATE" {
		e.note(id, "service %s runs on %s capacity: its instances are priced with their Auto Scaling group", name, lt)
		return
	}
	desired := 1.0
	if v, ok := props["DesiredCount"]; ok {
		d, err := e.r.Number(v)
		if err != nil {
			e.unpriced(key, "fargate", id, res.Type, "Fargate service "+name, why("DesiredCount", err))
			return
		}
		desired = d
	} else if min, ok := e.scalableMinimum(id); ok {
		// The count belongs to the scalable target; at idle it sits at its minimum.
		desired = min
		e.note(id, "service %s sets no DesiredCount: at idle it runs its scalable target's MinCapacity, %s", name, fmtQty(min))
	} else {
		e.note(id, "service %s sets no DesiredCount: CloudFormation starts 1 task", name)
	}
	task, err := e.fargateTask(props["TaskDefinition"])
	if err != nil {
		e.unpriced(key, "fargate", id, res.Type, "Fargate service "+name, err.Error())
		return
	}
	strategy, err := e.serviceStrategy(props)
	if err != nil {
		e.unpriced(key, "fargate", id, res.Type, "Fargate service "+name, err.Error())
		return
	}
	shares := splitTasks(desired, strategy)
	placed := 0.0
	for _, n := range shares {
		placed += n
	}
	if placed+1e-9 < desired {
		e.unpriced(key, "fargate", id, res.Type, "Fargate service "+name, "capacity provider strategy has no weight to place all tasks")
		return
	}
	for _, p := range slices.Sorted(maps.Keys(shares)) {
		if p != providerFargate && p != providerFargateSpot {
			e.note(id, "service %s places %s tasks on capacity provider %s: priced with its instances", name, fmtQty(shares[p]), p)
		}
	}
	perTask := task.monthly(e.p)
	spec := fmt.Sprintf("%s vCPU/%s GB %s", fmtQty(task.vcpu), fmtQty(task.gb), task.arch)
	if n, ok := shares[providerFargate]; ok {
		e.add(key+"/on-demand", "fargate", id, res.Type, fmt.Sprintf("Fargate %s on-demand tasks (%s)", name, spec), n, "task-months", perTask)
	}
	if n, ok := shares[providerFargateSpot]; ok {
		e.add(key+"/spot", "fargate", id, res.Type, fmt.Sprintf("Fargate %s Spot tasks (%s, %.0f%% of on-demand)", name, spec, e.p.Fargate.SpotFraction*100), n, "task-months", perTask*e.p.Fargate.SpotFraction)
	}
}

type fargateTask struct {
	vcpu, gb float64
	arch     string
}

func (t fargateTask) monthly(p *Prices) float64 {
	rate := p.Fargate.X86
	if t.arch == "ARM64" {
		rate = p.Fargate.ARM64
	}
	return (t.vcpu*rate.VCPUHour + t.gb*rate.GBHour) * p.HoursPerMonth
}

// fargateTask resolves the service's TaskDefinition Ref within the template.
func (e *stackEstimate) fargateTask(ref any) (fargateTask, error) {
	tdID, td, ok := e.target(ref)
	if !ok || td.Type != "AWS::ECS::TaskDefinition" {
		return fargateTask{}, fmt.Errorf("task definition is not a resource of this stack, so its size is unknown")
	}
	cpu, err := e.r.Number(td.Properties["Cpu"])
	if err != nil {
		return fargateTask{}, fmt.Errorf("task definition %s: %s", tdID, why("Cpu", err))
	}
	mem, err := e.r.Number(td.Properties["Memory"])
	if err != nil {
		return fargateTask{}, fmt.Errorf("task definition %s: %s", tdID, why("Memory", err))
	}
	arch := "X86_64"
	if rp, ok := td.Properties["RuntimePlatform"].(map[string]any); ok {
		if v, ok := rp["CpuArchitecture"]; ok {
			if arch, err = e.r.String(v); err != nil {
				return fargateTask{}, fmt.Errorf("task definition %s: %s", tdID, why("CpuArchitecture", err))
			}
		}
		if os, err := e.r.String(rp["OperatingSystemFamily"]); err == nil && strings.HasPrefix(os, "WINDOWS") {
			return fargateTask{}, fmt.Errorf("task definition %s: Windows Fargate is not in the price file", tdID)
		}
	}
	if arch != "ARM64" && arch != "X86_64" {
		return fargateTask{}, fmt.Errorf("task definition %s: unknown CPU architecture %s", tdID, arch)
	}
	return fargateTask{vcpu: cpu / 1024, gb: mem / 1024, arch: arch}, nil
}

// serviceStrategy returns the service's capacity provider strategy, else the
// default strategy of its cluster, else plain FARGATE.
func (e *stackEstimate) serviceStrategy(props map[string]any) ([]strategyEntry, error) {
	if list, ok := props["CapacityProviderStrategy"]; ok {
		return e.parseStrategy(list)
	}
	if _, ok := props["LaunchType"]; !ok {
		cluster := props["Cluster"]
		for _, id := range e.t.OfType("AWS::ECS::ClusterCapacityProviderAssociations") {
			assoc := e.t.Resources[id].Properties
			if sameValue(assoc["Cluster"], cluster) {
				return e.parseStrategy(assoc["DefaultCapacityProviderStrategy"])
			}
		}
		for _, id := range e.t.OfType("AWS::ECS::Cluster") {
			if ref, ok := cfn.TargetID(cluster); ok && ref == id {
				if def, ok := e.t.Resources[id].Properties["DefaultCapacityProviderStrategy"]; ok {
					return e.parseStrategy(def)
				}
			}
		}
	}
	return []strategyEntry{{provider: providerFargate, weight: 1}}, nil
}

func sameValue(a, b any) bool {
	if ida, ok := cfn.TargetID(a); ok {
		idb, ok := cfn.TargetID(b)
		return ok && ida == idb
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func (e *stackEstimate) parseStrategy(v any) ([]strategyEntry, error) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("capacity provider strategy is not a literal list")
	}
	var out []strategyEntry
	for _, item := range list {
		m, _ := item.(map[string]any)
		provider, err := e.r.String(m["CapacityProvider"])
		if err != nil {
			return nil, fmt.Errorf("%s", why("CapacityProvider", err))
		}
		s := strategyEntry{provider: provider}
		if w, ok := m["Weight"]; ok {
			if s.weight, err = e.r.Number(w); err != nil {
				return nil, fmt.Errorf("%s", why("Weight", err))
			}
		}
		if b, ok := m["Base"]; ok {
			if s.base, err = e.r.Number(b); err != nil {
				return nil, fmt.Errorf("%s", why("Base", err))
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// splitTasks places desired tasks as ECS does: each provider's base first,
// then the rest in proportion to the weights. The result is the expected
// share per provider (it may be fractional; ECS rounds task by task).
func splitTasks(desired float64, strategy []strategyEntry) map[string]float64 {
	shares := map[string]float64{}
	remaining := desired
	totalWeight := 0.0
	for _, s := range strategy {
		b := min(s.base, remaining)
		shares[s.provider] += b
		remaining -= b
		totalWeight += s.weight
	}
	for _, s := range strategy {
		if totalWeight > 0 {
			shares[s.provider] += remaining * s.weight / totalWeight
		}
	}
	return shares
}

// scalableMinimum is the MinCapacity of the scalable target that owns the
// desired count of service id (its ResourceId refers to the service).
func (e *stackEstimate) scalableMinimum(id string) (float64, bool) {
	for _, tid := range e.t.OfType("AWS::ApplicationAutoScaling::ScalableTarget") {
		props := e.t.Resources[tid].Properties
		if dim, _ := e.r.String(props["ScalableDimension"]); dim != "ecs:service:DesiredCount" {
			continue
		}
		if !slices.Contains(cfn.CollectRefs(props["ResourceId"]).IDs, id) {
			continue
		}
		if min, err := e.r.Number(props["MinCapacity"]); err == nil {
			return min, true
		}
	}
	return 0, false
}
