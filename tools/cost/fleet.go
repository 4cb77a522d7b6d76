package main

import (
	"fmt"

	"github.com/bp/infra/internal/cfn"
)

// estimateASG prices an Auto Scaling group (a GPU fleet) at MinSize: the
// first instance type of its MixedInstancesPolicy overrides or of its launch
// template, split on-demand/Spot by the instances distribution, plus EBS.
// Every instance type it may launch gets an hourly usage price.
func estimateASG(e *stackEstimate, id string, res cfn.Resource) {
	p := e.p
	props := res.Properties
	name := e.displayName(id, res, "AutoScalingGroupName")
	key := "asg/" + id
	minSize, err := e.r.Number(props["MinSize"])
	if err != nil {
		e.unpriced(key, "fleet", id, res.Type, "Auto Scaling group "+name, why("MinSize", err))
		return
	}
	types, ltData, err := e.asgInstanceTypes(props)
	if err != nil {
		e.unpriced(key, "fleet", id, res.Type, "Auto Scaling group "+name, err.Error())
		return
	}
	onDemand, spot := asgMarketSplit(e, props, ltData, minSize)
	first := types[0]
	price, ok := p.EC2.InstanceHour[first]
	if !ok {
		e.unpriced(key, "fleet", id, res.Type, fmt.Sprintf("Auto Scaling group %s at min %s x %s", name, fmtQty(minSize), first), "instance type "+first+" has no price in the price file")
	} else {
		spotOnly := isSpotOnly(e, props, ltData)
		if onDemand > 0 || (minSize == 0 && !spotOnly) {
			e.add(key+"/on-demand", "fleet", id, res.Type, fmt.Sprintf("Auto Scaling group %s at min %s: %s on-demand", name, fmtQty(minSize), first), onDemand*p.HoursPerMonth, "instance-hours", price)
		}
		if spot > 0 || (minSize == 0 && spotOnly) {
			e.add(key+"/spot", "fleet", id, res.Type, fmt.Sprintf("Auto Scaling group %s at min %s: %s Spot (estimate %.0f%% of on-demand)", name, fmtQty(minSize), first, p.EC2.SpotFraction*100), spot*p.HoursPerMonth, "instance-hours", price*p.EC2.SpotFraction)
		}
	}
	if ltData != nil {
		e.addEBS(key+"/ebs", "fleet", id, res.Type, "Auto Scaling group "+name+" EBS at min", ltData["BlockDeviceMappings"], minSize)
	}
	if minSize == 0 {
		e.note(id, "%s scales from 0: every running instance is billed by the hour (see usage prices); a stuck instance costs the hourly rate x 730 per month", name)
	}
	for _, t := range types {
		hourly, ok := p.EC2.InstanceHour[t]
		if !ok {
			e.usageUnpriced("EC2 "+t+" on-demand", "instance-hour")
			continue
		}
		e.usagePrice("EC2 "+t+" on-demand", "instance-hour", hourly)
		e.usagePrice(fmt.Sprintf("EC2 %s Spot (estimate %.0f%% of on-demand)", t, p.EC2.SpotFraction*100), "instance-hour", hourly*p.EC2.SpotFraction)
	}
}

// asgInstanceTypes lists the instance types in launch order (overrides
// first) and returns the launch template data when the stack holds it.
func (e *stackEstimate) asgInstanceTypes(props map[string]any) ([]string, map[string]any, error) {
	var types []string
	var spec any
	if mip, ok := props["MixedInstancesPolicy"].(map[string]any); ok {
		lt, _ := mip["LaunchTemplate"].(map[string]any)
		spec = lt["LaunchTemplateSpecification"]
		overrides, _ := lt["Overrides"].([]any)
		for _, o := range overrides {
			m, _ := o.(map[string]any)
			if _, ok := m["InstanceRequirements"]; ok {
				return nil, nil, fmt.Errorf("attribute-based instance selection cannot be priced")
			}
			t, err := e.r.String(m["InstanceType"])
			if err != nil {
				return nil, nil, fmt.Errorf("%s", why("Overrides InstanceType", err))
			}
			types = append(types, t)
		}
	} else if lt, ok := props["LaunchTemplate"]; ok {
		spec = lt
	}
	var data map[string]any
	if spec != nil {
		if d, err := e.launchTemplateData(spec); err == nil {
			data = d
		} else if len(types) == 0 {
			return nil, nil, fmt.Errorf("%s", why("launch template", err))
		}
	}
	if len(types) == 0 && data != nil {
		t, err := e.r.String(data["InstanceType"])
		if err != nil {
			return nil, nil, fmt.Errorf("%s", why("launch template InstanceType", err))
		}
		types = append(types, t)
	}
	if len(types) == 0 {
		if lcName, ok := props["LaunchConfigurationName"]; ok {
			if _, lc, ok := e.target(lcName); ok {
				t, err := e.r.String(lc.Properties["InstanceType"])
				if err != nil {
					return nil, nil, fmt.Errorf("%s", why("launch configuration InstanceType", err))
				}
				return []string{t}, map[string]any{"BlockDeviceMappings": lc.Properties["BlockDeviceMappings"]}, nil
			}
		}
		return nil, nil, fmt.Errorf("no instance type found in overrides, launch template or launch configuration")
	}
	return types, data, nil
}

// asgMarketSplit returns how many of n instances run on-demand and on Spot.
func asgMarketSplit(e *stackEstimate, props, ltData map[string]any, n float64) (onDemand, spot float64) {
	if mip, ok := props["MixedInstancesPolicy"].(map[string]any); ok {
		base, pct := 0.0, 100.0
		if dist, ok := mip["InstancesDistribution"].(map[string]any); ok {
			if v, err := e.r.Number(dist["OnDemandBaseCapacity"]); err == nil {
				base = v
			}
			if v, err := e.r.Number(dist["OnDemandPercentageAboveBaseCapacity"]); err == nil {
				pct = v
			}
		}
		b := min(base, n)
		onDemand = b + (n-b)*pct/100
		return onDemand, n - onDemand
	}
	if isSpotOnly(e, props, ltData) {
		return 0, n
	}
	return n, 0
}

// isSpotOnly tells whether the group launches only Spot instances.
func isSpotOnly(e *stackEstimate, props, ltData map[string]any) bool {
	if mip, ok := props["MixedInstancesPolicy"].(map[string]any); ok {
		dist, _ := mip["InstancesDistribution"].(map[string]any)
		base, _ := e.r.Number(dist["OnDemandBaseCapacity"])
		pct, err := e.r.Number(dist["OnDemandPercentageAboveBaseCapacity"])
		return dist != nil && err == nil && pct == 0 && base == 0
	}
	if ltData == nil {
		return false
	}
	mo, _ := ltData["InstanceMarketOptions"].(map[string]any)
	mt, err := e.r.String(mo["MarketType"])
	return err == nil && mt == "spot"
}
