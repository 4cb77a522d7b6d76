package spotfallback

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// activitiesAPI reads a group's scaling activities.
type activitiesAPI interface {
	DescribeScalingActivities(ctx context.Context, in *autoscaling.DescribeScalingActivitiesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeScalingActivitiesOutput, error)
}

// instancesAPI tells Spot from On-Demand instances.
type instancesAPI interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

// maxActivityPages bounds the activity history read per fleet and run
// (100 activities a page); a fallback episode needs far fewer.
const maxActivityPages = 10

// activitiesSince returns the group's scaling activities that started at or
// after since. The API describes "Activities still in progress ... first",
// then the rest by start time, newest first (DescribeScalingActivities, API
// reference), so an older activity still running is skipped, and the read
// ends at the first older one that has ended.
func activitiesSince(ctx context.Context, api activitiesAPI, asg string, since time.Time) ([]astypes.Activity, error) {
	in := &autoscaling.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String(asg), MaxRecords: aws.Int32(100)}
	var out []astypes.Activity
	for page := 0; page < maxActivityPages; page++ {
		res, err := api.DescribeScalingActivities(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("describe scaling activities of %s: %w", asg, err)
		}
		for _, a := range res.Activities {
			if aws.ToTime(a.StartTime).Before(since) {
				if inProgress(a) {
					continue
				}
				return out, nil
			}
			out = append(out, a)
		}
		if aws.ToString(res.NextToken) == "" {
			return out, nil
		}
		in.NextToken = res.NextToken
	}
	return out, nil
}

// inProgress reports an activity that has not ended: every status but
// Successful, Failed and Cancelled.
func inProgress(a astypes.Activity) bool {
	switch a.StatusCode {
	case astypes.ScalingActivityStatusCodeSuccessful, astypes.ScalingActivityStatusCodeFailed, astypes.ScalingActivityStatusCodeCancelled:
		return false
	}
	return true
}

// Launch activities read "Launching a new EC2 instance: i-..." once EC2 gave
// an instance, and "Launching a new EC2 instance.  Status Reason: ..." when
// the launch failed (EC2 Auto Scaling User Guide, "Troubleshoot": example
// describe-scaling-activities output).
var reLaunchedInstance = regexp.MustCompile(`^Launching a new EC2 instance: (i-[0-9a-f]+)`)

func isLaunch(a astypes.Activity) bool {
	return strings.HasPrefix(aws.ToString(a.Description), "Launching a new EC2 instance")
}

// isSpotShortage reports a failed launch for want of Spot capacity. EC2 Auto
// Scaling puts EC2's reason in StatusMessage (and after "Status Reason:" in
// Description). The texts:
//   - "There is no Spot capacity available that matches your request.
//     Launching EC2 instance failed." (a Spot group's failed launch, in
//     describe-scaling-activities output published in aws/aws-parallelcluster
//     issue 1944);
//   - "Could not launch Spot Instances. InsufficientInstanceCapacity - There is
//     no Spot capacity available that matches your request. Launching EC2
//     instance failed." (a group of Spot and On-Demand pools, kubernetes/autoscaler
//     issue 3241);
//   - EC2 error code UnfulfillableCapacity: "At this time there isn't enough
//     spare capacity to fulfill your request for Spot Instances" (EC2 API
//     Reference, error codes), in the same "Could not launch Spot Instances.
//     <code> - <text>" form.
//
// A launch short of On-Demand capacity ("We currently do not have sufficient
// <type> capacity in the Availability Zone you requested ...", kubernetes/autoscaler
// issue 1402) or over a quota names no Spot: more On-Demand would not help.
func isSpotShortage(a astypes.Activity) bool {
	if a.StatusCode != astypes.ScalingActivityStatusCodeFailed || !isLaunch(a) {
		return false
	}
	msg := aws.ToString(a.StatusMessage) + " " + aws.ToString(a.Description)
	if strings.Contains(msg, "There is no Spot capacity available") {
		return true
	}
	return strings.Contains(msg, "Spot") &&
		(strings.Contains(msg, "InsufficientInstanceCapacity") || strings.Contains(msg, "UnfulfillableCapacity"))
}

// launchedInstance is the instance of a launch that did not fail, or "".
func launchedInstance(a astypes.Activity) string {
	switch a.StatusCode {
	case astypes.ScalingActivityStatusCodeFailed, astypes.ScalingActivityStatusCodeCancelled:
		return ""
	}
	if m := reLaunchedInstance.FindStringSubmatch(aws.ToString(a.Description)); m != nil {
		return m[1]
	}
	return ""
}

// spotShort reports whether Spot is failing now: a Spot shortage is the
// newest launch activity of acts (newest first). A later launch that went
// through means Spot (or the group's On-Demand share) delivered after all.
func spotShort(acts []astypes.Activity) (bool, string) {
	for _, a := range acts {
		if !isLaunch(a) {
			continue
		}
		if isSpotShortage(a) {
			return true, strings.TrimSpace(aws.ToString(a.StatusMessage))
		}
		return false, ""
	}
	return false, ""
}

// capacityMissing is how many of the desired instances the group lacks:
// instances pending or in service count, terminating or detaching ones do not.
func capacityMissing(g *astypes.AutoScalingGroup) int {
	have := 0
	for _, in := range g.Instances {
		s := string(in.LifecycleState)
		if strings.HasPrefix(s, "Pending") || in.LifecycleState == astypes.LifecycleStateInService {
			have++
		}
	}
	return max(0, int(aws.ToInt32(g.DesiredCapacity))-have)
}

// spotLaunched returns a Spot instance of the group that a launch after
// since brought up, or "": proof that Spot capacity is back. Only instances
// still in the group are asked about (EC2 fails the whole call on an id it
// no longer knows).
func spotLaunched(ctx context.Context, api instancesAPI, g *astypes.AutoScalingGroup, acts []astypes.Activity, since time.Time) (string, error) {
	inGroup := map[string]bool{}
	for _, in := range g.Instances {
		inGroup[aws.ToString(in.InstanceId)] = true
	}
	var ids []string
	for _, a := range acts {
		if aws.ToTime(a.StartTime).Before(since) {
			continue
		}
		if id := launchedInstance(a); id != "" && inGroup[id] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return "", nil
	}
	out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		return "", fmt.Errorf("describe instances %v: %w", ids, err)
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if in.InstanceLifecycle == ec2types.InstanceLifecycleTypeSpot {
				return aws.ToString(in.InstanceId), nil
			}
		}
	}
	return "", nil
}
