package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bp/infra/internal/cfn"
)

// stackEstimate collects the line items, notes and usage prices of one stack.
type stackEstimate struct {
	stack  cfn.Stack
	t      *cfn.Template
	r      cfn.Resolver
	p      *Prices
	items  []LineItem
	notes  []Note
	usage  map[string]UsagePrice // by item
	counts map[string]*aggregate // per-stack aggregated categories
}

type aggregate struct {
	category, resourceType, unit string
	unitPrice                    float64
	quantity                     float64
	resources                    int
	detail                       string
}

type estimator func(e *stackEstimate, id string, res cfn.Resource)

// estimators price each resource type that has a fixed monthly cost or a
// usage price worth showing. Types that cost nothing are in freeTypes; any
// other type is reported UNPRICED.
var estimators = map[string]estimator{
	"AWS::EC2::NatGateway":                      estimateNATGateway,
	"AWS::EC2::EIP":                             estimateEIP,
	"AWS::EC2::Instance":                        estimateInstance,
	"AWS::ElasticLoadBalancingV2::LoadBalancer": estimateLoadBalancer,
	"AWS::EC2::VPCEndpoint":                     estimateVPCEndpoint,
	"AWS::RDS::DBInstance":                      estimateDBInstance,
	"AWS::RDS::DBCluster":                       estimateDBCluster,
	"AWS::ElastiCache::ReplicationGroup":        estimateReplicationGroup,
	"AWS::ElastiCache::CacheCluster":            estimateCacheCluster,
	"AWS::ElastiCache::ServerlessCache":         estimateServerlessCache,
	"AWS::ECS::Service":                         estimateECSService,
	"AWS::CloudWatch::Alarm":                    estimateAlarm,
	"AWS::CloudWatch::CompositeAlarm":           estimateCompositeAlarm,
	"AWS::CloudWatch::Dashboard":                estimateDashboard,
	"AWS::SecretsManager::Secret":               estimateSecret,
	"AWS::KMS::Key":                             estimateKMSKey,
	"AWS::KMS::ReplicaKey":                      estimateKMSKey,
	"AWS::AutoScaling::AutoScalingGroup":        estimateASG,
	"AWS::Logs::LogGroup":                       estimateLogGroup,
	"AWS::CloudFront::Distribution":             estimateCloudFront,
	"AWS::S3::Bucket":                           estimateBucket,
	"AWS::WAFv2::WebACL":                        estimateWebACL,
	"AWS::Lambda::Function":                     estimateLambda,
	"AWS::ECR::Repository":                      estimateECRRepository,
	"AWS::SNS::Topic":                           estimateSNSTopic,
	"AWS::Budgets::Budget":                      estimateBudget,
	"AWS::ECS::Cluster":                         estimateECSCluster,
	"AWS::EC2::FlowLog":                         estimateFlowLog,
	"AWS::SSM::Parameter":                       estimateSSMParameter,
	"AWS::Logs::MetricFilter":                   estimateMetricFilter,
	"AWS::CloudFront::Function":                 estimateCloudFrontFunction,
}

// estimateStack prices one stack.
func estimateStack(st cfn.Stack, p *Prices) (StackReport, []UsagePrice) {
	e := newStackEstimate(st, p)
	for _, id := range st.Template.LogicalIDs() {
		res := st.Template.Resources[id]
		if !e.created(id, res) {
			continue
		}
		if f, ok := estimators[res.Type]; ok {
			f(e, id, res)
		} else if _, free := isFree(res.Type); !free {
			unknownType(e, id, res)
		}
	}
	e.flushAggregates()
	usage := make([]UsagePrice, 0, len(e.usage))
	for _, u := range e.usage {
		usage = append(usage, u)
	}
	return StackReport{Name: st.Name, Items: e.items, Notes: e.notes}, usage
}

