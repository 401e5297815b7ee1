// Package dashboard turns the time series returned by the metrics store into
// what a dashboard shows: per-bucket statistics, "sum by label" views, top-N
// series, downsampled lines and the JSON-ready panel for a "last N days"
// query.
package dashboard

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Labels are the key/value pairs that, together with the metric name,
// identify a series.
type Labels map[string]string

// Sample is one point of a series: unix milliseconds and value.
type Sample struct {
	T int64   `json:"t"`
	V float64 `json:"v"`
}

// Series is one time series as the store returns it, samples in time order.
type Series struct {
	Metric  string
	Labels  Labels
	Samples []Sample
}

// SeriesKey is the canonical identity of a series: the metric name followed
// by its labels sorted by name, e.g. `latency_ms{endpoint="/login",service="api"}`.
func SeriesKey(metric string, labels Labels) string {
	names := []string{}
	for name := range labels {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := []string{}
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s=%q", name, labels[name]))
	}
	return fmt.Sprintf("%s{%s}", metric, strings.Join(parts, ","))
}

// bucketStart returns the start of the step-wide bucket, counted from from,
// that contains t.
func bucketStart(from, t time.Time, step time.Duration) time.Time {
	return from.Add(t.Sub(from) / step * step)
}

func inWindow(t, from, to time.Time) bool {
	return !t.Before(from) && t.Before(to)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
