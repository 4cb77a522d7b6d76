package gpufleet

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/bp/infra/config"
)

// rootVolumeInitRate is the root volume's EBS Provisioned Rate for Volume
// Initialization, or nil for EBS's default. The root volume is created from
// the AMI's snapshot: without a rate its blocks load from S3 on first read at
// a rate EBS does not state, and the first reads of a baked model and of
// ComfyUI's Python packages pay for it. With a rate (100-300 MiB/s) the whole
// snapshot loads in a predictable time after launch, overlapping the boot.
// EBS bills it per GiB of snapshot data at every launch, so it is per fleet
// and off by default (docs/scale-from-zero.md prices it).
func rootVolumeInitRate(f config.Fleet) awscdk.Size {
	if f.RootVolumeInitRateMiBps == 0 {
		return nil
	}
	return awscdk.Size_Mebibytes(jsii.Number(float64(f.RootVolumeInitRateMiBps)))
}
