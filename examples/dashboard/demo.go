package dashboard

import (
	"math"
	"math/rand"
	"time"
)

// DemoMetric is the metric DemoSeries generates.
const DemoMetric = "http_request_duration_ms"

// DemoResolution is the spacing of the samples the demo store returns for a
// days-long query. Like most metric stores it keeps raw samples for a short
// time and coarser rollups for longer ranges.
func DemoResolution(days int) time.Duration {
	switch {
	case days <= 1:
		return 5 * time.Minute
	case days <= 7:
		return 20 * time.Minute
	default:
		return time.Hour
	}
}

var (
	demoServices  = []string{"api", "auth", "search"}
	demoEndpoints = []string{"/get", "/list"}
	demoRegions   = []string{"eu-west-1", "us-east-1"}
)

// DemoSeries generates days days of request-latency samples ending at now
// (exclusive), one sample per series every DemoResolution(days), for every
// service × endpoint × region. The same seed gives the same series.
func DemoSeries(seed int64, now time.Time, days int) []Series {
	rng := rand.New(rand.NewSource(seed))
	start := now.Add(-time.Duration(days) * 24 * time.Hour).UnixMilli()
	every := DemoResolution(days)
	n := int(time.Duration(days) * 24 * time.Hour / every)
	var out []Series
	for _, svc := range demoServices {
		for _, ep := range demoEndpoints {
			for _, region := range demoRegions {
				base := 20 + 180*rng.Float64()
				samples := make([]Sample, n)
				for i := range samples {
					t := start + int64(i)*every.Milliseconds()
					minute := float64(t/60000%1440) / 1440
					// Busier, slower afternoons, log-normal noise and the
					// occasional stall.
					v := base * (1 + 0.4*math.Sin(2*math.Pi*minute)) * math.Exp(0.35*rng.NormFloat64())
					if rng.Intn(200) == 0 {
						v *= 8
					}
					samples[i] = Sample{T: t, V: math.Round(v*100) / 100}
				}
				out = append(out, Series{
					Metric:  DemoMetric,
					Labels:  Labels{"service": svc, "endpoint": ep, "region": region},
					Samples: samples,
				})
			}
		}
	}
	return out
}
