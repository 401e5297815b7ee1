package dashboard

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
	"time"
)

const benchSeed = 20240607

var benchNow = time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)

var benchDays = []int{1, 7}

var seriesCache = map[int][]Series{}

// benchSeries returns the deterministic input for a days-long window,
// generated once per process so that setup stays out of the timings.
func benchSeries(days int) []Series {
	if s, ok := seriesCache[days]; ok {
		return s
	}
	s := DemoSeries(benchSeed, benchNow, days)
	seriesCache[days] = s
	return s
}

func countSamples(series []Series) int {
	n := 0
	for _, s := range series {
		n += len(s.Samples)
	}
	return n
}

func BenchmarkAggregate(b *testing.B) {
	for _, days := range benchDays {
		b.Run(fmt.Sprintf("days=%d", days), func(b *testing.B) {
			series := benchSeries(days)
			from := benchNow.Add(-time.Duration(days) * 24 * time.Hour)
			step := StepFor(days)
			b.ReportAllocs()
			for b.Loop() {
				Aggregate(series, from, benchNow, step)
			}
			b.ReportMetric(float64(countSamples(series)), "samples/op")
		})
	}
}

func BenchmarkPanel(b *testing.B) {
	for _, days := range benchDays {
		b.Run(fmt.Sprintf("days=%d", days), func(b *testing.B) {
			series := benchSeries(days)
			q := Query{Metric: DemoMetric, Days: days, Now: benchNow, GroupBy: "service", TopN: 5, MaxPoints: 200}
			var n int
			b.ReportAllocs()
			for b.Loop() {
				n = len(BuildPanel(series, q).Series)
			}
			b.ReportMetric(float64(n), "series/op")
		})
	}
}

func BenchmarkGroupBy(b *testing.B) {
	series := benchSeries(7)
	from := benchNow.Add(-7 * 24 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		GroupBy(series, "region", from, benchNow, StepFor(7))
	}
}

func BenchmarkTopN(b *testing.B) {
	series := benchSeries(7)
	from := benchNow.Add(-7 * 24 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		TopN(series, from, benchNow, 5)
	}
}

func BenchmarkParseText(b *testing.B) {
	// Four hours of scrapes as the collector writes them: every series at
	// one timestamp, then the next timestamp.
	series := benchSeries(1)
	var data []byte
	for i := range 48 {
		for _, s := range series {
			data = AppendText(data, Series{Metric: s.Metric, Labels: s.Labels, Samples: s.Samples[i : i+1]})
		}
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseText(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDownsample(b *testing.B) {
	// A long raw line: a random walk, one sample a second for a day.
	rng := rand.New(rand.NewSource(benchSeed))
	line := make([]Sample, 24*3600)
	v := 100.0
	for i := range line {
		v = math.Max(1, v+rng.NormFloat64())
		line[i] = Sample{T: benchNow.UnixMilli() + int64(i)*1000, V: v}
	}
	b.ReportAllocs()
	for b.Loop() {
		Downsample(line, 500)
	}
}
