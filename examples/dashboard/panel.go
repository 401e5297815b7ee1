package dashboard

import (
	"fmt"
	"time"
)

// Query describes one dashboard panel: a metric over the last Days days.
type Query struct {
	Metric    string
	Days      int
	Now       time.Time // end of the window (exclusive)
	GroupBy   string    // label for the "sum by" view; empty for none
	TopN      int       // series in the "slowest" table; 0 for all
	MaxPoints int       // per raw line after downsampling; 0 for no limit
}

// Panel is the JSON document the dashboard front end renders.
type Panel struct {
	Title   string        `json:"title"`
	From    time.Time     `json:"from"`
	To      time.Time     `json:"to"`
	Step    string        `json:"step"`
	Samples int           `json:"samples"`
	Series  []PanelSeries `json:"series"`
	Top     []SeriesRank  `json:"top"`
	Lines   []PanelLine   `json:"lines"`
	Groups  []GroupSeries `json:"groups,omitempty"`
}

// PanelSeries is one series of the panel: its mean and p95 lines, one
// sample per bucket, and totals over the window.
type PanelSeries struct {
	Key    string   `json:"key"`
	Labels Labels   `json:"labels"`
	Count  int      `json:"count"`
	Max    float64  `json:"max"`
	Mean   []Sample `json:"mean"`
	P95    []Sample `json:"p95"`
}

// PanelLine is the raw, downsampled line of one of the top series.
type PanelLine struct {
	Key     string   `json:"key"`
	Samples []Sample `json:"samples"`
}

// StepFor returns the bucket width for a days-long window: 24 buckets per
// window, an hour per day of range.
func StepFor(days int) time.Duration {
	return time.Duration(days) * time.Hour
}

// BuildPanel answers q from the series the store returned.
func BuildPanel(series []Series, q Query) Panel {
	to := q.Now
	from := to.Add(-time.Duration(q.Days) * 24 * time.Hour)
	step := StepFor(q.Days)

	var matched []Series
	for _, s := range series {
		if s.Metric == q.Metric {
			matched = append(matched, s)
		}
	}

	panel := Panel{
		Title:  fmt.Sprintf("%s, last %d days", q.Metric, q.Days),
		From:   from,
		To:     to,
		Step:   step.String(),
		Series: []PanelSeries{},
		Lines:  []PanelLine{},
	}
	for _, st := range Aggregate(matched, from, to, step) {
		ps := PanelSeries{Key: st.Key, Labels: st.Labels}
		for _, b := range st.Buckets {
			if len(ps.Mean) == 0 || b.Max > ps.Max {
				ps.Max = b.Max
			}
			ps.Count += b.Count
			ps.Mean = append(ps.Mean, Sample{T: b.Start.UnixMilli(), V: b.Mean})
			ps.P95 = append(ps.P95, Sample{T: b.Start.UnixMilli(), V: b.P95})
		}
		panel.Samples += ps.Count
		panel.Series = append(panel.Series, ps)
	}

	panel.Top = TopN(matched, from, to, q.TopN)
	for _, r := range panel.Top {
		for _, s := range matched {
			if SeriesKey(s.Metric, s.Labels) != r.Key {
				continue
			}
			var line []Sample
			for _, smp := range s.Samples {
				if inWindow(time.UnixMilli(smp.T), from, to) {
					line = append(line, smp)
				}
			}
			if q.MaxPoints > 0 {
				line = Downsample(line, q.MaxPoints)
			}
			panel.Lines = append(panel.Lines, PanelLine{Key: r.Key, Samples: line})
		}
	}

	if q.GroupBy != "" {
		panel.Groups = GroupBy(matched, q.GroupBy, from, to, step)
	}
	return panel
}
