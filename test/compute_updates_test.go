package test

import (
	"testing"
)

// TestServicesLeaveTheirCountToAutoscaling: a deploy must not reset the
// running task count. AWS::ECS::Service, DesiredCount (CloudFormation User
// Guide): "For new services, if a desired count is not specified, a default
// value of 1 is used. [...] For existing services, if a desired count is not
// specified, it is omitted from the operation." So the template leaves it out
// and the scalable target owns the count (aws/containers-roadmap#493 is the
// reset that a fixed DesiredCount causes on every deploy).
func TestServicesLeaveTheirCountToAutoscaling(t *testing.T) {
	for _, b := range all() {
		if b.stage.Cfg.Cluster.ServicesStartAtZero {
			continue
		}
		for _, svc := range []string{"backend", "frontend"} {
			s := service(b, svc)
			if s.Raw == nil || len(s.Props) == 0 {
				t.Fatalf("%s: no %s service", b.label, svc)
			}
			if d, ok := s.Props["DesiredCount"]; ok {
				t.Errorf("%s: %s service sets DesiredCount %v: every deploy would reset the autoscaled count", b.label, svc, d)
			}
			if target := scalingTarget(b, svc); target.Props["MinCapacity"] == nil {
				t.Errorf("%s: %s service has no scalable target to own its count", b.label, svc)
			}
		}
	}
}

// TestFirstDeployKeepsServicesAtZero: with cluster.servicesStartAtZero both
// the service and its scalable target stay at 0. RegisterScalableTarget
// (Application Auto Scaling API Reference): "If you register a scalable
// target with a minimum capacity above the current capacity, Application
// Auto Scaling scales out to the minimum"; a minimum of 1 would start a task
// whose image is not pushed yet, and the circuit breaker would roll back.
func TestFirstDeployKeepsServicesAtZero(t *testing.T) {
	b := variants["switched-on"]
	for _, svc := range []string{"backend", "frontend"} {
		if got := service(b, svc).Props["DesiredCount"]; num(got) != 0 {
			t.Errorf("%s: %s DesiredCount = %v, want 0", b.label, svc, got)
		}
		if got := scalingTarget(b, svc).Props["MinCapacity"]; num(got) != 0 {
			t.Errorf("%s: %s scalable target MinCapacity = %v, want 0", b.label, svc, got)
		}
	}
}

// TestRunTaskWithoutLaunchTypeUsesFargate: the pipeline's migration is
// `aws ecs run-task --task-definition <app>-<stage>-backend` with no launch
// type. RunTask (Amazon ECS API Reference): "When you use cluster auto
// scaling, you must specify capacityProviderStrategy and not launchType. [...]
// If a capacityProviderStrategy is not specified, the
// defaultCapacityProviderStrategy for the cluster is used" and without a
// default strategy the launch type is EC2, which this cluster has no
// instances for.
func TestRunTaskWithoutLaunchTypeUsesFargate(t *testing.T) {
	for _, b := range all() {
		assoc := b.templates["compute"].One(t, "AWS::ECS::ClusterCapacityProviderAssociations")
		strategy, _ := assoc.Props["DefaultCapacityProviderStrategy"].([]any)
		var fargate bool
		for _, s := range strategy {
			if get(s, "CapacityProvider") == "FARGATE" && num(get(s, "Weight")) > 0 {
				fargate = true
			}
		}
		if !fargate {
			t.Errorf("%s: the cluster's default capacity provider strategy %s has no weighted FARGATE entry", b.label, str(strategy))
		}
	}
}
