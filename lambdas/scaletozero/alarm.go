package scaletozero

import (
	"encoding/json"
	"fmt"

	"github.com/bp/infra/bootcontract"
)

// The alarm this function acts on.
const (
	metricNamespace = bootcontract.MetricsNamespace
	metricName      = "QueueDepth"
	stateAlarm      = "ALARM"
)

// alarmMessage is the part of a CloudWatch alarm SNS notification we read.
type alarmMessage struct {
	AlarmName     string `json:"AlarmName"`
	NewStateValue string `json:"NewStateValue"`
	Trigger       struct {
		MetricName         string  `json:"MetricName"`
		Namespace          string  `json:"Namespace"`
		ComparisonOperator string  `json:"ComparisonOperator"`
		Threshold          float64 `json:"Threshold"`
		Dimensions         []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"Dimensions"`
	} `json:"Trigger"`
}

func parseAlarm(message string) (alarmMessage, error) {
	var m alarmMessage
	if err := json.Unmarshal([]byte(message), &m); err != nil {
		return alarmMessage{}, fmt.Errorf("SNS message is not a CloudWatch alarm JSON: %w", err)
	}
	if m.AlarmName == "" || m.NewStateValue == "" {
		return alarmMessage{}, fmt.Errorf("SNS message lacks AlarmName or NewStateValue")
	}
	return m, nil
}

// dimension returns the value of the named trigger dimension.
func (m alarmMessage) dimension(name string) (string, bool) {
	for _, d := range m.Trigger.Dimensions {
		if d.Name == name {
			return d.Value, true
		}
	}
	return "", false
}

// isQueueEmptyAlarm is true for an ALARM transition of a QueueDepth alarm
// that means "the queue is empty" (<= 0 or < a positive number): a misrouted
// "queue is deep" alarm must never scale a busy fleet to zero.
func (m alarmMessage) isQueueEmptyAlarm() bool {
	t := m.Trigger
	empty := t.ComparisonOperator == "LessThanOrEqualToThreshold" && t.Threshold <= 0 ||
		t.ComparisonOperator == "LessThanThreshold" && t.Threshold <= 1
	return m.NewStateValue == stateAlarm && t.Namespace == metricNamespace && t.MetricName == metricName && empty
}
