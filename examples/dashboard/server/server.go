// Package server is the dashboard's HTTP service: the metrics database
// (SQLite), the JSON API that builds panels with package dashboard, the live
// WebSocket hub, a background collector of the service's own metrics, and
// Prometheus and pprof endpoints.
package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"example.com/dashboard"
)

// DemoEnd is where the demo data ends, and with it every dashboard window.
var DemoEnd = time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)

// Config configures a Server.
type Config struct {
	DBPath            string        // SQLite file, created if missing
	DBURL             string        // PostgreSQL URL; when set, used instead of DBPath
	CollectInterval   time.Duration // collector tick; 0 runs no collector
	BroadcastInterval time.Duration // WebSocket updates; 0 sends none
	Seed              int64         // demo data seed
	SeedDays          int           // days of demo data; 0 means 30
	End               time.Time     // end of the demo data; zero means DemoEnd
}

// Server is the dashboard service.
type Server struct {
	cfg       Config
	store     *Store
	hub       *Hub
	collector *Collector
	handler   http.Handler

	ready    atomic.Bool
	requests atomic.Int64
	seq      atomic.Int64 // of broadcast updates

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New opens the database; the server answers requests right away, but
// /healthz and the API say 503 until Start has seeded the data.
func New(cfg Config) (*Server, error) {
	if cfg.SeedDays <= 0 {
		cfg.SeedDays = 30
	}
	if cfg.End.IsZero() {
		cfg.End = DemoEnd
	}
	open := func() (*Store, error) { return OpenStore(cfg.DBPath) }
	if cfg.DBURL != "" {
		open = func() (*Store, error) { return OpenPostgres(cfg.DBURL) }
	}
	store, err := open()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, store: store, hub: NewHub()}
	s.collector = NewCollector(store, s.counters)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /api/dashboard", s.handleDashboard)
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	mux.Handle("GET /ws", s.hub)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		mux.ServeHTTP(w, r)
	})
	return s, nil
}

// Handler returns the HTTP handler of every endpoint.
func (s *Server) Handler() http.Handler { return s.handler }

// Store returns the server's database.
func (s *Server) Store() *Store { return s.store }

// Hub returns the server's WebSocket hub.
func (s *Server) Hub() *Hub { return s.hub }

// Start seeds the database if it is empty, marks the server ready and
// starts the collector and the WebSocket updates.
func (s *Server) Start(ctx context.Context) error {
	if err := s.Setup(ctx); err != nil {
		return err
	}
	panel, err := s.panel(ctx, dashboard.DemoMetric, 7)
	if err != nil {
		return fmt.Errorf("build the first panel: %w", err)
	}
	hello, err := json.Marshal(struct {
		Type  string          `json:"type"`
		Panel dashboard.Panel `json:"panel"`
	}{"snapshot", panel})
	if err != nil {
		return err
	}
	s.hub.SetHello(hello)
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if s.cfg.CollectInterval > 0 {
		s.wg.Go(func() { s.collector.Run(bg, s.cfg.CollectInterval) })
	}
	if s.cfg.BroadcastInterval > 0 {
		s.wg.Go(func() { s.hub.Run(bg, s.cfg.BroadcastInterval, s.update) })
	}
	s.ready.Store(true)
	return nil
}

// Setup seeds the database if it is empty (and, on PostgreSQL, refreshes
// the planner's statistics after seeding).
func (s *Server) Setup(ctx context.Context) error {
	series := SeedSeries(s.cfg.Seed, s.cfg.End, s.cfg.SeedDays)
	seeded, err := s.store.Seed(ctx, series)
	if err != nil {
		return fmt.Errorf("seed the database: %w", err)
	}
	if seeded {
		if err := s.store.Analyze(ctx); err != nil {
			return fmt.Errorf("analyze the database: %w", err)
		}
	}
	return nil
}

// Close stops the background work, disconnects the WebSocket clients and
// closes the database.
func (s *Server) Close() error {
	s.ready.Store(false)
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	s.hub.Close()
	return s.store.Close()
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// handleDashboard answers /api/dashboard?days=N[&metric=M]: the panel of
// the last N days (default 7) of metric M (default the demo metric).
func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	days := 7
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.cfg.SeedDays {
			http.Error(w, fmt.Sprintf("days: want a whole number from 1 to %d, got %q", s.cfg.SeedDays, v), http.StatusBadRequest)
			return
		}
		days = n
	}
	metric := r.URL.Query().Get("metric")
	if metric == "" {
		metric = dashboard.DemoMetric
	}

	panel, err := s.panel(r.Context(), metric, days)
	if err != nil {
		if r.Context().Err() == nil {
			log.Printf("api/dashboard: %v", err)
		}
		http.Error(w, "database error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(panel); err != nil && r.Context().Err() == nil {
		log.Printf("api/dashboard: write: %v", err)
	}
}

// panel builds the dashboard of the last days days of metric.
func (s *Server) panel(ctx context.Context, metric string, days int) (dashboard.Panel, error) {
	to := s.cfg.End
	from := to.Add(-time.Duration(days) * 24 * time.Hour)
	series, err := s.store.LoadSeries(ctx, metric, from, to)
	if err != nil {
		return dashboard.Panel{}, err
	}
	return dashboard.BuildPanel(series, dashboard.Query{
		Metric: metric, Days: days, Now: to, GroupBy: "region", TopN: 5, MaxPoints: 200,
	}), nil
}

// update is the message the hub broadcasts: a few live figures.
func (s *Server) update() []byte {
	msg, _ := json.Marshal(struct {
		Type       string `json:"type"`
		Seq        int64  `json:"seq"`
		Time       int64  `json:"time"`
		Requests   int64  `json:"http_requests"`
		Queries    int64  `json:"db_queries"`
		Clients    int    `json:"ws_clients"`
		Goroutines int    `json:"goroutines"`
	}{"update", s.seq.Add(1), time.Now().UnixMilli(), s.requests.Load(), s.store.Queries(), s.hub.Clients(), runtime.NumGoroutine()})
	return msg
}
