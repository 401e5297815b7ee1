// Command dashboard serves the metrics dashboard: the JSON API, the live
// WebSocket, Prometheus metrics and pprof, over an SQLite database (or
// PostgreSQL with -db-url) seeded with demo data.
//
//	go build -o dashboard ./cmd/dashboard
//	./dashboard -addr 127.0.0.1:8080
//	./dashboard -db-url "$DATABASE_URL" -setup   # schema and data, then exit
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"example.com/dashboard/server"
)

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen `address`")
	flag.StringVar(&o.dbPath, "db", "", "SQLite database `file`, created and seeded if empty (default: a temporary file, removed on exit)")
	flag.StringVar(&o.dbURL, "db-url", "", "PostgreSQL `url` to use instead of SQLite (schema created and data seeded if empty)")
	flag.BoolVar(&o.setupOnly, "setup", false, "create the schema and seed the data, then exit (with -db or -db-url)")
	flag.DurationVar(&o.collect, "collect-interval", envDuration("DASHBOARD_COLLECT_INTERVAL", 200*time.Millisecond),
		"how often the collector records the runtime metrics (0: never; default from $DASHBOARD_COLLECT_INTERVAL)")
	flag.DurationVar(&o.broadcast, "broadcast-interval", time.Second, "how often WebSocket clients get an update (0: never)")
	flag.Int64Var(&o.seed, "seed", 1, "seed of the demo data")
	flag.IntVar(&o.days, "days", 30, "days of demo data")
	flag.Parse()
	log.SetPrefix("dashboard: ")
	log.SetFlags(0)
	if flag.NArg() > 0 {
		log.Fatalf("unexpected argument %q (see -help)", flag.Arg(0))
	}
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

type options struct {
	addr, dbPath, dbURL string
	setupOnly           bool
	collect, broadcast  time.Duration
	seed                int64
	days                int
}

// envDuration is $name as a duration, or def when unset.
func envDuration(name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		log.Fatalf("$%s=%q: %v", name, v, err)
	}
	return d
}

func run(o options) error {
	if o.dbPath == "" && o.dbURL == "" {
		if o.setupOnly {
			return errors.New("-setup needs -db or -db-url")
		}
		dir, err := os.MkdirTemp("", "dashboard-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.dbPath = filepath.Join(dir, "dashboard.db")
	}
	cfg := server.Config{
		DBPath:            o.dbPath,
		DBURL:             o.dbURL,
		CollectInterval:   o.collect,
		BroadcastInterval: o.broadcast,
		Seed:              o.seed,
		SeedDays:          o.days,
	}
	if o.setupOnly {
		srv, err := server.New(cfg)
		if err != nil {
			return err
		}
		defer srv.Close()
		return srv.Setup(context.Background())
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv, err := server.New(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	defer srv.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()

	// Listening already: /healthz says 503 until the data is seeded.
	start := time.Now()
	if err := srv.Start(ctx); err != nil {
		httpSrv.Close()
		return err
	}
	db := o.dbPath
	if o.dbURL != "" {
		db = "PostgreSQL"
	}
	log.Printf("listening on http://%s (db %s, ready in %v)", ln.Addr(), db, time.Since(start).Round(time.Millisecond))

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	stop()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
