// Package dbinit is a CloudFormation custom resource (Lambda ServiceToken)
// that creates the application databases and user on RDS MariaDB. It ships
// as a static Go binary (lambdas/cmd/dbinit) so it cannot miss a runtime
// dependency (review blocker 6).
package dbinit

import (
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/bp/infra/lambdas/internal/boot"
	"github.com/bp/infra/lambdas/internal/cfnresponse"
)

// Handler wires the function from its AWS configuration; lambdas/cmd/dbinit
// starts it (package boot says why the main lives apart).
func Handler() any {
	log, cfg := boot.AWS()
	h := newHandler(secretsmanager.NewFromConfig(cfg), log)
	return cfnresponse.Runner{Handler: h.Handle, Log: log}.Handle
}
