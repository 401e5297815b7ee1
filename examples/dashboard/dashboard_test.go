package dashboard

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// at returns a sample sec seconds after t0.
func at(sec int, v float64) Sample {
	return Sample{T: t0.Add(time.Duration(sec) * time.Second).UnixMilli(), V: v}
}

func near(a, b float64) bool {
	return a == b || math.Abs(a-b) < 1e-9
}

func TestSeriesKey(t *testing.T) {
	tests := []struct {
		metric string
		labels Labels
		want   string
	}{
		{"up", nil, `up{}`},
		{"up", Labels{}, `up{}`},
		{"lat", Labels{"svc": "api"}, `lat{svc="api"}`},
		{"lat", Labels{"svc": "api", "endpoint": "/get", "region": "eu"}, `lat{endpoint="/get",region="eu",svc="api"}`},
		{"lat", Labels{"path": `/a"b`, "q": "x\ny"}, `lat{path="/a\"b",q="x\ny"}`},
	}
	for _, tt := range tests {
		if got := SeriesKey(tt.metric, tt.labels); got != tt.want {
			t.Errorf("SeriesKey(%q, %v) = %s, want %s", tt.metric, tt.labels, got, tt.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	values := []float64{50, 15, 40, 20, 35}
	tests := []struct {
		p    float64
		want float64
	}{
		{0, 15}, {-5, 15}, {100, 50}, {120, 50}, {50, 35}, {40, 29}, {95, 48},
	}
	for _, tt := range tests {
		if got := Percentile(values, tt.p); !near(got, tt.want) {
			t.Errorf("Percentile(p=%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if !slices.Equal(values, []float64{50, 15, 40, 20, 35}) {
		t.Errorf("Percentile modified its input: %v", values)
	}
	if got := Percentile([]float64{7}, 95); got != 7 {
		t.Errorf("Percentile of one value = %v, want 7", got)
	}
	if got := Percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("Percentile of no values = %v, want NaN", got)
	}
}

func TestAggregate(t *testing.T) {
	series := []Series{
		{Metric: "lat", Labels: Labels{"svc": "b"}, Samples: []Sample{
			at(-1, 50), at(0, 4), at(3, 1), at(9, 3), at(5, 2), at(12, 10), at(30, 99),
		}},
		{Metric: "lat", Labels: Labels{"svc": "c"}, Samples: []Sample{at(35, 1)}},
		{Metric: "lat", Labels: Labels{"svc": "a"}, Samples: []Sample{at(25, 7), at(21, 5)}},
	}
	got := Aggregate(series, t0, t0.Add(30*time.Second), 10*time.Second)
	want := []SeriesStats{
		{Key: `lat{svc="a"}`, Labels: Labels{"svc": "a"}, Buckets: []BucketStats{
			{Start: t0.Add(20 * time.Second), Count: 2, Min: 5, Max: 7, Mean: 6, P50: 6, P95: 6.9, P99: 6.98},
		}},
		{Key: `lat{svc="b"}`, Labels: Labels{"svc": "b"}, Buckets: []BucketStats{
			{Start: t0, Count: 4, Min: 1, Max: 4, Mean: 2.5, P50: 2.5, P95: 3.85, P99: 3.97},
			{Start: t0.Add(10 * time.Second), Count: 1, Min: 10, Max: 10, Mean: 10, P50: 10, P95: 10, P99: 10},
		}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d series, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Key != w.Key || !reflect.DeepEqual(g.Labels, w.Labels) || len(g.Buckets) != len(w.Buckets) {
			t.Fatalf("series %d = %+v, want %+v", i, g, w)
		}
		for j := range w.Buckets {
			gb, wb := g.Buckets[j], w.Buckets[j]
			if !gb.Start.Equal(wb.Start) || gb.Count != wb.Count ||
				!near(gb.Min, wb.Min) || !near(gb.Max, wb.Max) || !near(gb.Mean, wb.Mean) ||
				!near(gb.P50, wb.P50) || !near(gb.P95, wb.P95) || !near(gb.P99, wb.P99) {
				t.Errorf("%s bucket %d = %+v, want %+v", w.Key, j, gb, wb)
			}
		}
	}
	if got := Aggregate(nil, t0, t0.Add(time.Hour), time.Minute); len(got) != 0 {
		t.Errorf("Aggregate(nil) = %+v, want empty", got)
	}
}

func TestGroupBy(t *testing.T) {
	series := []Series{
		{Metric: "req", Labels: Labels{"svc": "a", "region": "eu"}, Samples: []Sample{at(1, 1), at(11, 2)}},
		{Metric: "req", Labels: Labels{"svc": "b", "region": "eu"}, Samples: []Sample{at(2, 10), at(3, 20)}},
		{Metric: "req", Labels: Labels{"svc": "c", "region": "us"}, Samples: []Sample{at(15, 5)}},
		{Metric: "req", Labels: Labels{"svc": "d"}, Samples: []Sample{at(25, 4), at(40, 100)}},
		{Metric: "req", Labels: Labels{"svc": "e", "region": "ap"}, Samples: []Sample{at(-5, 3)}},
	}
	got := GroupBy(series, "region", t0, t0.Add(30*time.Second), 10*time.Second)
	want := []GroupSeries{
		{Value: "", Buckets: []GroupBucket{{Start: t0.Add(20 * time.Second), Sum: 4, Count: 1}}},
		{Value: "eu", Buckets: []GroupBucket{{Start: t0, Sum: 31, Count: 3}, {Start: t0.Add(10 * time.Second), Sum: 2, Count: 1}}},
		{Value: "us", Buckets: []GroupBucket{{Start: t0.Add(10 * time.Second), Sum: 5, Count: 1}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GroupBy =\n%+v\nwant\n%+v", got, want)
	}
}

func TestTopN(t *testing.T) {
	series := []Series{
		{Metric: "m", Labels: Labels{"name": "z"}, Samples: []Sample{at(1, 59.5)}},
		{Metric: "m", Labels: Labels{"name": "w"}, Samples: []Sample{at(-10, 1000)}},
		{Metric: "m", Labels: Labels{"name": "x"}, Samples: []Sample{at(1, 1), at(2, 2), at(3, 3), at(4, 4), at(5, 100), at(70, 500)}},
		{Metric: "m", Labels: Labels{"name": "y"}, Samples: []Sample{at(1, 59.5), at(2, 59.5)}},
	}
	from, to := t0, t0.Add(time.Minute)
	x := SeriesRank{Key: `m{name="x"}`, Labels: Labels{"name": "x"}, Count: 5, Mean: 22, Max: 100, P95: 80.8, Last: 100}
	y := SeriesRank{Key: `m{name="y"}`, Labels: Labels{"name": "y"}, Count: 2, Mean: 59.5, Max: 59.5, P95: 59.5, Last: 59.5}
	z := SeriesRank{Key: `m{name="z"}`, Labels: Labels{"name": "z"}, Count: 1, Mean: 59.5, Max: 59.5, P95: 59.5, Last: 59.5}
	tests := []struct {
		n    int
		want []SeriesRank
	}{
		{1, []SeriesRank{x}},
		{2, []SeriesRank{x, y}},
		{0, []SeriesRank{x, y, z}},
		{10, []SeriesRank{x, y, z}},
	}
	for _, tt := range tests {
		got := TopN(series, from, to, tt.n)
		if len(got) != len(tt.want) {
			t.Fatalf("TopN(%d) = %+v, want %+v", tt.n, got, tt.want)
		}
		for i := range got {
			g, w := got[i], tt.want[i]
			if g.Key != w.Key || !reflect.DeepEqual(g.Labels, w.Labels) || g.Count != w.Count ||
				!near(g.Mean, w.Mean) || !near(g.Max, w.Max) || !near(g.P95, w.P95) || g.Last != w.Last {
				t.Errorf("TopN(%d)[%d] = %+v, want %+v", tt.n, i, g, w)
			}
		}
	}
}

func TestDownsample(t *testing.T) {
	line := make([]Sample, 100)
	for i := range line {
		line[i] = Sample{T: int64(i) * 1000, V: float64(i % 7)}
	}
	line[50].V = 1000

	for _, threshold := range []int{0, 2, 100, 500} {
		if got := Downsample(line, threshold); len(got) != len(line) {
			t.Errorf("Downsample(threshold=%d) returned %d samples, want the line unchanged", threshold, len(got))
		}
	}
	got := Downsample(line, 10)
	if len(got) != 10 {
		t.Fatalf("Downsample(threshold=10) returned %d samples", len(got))
	}
	if got[0] != line[0] || got[9] != line[99] {
		t.Errorf("first/last = %v/%v, want %v/%v", got[0], got[9], line[0], line[99])
	}
	if !slices.Contains(got, line[50]) {
		t.Errorf("the spike %v was dropped: %v", line[50], got)
	}
	for i := 1; i < len(got); i++ {
		if got[i].T <= got[i-1].T {
			t.Fatalf("timestamps not increasing: %v", got)
		}
	}
}

func TestParseText(t *testing.T) {
	input := `# HELP lat request latency
lat{svc="a",region="eu"} 1000 1.5

lat{region="eu",svc="a"} 2000 2.5
   lat 3000 3
up{} 4000 1e3
lat{path="/a\"b"} 5000 -0.25
`
	got, err := ParseText([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	want := []Series{
		{Metric: "lat", Labels: Labels{"svc": "a", "region": "eu"}, Samples: []Sample{{1000, 1.5}, {2000, 2.5}}},
		{Metric: "lat", Labels: Labels{}, Samples: []Sample{{3000, 3}}},
		{Metric: "up", Labels: Labels{}, Samples: []Sample{{4000, 1000}}},
		{Metric: "lat", Labels: Labels{"path": `/a"b`}, Samples: []Sample{{5000, -0.25}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseText =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseTextErrors(t *testing.T) {
	tests := []struct {
		input string
		want  string
	}{
		{"lat 1 2 3", "line 1: want 3 fields, got 4"},
		{"\n\nlat 1\n", "line 3: want 3 fields, got 2"},
		{`lat{a="x" 1 2`, `line 1: unterminated label block in "lat{a=\"x\""`},
		{"lat{a} 1 2", `line 1: bad label "a"`},
		{`lat{="x"} 1 2`, `line 1: bad label "=\"x\""`},
		{"lat{a=x} 1 2", "line 1: bad label value x"},
		{"ok 1 2\nlat x 2", `line 2: bad timestamp "x"`},
		{"lat 1 y", `line 1: bad value "y"`},
	}
	for _, tt := range tests {
		_, err := ParseText([]byte(tt.input))
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseText(%q) error = %v, want %s", tt.input, err, tt.want)
		}
	}
}

func TestParseTextRoundTrip(t *testing.T) {
	series := DemoSeries(1, t0, 1)
	var data []byte
	for _, s := range series {
		data = AppendText(data, s)
	}
	got, err := ParseText(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, series) {
		t.Errorf("ParseText(AppendText(series)) differs from series")
	}
}

func TestBuildPanel(t *testing.T) {
	now := t0.Add(24 * time.Hour)
	var a, b []Sample
	for i := range 24 * 60 {
		ts := t0.Add(time.Duration(i) * time.Minute).UnixMilli()
		a = append(a, Sample{T: ts, V: float64(i % 60)})
		b = append(b, Sample{T: ts, V: 100 + float64(i%10)})
	}
	series := []Series{
		{Metric: "cpu", Labels: Labels{"svc": "a"}, Samples: a},
		{Metric: "lat", Labels: Labels{"svc": "b", "region": "us"}, Samples: b},
		{Metric: "lat", Labels: Labels{"svc": "a", "region": "eu"}, Samples: a},
	}
	q := Query{Metric: "lat", Days: 1, Now: now, GroupBy: "region", TopN: 1, MaxPoints: 50}
	p := BuildPanel(series, q)

	if p.Title != "lat, last 1 days" || p.Step != "1h0m0s" || !p.From.Equal(t0) || !p.To.Equal(now) {
		t.Errorf("header = %q %q %v %v", p.Title, p.Step, p.From, p.To)
	}
	if p.Samples != 2*24*60 {
		t.Errorf("Samples = %d, want %d", p.Samples, 2*24*60)
	}
	if len(p.Series) != 2 || p.Series[0].Key != `lat{region="eu",svc="a"}` || p.Series[1].Key != `lat{region="us",svc="b"}` {
		t.Fatalf("Series = %+v", p.Series)
	}
	sa := p.Series[0]
	if sa.Count != 24*60 || sa.Max != 59 || len(sa.Mean) != 24 || len(sa.P95) != 24 {
		t.Errorf("series a: count %d max %v, %d mean and %d p95 samples", sa.Count, sa.Max, len(sa.Mean), len(sa.P95))
	}
	if sa.Mean[3] != (Sample{T: t0.Add(3 * time.Hour).UnixMilli(), V: 29.5}) || !near(sa.P95[3].V, 56.05) {
		t.Errorf("series a, 4th hour: mean %v p95 %v", sa.Mean[3], sa.P95[3])
	}
	if len(p.Top) != 1 || p.Top[0].Key != `lat{region="us",svc="b"}` || !near(p.Top[0].P95, 109) {
		t.Errorf("Top = %+v", p.Top)
	}
	if len(p.Lines) != 1 || p.Lines[0].Key != p.Top[0].Key || len(p.Lines[0].Samples) != 50 {
		t.Errorf("Lines = %d lines", len(p.Lines))
	}
	if len(p.Groups) != 2 || p.Groups[0].Value != "eu" || len(p.Groups[0].Buckets) != 24 || p.Groups[1].Buckets[0].Sum != 60*104.5 {
		t.Errorf("Groups = %+v", p.Groups)
	}

	doc, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(doc, &fields); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"title", "from", "to", "step", "samples", "series", "top", "lines", "groups"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("panel JSON has no %q field", f)
		}
	}
}

// TestPanelDigest pins the exact panel JSON for the demo data, so that an
// optimization cannot change any number, not even in the last bit.
func TestPanelDigest(t *testing.T) {
	now := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		days int
		want string
	}{
		{1, "34253bebf66b68ee790683852c700a638d5e7941b23e01ef53939408c08c3937"},
		{7, "dba76c463d318d2bb7c3c64700fd983e6f97fc0682eaf18ea72dd4e380d000d5"},
	}
	for _, tt := range tests {
		q := Query{Metric: DemoMetric, Days: tt.days, Now: now, GroupBy: "region", TopN: 5, MaxPoints: 100}
		doc, err := json.Marshal(BuildPanel(DemoSeries(7, now, tt.days), q))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(doc)
		if got := hex.EncodeToString(sum[:]); got != tt.want {
			t.Errorf("days=%d: panel digest %s, want %s", tt.days, got, tt.want)
		}
	}
}
