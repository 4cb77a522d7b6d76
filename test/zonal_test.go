package test

import (
	"testing"
)

// TestPrivateSubnetsUseTheNatOfTheirZone: where a stage has a NAT gateway
// per zone, each private subnet's default route goes to the NAT gateway in
// its own zone. Traffic to a NAT in another zone pays cross-AZ data transfer
// on top of NAT processing, and that zone's outage would cut both ("If you
// have resources in multiple Availability Zones and they share one NAT
// gateway, and if the NAT gateway's Availability Zone is down, resources in
// the other Availability Zones lose internet access. To improve resiliency,
// create a NAT gateway in each Availability Zone, and configure your routing
// to ensure that resources use the NAT gateway in the same Availability
// Zone": Amazon VPC User Guide, NAT gateway basics).
func TestPrivateSubnetsUseTheNatOfTheirZone(t *testing.T) {
	checked := 0
	for _, b := range all() {
		net := b.stage.Cfg.Network
		if net.NatKind != "gateway" || net.NatCount < len(b.stage.Cfg.AvailabilityZones) {
			continue
		}
		tpl := b.templates["network"]
		zoneOf := map[string]string{} // subnet id -> zone
		for _, s := range tpl.Resources("AWS::EC2::Subnet") {
			zoneOf[s.LogicalID] = str(s.Props["AvailabilityZone"])
		}
		natZone := map[string]string{}
		for _, n := range tpl.Resources("AWS::EC2::NatGateway") {
			natZone[n.LogicalID] = zoneOf[str(get(n.Props, "SubnetId.Ref"))]
		}
		tableOf := map[string]string{} // route table -> subnet
		for _, a := range tpl.Resources("AWS::EC2::SubnetRouteTableAssociation") {
			tableOf[str(get(a.Props, "RouteTableId.Ref"))] = str(get(a.Props, "SubnetId.Ref"))
		}
		zonesServed := map[string]bool{}
		for _, r := range tpl.Where("AWS::EC2::Route", "DestinationCidrBlock", "0.0.0.0/0") {
			nat, ok := get(r.Props, "NatGatewayId.Ref").(string)
			if !ok {
				continue // the public subnets' route to the internet gateway
			}
			subnet := tableOf[str(get(r.Props, "RouteTableId.Ref"))]
			if zoneOf[subnet] == "" || zoneOf[subnet] != natZone[nat] {
				t.Errorf("%s: subnet %s (zone %q) routes to NAT %s in zone %q", b.label, subnet, zoneOf[subnet], nat, natZone[nat])
			}
			zonesServed[zoneOf[subnet]] = true
			checked++
		}
		if len(zonesServed) != len(b.stage.Cfg.AvailabilityZones) {
			t.Errorf("%s: private subnets with a NAT route in %d zones, want all %d", b.label, len(zonesServed), len(b.stage.Cfg.AvailabilityZones))
		}
	}
	if checked == 0 {
		t.Fatal("no stage has a NAT gateway per zone: production must")
	}
}

// TestLogGroupsAWSWouldCreateAreOurs: log groups that AWS services create on
// their own when they first write (then without expiry) exist in the
// templates first, with the stage's retention: Container Insights writes its
// performance events to /aws/ecs/containerinsights/<cluster>/performance
// (CloudWatch User Guide, Container Insights for Amazon ECS), and RDS
// exports each enabled log to /aws/rds/instance/<instance>/<log> (RDS User
// Guide, Publishing database logs to Amazon CloudWatch Logs).
func TestLogGroupsAWSWouldCreateAreOurs(t *testing.T) {
	for _, b := range all() {
		cfg, n := b.stage.Cfg, b.stage.Names
		want := map[string]string{} // group -> stack kind
		if cluster := b.templates["compute"].Where("AWS::ECS::Cluster", "ClusterName", n.Cluster()); len(cluster) == 1 &&
			str(cluster[0].Props["ClusterSettings"]) == `[{"Name":"containerInsights","Value":"enabled"}]` {
			want["/aws/ecs/containerinsights/"+n.Cluster()+"/performance"] = "compute"
		} else {
			t.Errorf("%s: cluster %s without Container Insights", b.label, n.Cluster())
		}
		for _, db := range b.templates["data"].Resources("AWS::RDS::DBInstance") {
			for _, log := range anyList(db.Props["EnableCloudwatchLogsExports"]) {
				want["/aws/rds/instance/"+str(db.Props["DBInstanceIdentifier"])+"/"+str(log)] = "data"
			}
		}
		if len(want) < 2 {
			t.Errorf("%s: expected Container Insights and RDS log exports, found %v", b.label, want)
		}
		for group, kind := range want {
			found := b.templates[kind].Where("AWS::Logs::LogGroup", "LogGroupName", group)
			if len(found) != 1 {
				t.Errorf("%s/%s: no log group %s: AWS would create it without expiry", b.label, kind, group)
				continue
			}
			if num(found[0].Props["RetentionInDays"]) != float64(cfg.LogRetentionDays) {
				t.Errorf("%s/%s: %s keeps %v days, want %d", b.label, kind, group, found[0].Props["RetentionInDays"], cfg.LogRetentionDays)
			}
		}
	}
}
