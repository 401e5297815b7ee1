package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"example.com/dashboard"
	"github.com/gorilla/websocket"
)

const testDays = 8 // of seeded demo data: enough for 7-day panels, quick to seed

// newTestServer starts a server on a fresh database; start false leaves it
// unseeded and not ready.
func newTestServer(t *testing.T, cfg Config, start bool) (*Server, *httptest.Server) {
	t.Helper()
	cfg.DBPath = filepath.Join(t.TempDir(), "dashboard.db")
	if cfg.SeedDays == 0 {
		cfg.SeedDays = testDays
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if start {
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return s, ts
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// metricValue returns the value of the unlabeled sample name in a
// Prometheus text page.
func metricValue(t *testing.T, page []byte, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(string(page), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: bad value %q", name, v)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics:\n%s", name, page)
	return 0
}

func scrape(t *testing.T, ts *httptest.Server, name string) float64 {
	t.Helper()
	code, page := get(t, ts.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: status %d", code)
	}
	return metricValue(t, page, name)
}

func TestHealthz(t *testing.T) {
	s, ts := newTestServer(t, Config{}, false)
	if code, _ := get(t, ts.URL+"/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz before the data is seeded: status %d, want 503", code)
	}
	if code, _ := get(t, ts.URL+"/api/dashboard"); code != http.StatusServiceUnavailable {
		t.Errorf("/api/dashboard before the data is seeded: status %d, want 503", code)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, ts.URL+"/healthz"); code != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("/healthz when ready: %d %q, want 200 \"ok\\n\"", code, body)
	}
}

func TestPprof(t *testing.T) {
	_, ts := newTestServer(t, Config{}, true)
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/heap"} {
		if code, _ := get(t, ts.URL+path); code != http.StatusOK {
			t.Errorf("%s: status %d", path, code)
		}
	}
}

// The API must answer exactly what BuildPanel makes of the seeded data:
// the database round trip loses nothing.
func TestDashboardMatchesPanel(t *testing.T) {
	_, ts := newTestServer(t, Config{Seed: 3}, true)
	seeded := SeedSeries(3, DemoEnd, testDays)
	for _, days := range []int{1, 7} {
		code, body := get(t, ts.URL+"/api/dashboard?days="+strconv.Itoa(days))
		if code != http.StatusOK {
			t.Fatalf("days=%d: status %d: %s", days, code, body)
		}
		q := dashboard.Query{Metric: dashboard.DemoMetric, Days: days, Now: DemoEnd, GroupBy: "region", TopN: 5, MaxPoints: 200}
		want, err := json.Marshal(dashboard.BuildPanel(seeded, q))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bytes.TrimSpace(body), want) {
			t.Errorf("days=%d: the API's panel differs from BuildPanel's (%d vs %d bytes)", days, len(body), len(want))
		}
		var p dashboard.Panel
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Series) != 12 || len(p.Top) != 5 || p.Samples != 12*72*days {
			t.Errorf("days=%d: %d series, %d top, %d samples", days, len(p.Series), len(p.Top), p.Samples)
		}
	}
	// The default window is 7 days; an unknown metric has an empty panel.
	_, def := get(t, ts.URL+"/api/dashboard")
	_, seven := get(t, ts.URL+"/api/dashboard?days=7")
	if !bytes.Equal(def, seven) {
		t.Error("/api/dashboard differs from /api/dashboard?days=7")
	}
	code, body := get(t, ts.URL+"/api/dashboard?metric=nope")
	var p dashboard.Panel
	if err := json.Unmarshal(body, &p); code != http.StatusOK || err != nil || len(p.Series) != 0 {
		t.Errorf("unknown metric: status %d, %d series, %v", code, len(p.Series), err)
	}
}

func TestDashboardBadDays(t *testing.T) {
	_, ts := newTestServer(t, Config{}, true)
	for _, days := range []string{"0", "-1", "x", "1.5", strconv.Itoa(testDays + 1)} {
		if code, _ := get(t, ts.URL+"/api/dashboard?days="+days); code != http.StatusBadRequest {
			t.Errorf("days=%s: status %d, want 400", days, code)
		}
	}
}

