package dashboard

import (
	"sort"
	"time"
)

// SeriesRank summarizes one series over a window, to rank it.
type SeriesRank struct {
	Key    string  `json:"key"`
	Labels Labels  `json:"labels"`
	Count  int     `json:"count"`
	Mean   float64 `json:"mean"`
	Max    float64 `json:"max"`
	P95    float64 `json:"p95"`
	Last   float64 `json:"last"`
}

// TopN ranks the series by the p95 of their samples in [from, to), highest
// first (ties by key), and returns the first n; n <= 0 returns all of them.
// Series with no samples in the window are left out.
func TopN(series []Series, from, to time.Time, n int) []SeriesRank {
	ranks := []SeriesRank{}
	for _, s := range series {
		var values []float64
		for _, smp := range s.Samples {
			if inWindow(time.UnixMilli(smp.T), from, to) {
				values = append(values, smp.V)
			}
		}
		if len(values) == 0 {
			continue
		}
		ranks = append(ranks, SeriesRank{
			Key:    SeriesKey(s.Metric, s.Labels),
			Labels: s.Labels,
			Count:  len(values),
			Mean:   meanOf(values),
			Max:    maxOf(values),
			P95:    Percentile(values, 95),
			Last:   values[len(values)-1],
		})
	}
	sort.Slice(ranks, func(i, j int) bool {
		if ranks[i].P95 != ranks[j].P95 {
			return ranks[i].P95 > ranks[j].P95
		}
		return ranks[i].Key < ranks[j].Key
	})
	if n > 0 && len(ranks) > n {
		ranks = ranks[:n]
	}
	return ranks
}
