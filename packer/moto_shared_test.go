package packer_test

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/bp/infra/internal/moto"
)

// motoShared is one moto_server for the whole test binary; tests keep to
// their own bucket and parameter, so they may run in parallel. TestMain
// starts it at once and stops it. Its warm-up makes one call to each service
// the bake uses: moto loads a service's backend on its first request (SSM's
// takes most of a second), which this way overlaps the tests that need no
// moto instead of holding up the first bake.
var motoShared = &moto.Shared{Warm: func(s *moto.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = s.SSM().DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	_, _ = s.S3().ListBuckets(ctx, &s3.ListBucketsInput{})
}}
