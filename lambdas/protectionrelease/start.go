// Package protectionrelease is a custom resource placed after each fleet's
// ASG: on stack deletion it runs first and clears scale-in protection, so
// CloudFormation can delete the ASG instead of waiting on protected instances.
package protectionrelease

import (
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/bp/infra/lambdas/internal/boot"
	"github.com/bp/infra/lambdas/internal/cfnresponse"
)

// Handler wires the function from its AWS configuration; lambdas/cmd/protectionrelease
// starts it (package boot says why the main lives apart).
func Handler() any {
	log, cfg := boot.AWS()
	h := &handler{asg: autoscaling.NewFromConfig(cfg), log: log}
	return cfnresponse.Runner{Handler: h.Handle, Log: log}.Handle
}
