package compute

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/jsii-runtime-go"
	"github.com/bp/infra/naming"
	"github.com/bp/infra/stacks/network"
)

// Frontend container (system-facts section 1).
const NextjsContainer = "nextjs"

// newFrontendService is the Next.js task with the same care as the backend.
func newFrontendService(stack awscdk.Stack, p Props, cluster awsecs.Cluster) awsecs.FargateService {
	sizes := p.Cfg.Frontend
	def := taskDefinition(stack, p, "FrontendTask", FrontendService, sizes.Cpu, sizes.MemoryMiB)
	logs := serviceLogGroup(stack, p, FrontendService)
	def.AddVolume(&awsecs.Volume{Name: jsii.String("nextjs-cache")})
	def.AddVolume(&awsecs.Volume{Name: jsii.String("nextjs-tmp")})
	nextjs := def.AddContainer(jsii.String(NextjsContainer), &awsecs.ContainerDefinitionOptions{
		Image:                  awsecs.ContainerImage_FromEcrRepository(p.Data.FrontendRepo, jsii.String(naming.ImageTag("", p.Cfg.ImageTag))),
		Essential:              jsii.Bool(true),
		Environment:            ptrMap(frontendEnvironment(p)),
		ReadonlyRootFilesystem: jsii.Bool(true),
		Logging:                logTo(logs, NextjsContainer),
		PortMappings:           &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(network.NextjsPort), Name: jsii.String("http")}},
		HealthCheck: shellHealthCheck(`node -e "require('http').get('http://127.0.0.1:` + strconv.Itoa(network.NextjsPort) +
			`/', r => process.exit(r.statusCode < 500 ? 0 : 1)).on('error', () => process.exit(1))"`),
	})
	// Next.js writes its image and fetch cache under .next/cache.
	nextjs.AddMountPoints(
		&awsecs.MountPoint{SourceVolume: jsii.String("nextjs-cache"), ContainerPath: jsii.String("/app/.next/cache"), ReadOnly: jsii.Bool(false)},
		&awsecs.MountPoint{SourceVolume: jsii.String("nextjs-tmp"), ContainerPath: jsii.String("/tmp"), ReadOnly: jsii.Bool(false)},
	)
	allowExec(p, def, nextjs)
	return newService(stack, p, cluster, "FrontendService", FrontendService, def, sizes, p.Net.SecurityGroups.Frontend)
}
