package fakeaws

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// MetricQuery is one MetricDataQuery the fake CloudWatch received.
type MetricQuery struct {
	ID         string
	Namespace  string
	MetricName string
	Dimensions map[string]string
	Stat       string
	Period     int64
	Start, End time.Time
}

// CloudWatch fakes GetMetricData over rpc-v2-cbor, the protocol the SDK's
// CloudWatch client uses since the 2025 protocol migration.
type CloudWatch struct {
	Server *httptest.Server

	mu      sync.Mutex
	series  map[string][]float64 // dimension key -> values, oldest first, one per period ending at EndTime
	fail    map[string]string    // dimension key -> error type
	queries []MetricQuery
}

// NewCloudWatch starts the fake.
func NewCloudWatch(t testing.TB) *CloudWatch {
	c := &CloudWatch{series: map[string][]float64{}, fail: map[string]string{}}
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.Server.Close)
	return c
}

// DimensionKey renders dimensions as "A=x,B=y" sorted by name.
func DimensionKey(dims map[string]string) string {
	parts := make([]string, 0, len(dims))
	for k, v := range dims {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// SetSeries stores datapoints for a metric's dimensions: values[len-1] is the
// period that ends at the query's EndTime, earlier values go back one period
// each. Values outside the window are not returned.
func (c *CloudWatch) SetSeries(dims map[string]string, values []float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.series[DimensionKey(dims)] = append([]float64(nil), values...)
}

// FailFor makes queries for dims fail with the given error type.
func (c *CloudWatch) FailFor(dims map[string]string, errType string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail[DimensionKey(dims)] = errType
}

// Queries returns every query received.
func (c *CloudWatch) Queries() []MetricQuery {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]MetricQuery(nil), c.queries...)
}

func (c *CloudWatch) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/operation/GetMetricData") || r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		writeCBORError(w, "UnknownOperationException", "fake serves rpc-v2-cbor GetMetricData only, got "+r.URL.Path)
		return
	}
	body, _ := io.ReadAll(r.Body)
	v, err := cbor.Decode(body)
	if err != nil {
		writeCBORError(w, "SerializationException", err.Error())
		return
	}
	in, ok := v.(cbor.Map)
	if !ok {
		writeCBORError(w, "SerializationException", "request body is not a map")
		return
	}
	start, err1 := cbor.AsTime(in["StartTime"])
	end, err2 := cbor.AsTime(in["EndTime"])
	if err1 != nil || err2 != nil {
		writeCBORError(w, "InvalidParameterValueException", "StartTime and EndTime are required")
		return
	}
	list, _ := in["MetricDataQueries"].(cbor.List)

	c.mu.Lock()
	defer c.mu.Unlock()
	var results cbor.List
	for _, item := range list {
		q := parseMetricQuery(item)
		q.Start, q.End = start, end
		c.queries = append(c.queries, q)
		key := DimensionKey(q.Dimensions)
		if typ, ok := c.fail[key]; ok {
			writeCBORError(w, typ, "injected failure for "+key)
			return
		}
		results = append(results, c.result(q, c.series[key]))
	}
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	_, _ = w.Write(cbor.Encode(cbor.Map{"MetricDataResults": results, "Messages": cbor.List{}}))
}

// result lays values back from End, newest first (TimestampDescending).
func (c *CloudWatch) result(q MetricQuery, values []float64) cbor.Map {
	period := time.Duration(q.Period) * time.Second
	if period <= 0 {
		period = time.Minute
	}
	ts, vals := cbor.List{}, cbor.List{}
	for i := len(values) - 1; i >= 0; i-- {
		at := q.End.Add(-time.Duration(len(values)-i) * period)
		if at.Before(q.Start) {
			break
		}
		ts = append(ts, &cbor.Tag{ID: 1, Value: cbor.Float64(float64(at.UnixMilli()) / 1e3)})
		vals = append(vals, cbor.Float64(values[i]))
	}
	return cbor.Map{
		"Id": cbor.String(q.ID), "Label": cbor.String(q.MetricName), "StatusCode": cbor.String("Complete"),
		"Timestamps": ts, "Values": vals,
	}
}

func parseMetricQuery(v cbor.Value) MetricQuery {
	q := MetricQuery{Dimensions: map[string]string{}}
	m, _ := v.(cbor.Map)
	q.ID = str(m["Id"])
	stat, _ := m["MetricStat"].(cbor.Map)
	q.Stat = str(stat["Stat"])
	q.Period, _ = cbor.AsInt64(stat["Period"])
	metric, _ := stat["Metric"].(cbor.Map)
	q.Namespace = str(metric["Namespace"])
	q.MetricName = str(metric["MetricName"])
	dims, _ := metric["Dimensions"].(cbor.List)
	for _, d := range dims {
		dm, _ := d.(cbor.Map)
		q.Dimensions[str(dm["Name"])] = str(dm["Value"])
	}
	return q
}

func str(v cbor.Value) string {
	if s, ok := v.(cbor.String); ok {
		return string(s)
	}
	return ""
}

func writeCBORError(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(typ), "message": cbor.String(fmt.Sprint(msg))}))
}
