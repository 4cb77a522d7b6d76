package test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// alarmMetric is one metric an alarm reads, from either template shape
// (a plain metric alarm or a metric-math alarm).
type alarmMetric struct {
	Namespace, Name string
	Dims            map[string]any
	Period          float64
}

func dimsOf(v any) map[string]any {
	out := map[string]any{}
	list, _ := v.([]any)
	for _, d := range list {
		m, _ := d.(map[string]any)
		out[str(m["Name"])] = m["Value"]
	}
	return out
}

// metricsOf lists the metrics of an alarm resource.
func metricsOf(r Resource) []alarmMetric {
	if r.Props["MetricName"] != nil {
		return []alarmMetric{{Namespace: str(r.Props["Namespace"]), Name: str(r.Props["MetricName"]), Dims: dimsOf(r.Props["Dimensions"]), Period: num(r.Props["Period"])}}
	}
	var out []alarmMetric
	list, _ := r.Props["Metrics"].([]any)
	for _, q := range list {
		stat := get(q, "MetricStat")
		if stat == nil {
			continue
		}
		out = append(out, alarmMetric{
			Namespace: str(get(stat, "Metric.Namespace")), Name: str(get(stat, "Metric.MetricName")),
			Dims: dimsOf(get(stat, "Metric.Dimensions")), Period: num(get(stat, "Period")),
		})
	}
	return out
}

// expressionOf is the returned math expression of a metric-math alarm, or "".
func expressionOf(r Resource) string {
	list, _ := r.Props["Metrics"].([]any)
	for _, q := range list {
		if get(q, "ReturnData") != false && get(q, "Expression") != nil {
			return str(get(q, "Expression"))
		}
	}
	return ""
}

// stageAlarms indexes the alarms of the stage's alarm stacks by name:
// Network holds the NAT alarms beside the NATs, GpuFleet the fleet Lambdas'
// error alarms beside the functions, Observability the rest.
func stageAlarms(t *testing.T, b *built) map[string]Resource {
	t.Helper()
	out := alarmsByName(t, b.templates["observability"])
	for _, kind := range []string{"network", gpuFleetKind} {
		for name, r := range alarmsByName(t, b.templates[kind]) {
			out[name] = r
		}
	}
	return out
}

// alertsTopicIn is how a stack refers to the alerts topic: a Ref in the
// Network stack, an import of its export elsewhere.
func alertsTopicIn(t *testing.T, b *built, kind string) any {
	t.Helper()
	if kind != "network" {
		return alertsTopicImport(t, b)
	}
	topics := b.templates["network"].Where("AWS::SNS::Topic", "TopicName", b.stage.Names.AlertsTopic())
	if len(topics) != 1 {
		t.Fatalf("%s: want one alerts topic in the network stack, found %d", b.label, len(topics))
	}
	return map[string]any{"Ref": topics[0].LogicalID}
}

// alarmsByName indexes a template's alarms by their (literal) AlarmName.
func alarmsByName(t *testing.T, tpl Template) map[string]Resource {
	t.Helper()
	out := map[string]Resource{}
	for _, r := range tpl.Resources("AWS::CloudWatch::Alarm") {
		name, ok := r.Props["AlarmName"].(string)
		if !ok {
			t.Errorf("alarm %s: AlarmName is not a literal: %s", r.LogicalID, str(r.Props["AlarmName"]))
			continue
		}
		out[name] = r
	}
	return out
}

// alertsTopicImport is how the observability stack refers to the Network
// stack's alerts topic: an Fn::ImportValue of the output that exports its Ref.
func alertsTopicImport(t *testing.T, b *built) any {
	t.Helper()
	net := b.templates["network"]
	topicName := b.stage.Names.AlertsTopic()
	topics := net.Where("AWS::SNS::Topic", "TopicName", topicName)
	if len(topics) != 1 {
		t.Fatalf("%s: want one topic %s in the network stack, found %d", b.label, topicName, len(topics))
	}
	outputs, _ := net["Outputs"].(map[string]any)
	for _, id := range slices.Sorted(maps.Keys(outputs)) {
		if equalJSON(get(outputs[id], "Value"), map[string]any{"Ref": topics[0].LogicalID}) {
			return map[string]any{"Fn::ImportValue": get(outputs[id], "Export.Name")}
		}
	}
	t.Fatalf("%s: the network stack exports no Ref of %s", b.label, topicName)
	return nil
}

// flatten concatenates the literal strings of a JSON value (an Fn::Join body).
func flatten(v any) string {
	var sb strings.Builder
	walk("", v, func(_ string, v any) {
		if s, ok := v.(string); ok {
			sb.WriteString(s)
		}
	})
	return sb.String()
}

func hasDims(m alarmMetric, want map[string]string) bool {
	if len(m.Dims) != len(want) {
		return false
	}
	for k, v := range want {
		if fmt.Sprint(m.Dims[k]) != v {
			return false
		}
	}
	return true
}