// created tells whether a resource's Condition lets it exist; one whose
// condition the template alone cannot decide is priced, with a note.
func (e *stackEstimate) created(id string, res cfn.Resource) bool {
	if res.Condition == "" {
		return true
	}
	ok, err := e.r.Condition(res.Condition)
	if err != nil {
		e.note(id, "condition %s is decided at deploy time: priced as if created", res.Condition)
		return true
	}
	return ok
}

func newStackEstimate(st cfn.Stack, p *Prices) *stackEstimate {
	return &stackEstimate{
		stack:  st,
		t:      st.Template,
		r:      cfn.Resolver{T: st.Template, Pseudo: map[string]any{"AWS::Region": p.Region, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": st.Name}},
		p:      p,
		usage:  map[string]UsagePrice{},
		counts: map[string]*aggregate{},
	}
}

// add records a priced line: quantity x unit price per month.
func (e *stackEstimate) add(key, category, id, typ, desc string, qty float64, unit string, unitPrice float64) {
	e.items = append(e.items, LineItem{
		Key: key, Category: category, Resource: id, ResourceType: typ, Description: desc,
		Quantity: qty, Unit: unit, UnitPriceUSD: unitPrice, MonthlyUSD: qty * unitPrice,
	})
}

// unpriced records a line the report cannot price; it is shown loudly and
// kept out of the totals.
func (e *stackEstimate) unpriced(key, category, id, typ, desc, reason string) {
	e.items = append(e.items, LineItem{
		Key: key, Category: category, Resource: id, ResourceType: typ, Description: desc,
		Unpriced: true, Reason: reason,
	})
}

func (e *stackEstimate) note(id, format string, args ...any) {
	e.notes = append(e.notes, Note{Resource: id, Text: fmt.Sprintf(format, args...)})
}

// usagePrice lists a unit price of something billed by use.
func (e *stackEstimate) usagePrice(item, unit string, price float64) {
	e.usage[item] = UsagePrice{Item: item, Unit: unit, PriceUSD: price, Stacks: []string{e.stack.Name}}
}

func (e *stackEstimate) usageUnpriced(item, unit string) {
	e.usage[item] = UsagePrice{Item: item, Unit: unit, Stacks: []string{e.stack.Name}, Unpriced: true}
}

// count adds to a per-stack aggregate line (alarms, secrets, keys...).
func (e *stackEstimate) count(category, typ, unit string, unitPrice, qty float64, detail string) {
	a, ok := e.counts[category]
	if !ok {
		a = &aggregate{category: category, resourceType: typ, unit: unit, unitPrice: unitPrice, detail: detail}
		e.counts[category] = a
	}
	a.quantity += qty
	a.resources++
}

func (e *stackEstimate) flushAggregates() {
	for _, c := range slices.Sorted(maps.Keys(e.counts)) {
		a := e.counts[c]
		desc := fmt.Sprintf("%s: %d %s", a.detail, a.resources, plural(a.resources, "resource"))
		e.add(c, c, "*", a.resourceType, desc, a.quantity, a.unit, a.unitPrice)
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// target returns the resource a Ref/GetAtt value points at, if it is in
// this template.
func (e *stackEstimate) target(v any) (string, cfn.Resource, bool) {
	id, ok := cfn.TargetID(v)
	if !ok {
		return "", cfn.Resource{}, false
	}
	res, ok := e.t.Resources[id]
	return id, res, ok
}

// why explains an unresolved value for an unpriced line.
func why(prop string, err error) string {
	var u *cfn.ErrUnresolved
	if errors.As(err, &u) {
		return fmt.Sprintf("%s is not known from the template (%s)", prop, u.What)
	}
	return fmt.Sprintf("%s: %v", prop, err)
}

// displayName prefers a literal physical name property over the logical id.
func (e *stackEstimate) displayName(id string, res cfn.Resource, prop string) string {
	if v, ok := res.Properties[prop]; ok {
		if s, err := e.r.String(v); err == nil && s != "" {
			return s
		}
	}
	return id
}

func fmtQty(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}
