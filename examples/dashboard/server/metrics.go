package server

import (
	"bytes"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
)

// handleMetrics writes the service's metrics in the Prometheus text format.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	write := func(name, kind, help string, value float64) {
		b.WriteString("# HELP " + name + " " + help + "\n")
		b.WriteString("# TYPE " + name + " " + kind + "\n")
		b.WriteString(name + " " + strconv.FormatFloat(value, 'g', -1, 64) + "\n")
	}
	write("dashboard_http_requests_total", "counter", "HTTP requests received, all endpoints.", float64(s.requests.Load()))
	write("dashboard_db_queries_total", "counter", "Database queries run to answer /api/dashboard.", float64(s.store.Queries()))
	write("dashboard_collector_rows_total", "counter", "Rows the metrics collector stored.", float64(s.collector.Rows()))
	write("dashboard_collector_commits_total", "counter", "Write transactions the metrics collector committed.", float64(s.store.Commits()))
	write("dashboard_ws_clients", "gauge", "WebSocket clients the hub holds.", float64(s.hub.Clients()))
	write("dashboard_ws_connections_total", "counter", "WebSocket connections accepted.", float64(s.hub.Connects()))
	write("go_goroutines", "gauge", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine()))
	write("go_memstats_heap_inuse_bytes", "gauge", "Bytes in in-use heap spans.", heapInuse())
	if cpu, rss, ok := processStats(); ok {
		write("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpu)
		write("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", rss)
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write(b.Bytes())
}

// counters are the service's own figures that the collector records with
// the runtime's.
func (s *Server) counters() []Row {
	return []Row{
		{Name: "dashboard_http_requests_total", Value: float64(s.requests.Load())},
		{Name: "dashboard_db_queries_total", Value: float64(s.store.Queries())},
		{Name: "dashboard_ws_clients", Value: float64(s.hub.Clients())},
		{Name: "go_goroutines", Value: float64(runtime.NumGoroutine())},
	}
}

// heapInuse is client_golang's go_memstats_heap_inuse_bytes, without
// stopping the world for runtime.ReadMemStats.
func heapInuse() float64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	metrics.Read(s)
	var sum float64
	for _, x := range s {
		if x.Value.Kind() == metrics.KindUint64 {
			sum += float64(x.Value.Uint64())
		}
	}
	return sum
}

// processStats reads the process's CPU time and resident memory from /proc
// (Linux); ok is false elsewhere.
func processStats() (cpuSeconds, rssBytes float64, ok bool) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name, in parentheses, may hold spaces: fields count from
	// the last ')'. utime and stime are fields 14 and 15, rss is 24.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 22 {
		return 0, 0, false
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	rss, err3 := strconv.ParseFloat(f[21], 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, false
	}
	const clockTicks = 100 // USER_HZ, 100 on every Linux platform Go supports
	return (utime + stime) / clockTicks, rss * float64(os.Getpagesize()), true
}