func TestMetrics(t *testing.T) {
	_, ts := newTestServer(t, Config{}, true)
	get(t, ts.URL+"/api/dashboard?days=1")
	code, page := get(t, ts.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	for name, kind := range map[string]string{
		"dashboard_http_requests_total":     "counter",
		"dashboard_db_queries_total":        "counter",
		"dashboard_collector_rows_total":    "counter",
		"dashboard_collector_commits_total": "counter",
		"dashboard_ws_clients":              "gauge",
		"dashboard_ws_connections_total":    "counter",
		"go_goroutines":                     "gauge",
		"go_memstats_heap_inuse_bytes":      "gauge",
	} {
		if !bytes.Contains(page, []byte("# TYPE "+name+" "+kind+"\n")) {
			t.Errorf("no %s %s in\n%s", kind, name, page)
		}
		metricValue(t, page, name)
	}
	if got := metricValue(t, page, "dashboard_http_requests_total"); got != 2 {
		t.Errorf("dashboard_http_requests_total = %v, want 2 (this scrape included)", got)
	}
	if got := metricValue(t, page, "go_goroutines"); got < 1 {
		t.Errorf("go_goroutines = %v", got)
	}
}

func TestQueriesCounted(t *testing.T) {
	_, ts := newTestServer(t, Config{}, true)
	before := scrape(t, ts, "dashboard_db_queries_total")
	get(t, ts.URL+"/api/dashboard?days=7")
	if after := scrape(t, ts, "dashboard_db_queries_total"); after <= before {
		t.Errorf("dashboard_db_queries_total went from %v to %v over a request", before, after)
	}
}

func TestCollector(t *testing.T) {
	s, ts := newTestServer(t, Config{}, true)
	c := s.collector
	if err := c.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows := c.Rows()
	if rows < 20 {
		t.Fatalf("one tick stored %d rows, want every runtime metric", rows)
	}
	var stored int64
	if err := s.store.db.QueryRow(`SELECT count(*) FROM collector_samples`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != rows {
		t.Errorf("collector_samples holds %d rows, the collector says %d", stored, rows)
	}
	var goroutines float64
	if err := s.store.db.QueryRow(`SELECT value FROM collector_samples WHERE name = 'go_goroutines'`).Scan(&goroutines); err != nil || goroutines < 1 {
		t.Errorf("go_goroutines row: %v, %v", goroutines, err)
	}
	if got := scrape(t, ts, "dashboard_collector_rows_total"); got != float64(rows) {
		t.Errorf("dashboard_collector_rows_total = %v, want %d", got, rows)
	}
	if got := scrape(t, ts, "dashboard_collector_commits_total"); got < 1 {
		t.Errorf("dashboard_collector_commits_total = %v", got)
	}
	if got := promName("/gc/heap/allocs:bytes"); got != "go_gc_heap_allocs_bytes" {
		t.Errorf("promName = %q", got)
	}
}

func dial(t *testing.T, ts *httptest.Server) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	return conn
}

func TestWebSocket(t *testing.T) {
	s, ts := newTestServer(t, Config{BroadcastInterval: 10 * time.Millisecond}, true)
	conn := dial(t, ts)
	defer conn.Close()

	// First the snapshot, the 7-day panel.
	_, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var hello struct {
		Type  string          `json:"type"`
		Panel dashboard.Panel `json:"panel"`
	}
	if err := json.Unmarshal(msg, &hello); err != nil || hello.Type != "snapshot" || len(hello.Panel.Series) != 12 {
		t.Fatalf("first message: type %q, %d series, %v", hello.Type, len(hello.Panel.Series), err)
	}

	// Echoes come back verbatim, in order, between the updates.
	sent := []string{"ping seq=1", `{"seq":2,"t":1700000000000}`, "ping seq=3 ünïcode"}
	for _, m := range sent {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	var echoed []string
	updates := 0
	for len(echoed) < len(sent) || updates == 0 {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("after %d echoes and %d updates: %v", len(echoed), updates, err)
		}
		var u struct {
			Type string `json:"type"`
			Seq  int64  `json:"seq"`
		}
		if json.Unmarshal(msg, &u) == nil && u.Type == "update" {
			if u.Seq < 1 {
				t.Errorf("update without a sequence number: %s", msg)
			}
			updates++
			continue
		}
		echoed = append(echoed, string(msg))
	}
	for i := range sent {
		if echoed[i] != sent[i] {
			t.Errorf("echo %d = %q, want %q", i, echoed[i], sent[i])
		}
	}
	if got := scrape(t, ts, "dashboard_ws_clients"); got != 1 {
		t.Errorf("dashboard_ws_clients = %v with one client", got)
	}
	if s.Hub().Connects() != 1 {
		t.Errorf("Connects = %d", s.Hub().Connects())
	}
}
