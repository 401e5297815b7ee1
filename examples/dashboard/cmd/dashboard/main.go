// Command dashboard serves the metrics dashboard: the JSON API, the live
// WebSocket, Prometheus metrics and pprof, over an SQLite database seeded
// with demo data.
//
//	go build -o dashboard ./cmd/dashboard
//	./dashboard -addr 127.0.0.1:8080
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
	addr := flag.String("addr", "127.0.0.1:8080", "listen `address`")
	dbPath := flag.String("db", "", "SQLite database `file`, created and seeded if empty (default: a temporary file, removed on exit)")
	collect := flag.Duration("collect-interval", 200*time.Millisecond, "how often the collector records the runtime metrics (0: never)")
	broadcast := flag.Duration("broadcast-interval", time.Second, "how often WebSocket clients get an update (0: never)")
	seed := flag.Int64("seed", 1, "seed of the demo data")
	days := flag.Int("days", 30, "days of demo data")
	flag.Parse()
	log.SetPrefix("dashboard: ")
	log.SetFlags(0)
	if flag.NArg() > 0 {
		log.Fatalf("unexpected argument %q (see -help)", flag.Arg(0))
	}
	if err := run(*addr, *dbPath, *collect, *broadcast, *seed, *days); err != nil {
		log.Fatal(err)
	}
}

func run(addr, dbPath string, collect, broadcast time.Duration, seed int64, days int) error {
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "dashboard-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbPath = filepath.Join(dir, "dashboard.db")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{
		DBPath:            dbPath,
		CollectInterval:   collect,
		BroadcastInterval: broadcast,
		Seed:              seed,
		SeedDays:          days,
	})
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
	log.Printf("listening on http://%s (db %s, ready in %v)", ln.Addr(), dbPath, time.Since(start).Round(time.Millisecond))

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
