package dashboard

import (
	"math"
	"sort"
	"time"
)

// BucketStats summarizes the samples of one series that fall into one time
// bucket [Start, Start+step).
type BucketStats struct {
	Start time.Time `json:"start"`
	Count int       `json:"count"`
	Min   float64   `json:"min"`
	Max   float64   `json:"max"`
	Mean  float64   `json:"mean"`
	P50   float64   `json:"p50"`
	P95   float64   `json:"p95"`
	P99   float64   `json:"p99"`
}

// SeriesStats is the per-bucket summary of one series.
type SeriesStats struct {
	Key     string        `json:"key"`
	Labels  Labels        `json:"labels"`
	Buckets []BucketStats `json:"buckets"`
}

type bucket struct {
	start  time.Time
	values []float64
}

// Aggregate splits the window [from, to) into step-wide buckets and
// summarizes, for every series, each bucket that holds samples. Series with
// no samples in the window are left out; the result is ordered by series
// key, buckets by start.
func Aggregate(series []Series, from, to time.Time, step time.Duration) []SeriesStats {
	out := []SeriesStats{}
	for _, s := range series {
		buckets := map[string]*bucket{}
		for _, smp := range s.Samples {
			t := time.UnixMilli(smp.T)
			if !inWindow(t, from, to) {
				continue
			}
			start := bucketStart(from, t, step)
			key := start.Format(time.RFC3339Nano)
			b, ok := buckets[key]
			if !ok {
				b = &bucket{start: start}
				buckets[key] = b
			}
			b.values = append(b.values, smp.V)
		}
		if len(buckets) == 0 {
			continue
		}

		stats := []BucketStats{}
		for _, b := range buckets {
			stats = append(stats, summarize(b.start, b.values))
		}
		sort.Slice(stats, func(i, j int) bool { return stats[i].Start.Before(stats[j].Start) })
		out = append(out, SeriesStats{Key: SeriesKey(s.Metric, s.Labels), Labels: s.Labels, Buckets: stats})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func summarize(start time.Time, values []float64) BucketStats {
	return BucketStats{
		Start: start,
		Count: len(values),
		Min:   minOf(values),
		Max:   maxOf(values),
		Mean:  meanOf(values),
		P50:   Percentile(values, 50),
		P95:   Percentile(values, 95),
		P99:   Percentile(values, 99),
	}
}

func minOf(values []float64) float64 {
	m := values[0]
	for _, v := range values[1:] {
		if v < m {
			m = v
		}
	}
	return m
}

func maxOf(values []float64) float64 {
	m := values[0]
	for _, v := range values[1:] {
		if v > m {
			m = v
		}
	}
	return m
}

func meanOf(values []float64) float64 {
	sum := 0.0
	for _, v := range values {
		sum += v
	}
	return sum / float64(len(values))
}

// Percentile returns the p-th percentile (0..100) of values, interpolating
// linearly between the closest ranks (numpy's default definition). It
// returns NaN for no values and does not modify values.
func Percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	sorted := make([]float64, len(values))
	copy(sorted, values)
	sort.Float64s(sorted)
	return percentileSorted(sorted, p)
}

func percentileSorted(sorted []float64, p float64) float64 {
	lo, frac := rank(len(sorted), p)
	if frac == 0 {
		return sorted[lo]
	}
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

// rank returns the index of the lower closest rank of the p-th percentile
// among n sorted values and the fraction of the way to the next one.
func rank(n int, p float64) (int, float64) {
	if p <= 0 {
		return 0, 0
	}
	if p >= 100 {
		return n - 1, 0
	}
	r := p / 100 * float64(n-1)
	lo := int(r)
	return lo, r - float64(lo)
}
