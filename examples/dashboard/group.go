package dashboard

import (
	"fmt"
	"sort"
	"time"
)

// GroupBucket is the sum of the samples of a group in one time bucket.
type GroupBucket struct {
	Start time.Time `json:"start"`
	Sum   float64   `json:"sum"`
	Count int       `json:"count"`
}

// GroupSeries is one line of a "sum by label" view.
type GroupSeries struct {
	Value   string        `json:"value"`
	Buckets []GroupBucket `json:"buckets"`
}

type groupBucket struct {
	group string
	GroupBucket
}

// GroupBy sums, per step-wide bucket of [from, to), the samples of all series
// that share the same value of label; series without the label form the
// group "". Groups are ordered by label value, buckets by start.
func GroupBy(series []Series, label string, from, to time.Time, step time.Duration) []GroupSeries {
	sums := map[string]*groupBucket{}
	groups := []string{}
	for _, s := range series {
		value := s.Labels[label]
		for _, smp := range s.Samples {
			t := time.UnixMilli(smp.T)
			if !inWindow(t, from, to) {
				continue
			}
			start := bucketStart(from, t, step)
			key := fmt.Sprintf("%s|%d", value, start.UnixNano())
			b, ok := sums[key]
			if !ok {
				b = &groupBucket{group: value, GroupBucket: GroupBucket{Start: start}}
				sums[key] = b
			}
			b.Sum += smp.V
			b.Count++
			if !contains(groups, value) {
				groups = append(groups, value)
			}
		}
	}
	sort.Strings(groups)

	out := []GroupSeries{}
	for _, value := range groups {
		buckets := []GroupBucket{}
		for _, b := range sums {
			if b.group == value {
				buckets = append(buckets, b.GroupBucket)
			}
		}
		sort.Slice(buckets, func(i, j int) bool { return buckets[i].Start.Before(buckets[j].Start) })
		out = append(out, GroupSeries{Value: value, Buckets: buckets})
	}
	return out
}
