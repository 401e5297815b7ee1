package server

import (
	"context"
	"log"
	"math"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"time"
)

// Collector records the service's own metrics in the database: every Go
// runtime metric with a single value, plus the service's counters, once a
// tick.
type Collector struct {
	store    *Store
	counters func() []Row // the service's own counters, without timestamps

	samples []metrics.Sample
	names   []string
	rows    []Row

	collected atomic.Int64 // rows stored
}

// NewCollector returns a collector that writes to store; counters, if not
// nil, adds the service's own values to every tick.
func NewCollector(store *Store, counters func() []Row) *Collector {
	c := &Collector{store: store, counters: counters}
	for _, d := range metrics.All() {
		if d.Kind != metrics.KindUint64 && d.Kind != metrics.KindFloat64 {
			continue
		}
		c.samples = append(c.samples, metrics.Sample{Name: d.Name})
		c.names = append(c.names, promName(d.Name))
	}
	return c
}

// Rows returns the number of rows stored so far.
func (c *Collector) Rows() int64 { return c.collected.Load() }

// Run collects every interval until ctx is done.
func (c *Collector) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.Collect(ctx); err != nil && ctx.Err() == nil {
				log.Printf("collector: %v", err)
			}
		}
	}
}

// Collect reads every metric once and stores the values.
func (c *Collector) Collect(ctx context.Context) error {
	now := time.Now().UnixMilli()
	metrics.Read(c.samples)
	c.rows = c.rows[:0]
	for i, s := range c.samples {
		v := math.NaN()
		switch s.Value.Kind() {
		case metrics.KindUint64:
			v = float64(s.Value.Uint64())
		case metrics.KindFloat64:
			v = s.Value.Float64()
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		c.rows = append(c.rows, Row{Name: c.names[i], T: now, Value: v})
	}
	if c.counters != nil {
		for _, r := range c.counters() {
			r.T = now
			c.rows = append(c.rows, r)
		}
	}
	if err := c.store.InsertRows(ctx, c.rows); err != nil {
		return err
	}
	c.collected.Add(int64(len(c.rows)))
	return nil
}

// promName turns a runtime/metrics name such as "/gc/heap/allocs:bytes" into
// "go_gc_heap_allocs_bytes".
func promName(name string) string {
	var b strings.Builder
	b.WriteString("go")
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
