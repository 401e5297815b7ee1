package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"example.com/dashboard"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver (PostgreSQL)
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver, pure Go
)

// schema is the metrics database: one row per series (metric name and its
// labels as a JSON object) and one row per point. The collector keeps the
// service's own runtime metrics in a table of its own.
const schema = `
CREATE TABLE IF NOT EXISTS series (
	id     INTEGER PRIMARY KEY,
	metric TEXT NOT NULL,
	labels TEXT NOT NULL,
	UNIQUE (metric, labels)
);
CREATE TABLE IF NOT EXISTS points (
	series_id INTEGER NOT NULL REFERENCES series (id),
	ts        INTEGER NOT NULL,
	value     REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS collector_samples (
	name  TEXT NOT NULL,
	ts    INTEGER NOT NULL,
	value REAL NOT NULL
);
`

// pgSchema is schema for PostgreSQL.
const pgSchema = `
CREATE TABLE IF NOT EXISTS series (
	id     BIGSERIAL PRIMARY KEY,
	metric TEXT NOT NULL,
	labels TEXT NOT NULL,
	UNIQUE (metric, labels)
);
CREATE TABLE IF NOT EXISTS points (
	series_id BIGINT NOT NULL REFERENCES series (id),
	ts        BIGINT NOT NULL,
	value     DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS collector_samples (
	name  TEXT NOT NULL,
	ts    BIGINT NOT NULL,
	value DOUBLE PRECISION NOT NULL
);
`

// Store is the metrics database: an SQLite file, or PostgreSQL.
type Store struct {
	db       *sql.DB
	postgres bool // placeholders are $1, $2, ... instead of ?

	queries atomic.Int64 // read queries run for dashboard requests
	commits atomic.Int64 // write transactions committed by the collector
}

// OpenStore opens (creating if needed) the database file at path.
func OpenStore(path string) (*Store, error) {
	// WAL: dashboard readers never wait for the collector's writes.
	dsn := path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schema in %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// OpenPostgres connects to the PostgreSQL database at url (pgx) and
// creates the schema if needed.
func OpenPostgres(url string) (*Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if _, err := db.Exec(pgSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schema in PostgreSQL: %w", err)
	}
	return &Store{db: db, postgres: true}, nil
}

// Analyze refreshes the planner's statistics (PostgreSQL; a no-op for SQLite).
func (s *Store) Analyze(ctx context.Context) error {
	if !s.postgres {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `ANALYZE`)
	return err
}

// bind writes query's ? placeholders as PostgreSQL's $1, $2, ... when
// the store is PostgreSQL (the queries have no ? of their own).
func (s *Store) bind(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Queries returns the number of read queries run so far.
func (s *Store) Queries() int64 { return s.queries.Load() }

// Commits returns the number of write transactions the collector committed.
func (s *Store) Commits() int64 { return s.commits.Load() }

func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s.queries.Add(1)
	return s.db.QueryContext(ctx, s.bind(query), args...)
}

// SeedSeries is the demo data the store is seeded with: the days days
// before end of DemoSeries at its 7-day resolution, a point every 20 minutes
// (72 a day) for each of the 12 series, generated a week at a time, each
// week from its own seed.
func SeedSeries(seed int64, end time.Time, days int) []dashboard.Series {
	const week = 7 * 24 * time.Hour
	from := end.Add(-time.Duration(days) * 24 * time.Hour).UnixMilli()
	var out []dashboard.Series
	for w := (days + 6) / 7; w > 0; w-- {
		chunk := dashboard.DemoSeries(seed+int64(w), end.Add(-time.Duration(w-1)*week), 7)
		if out == nil {
			out = make([]dashboard.Series, len(chunk))
			for i, s := range chunk {
				out[i] = dashboard.Series{Metric: s.Metric, Labels: s.Labels}
			}
		}
		for i, s := range chunk {
			for _, smp := range s.Samples {
				if smp.T >= from {
					out[i].Samples = append(out[i].Samples, smp)
				}
			}
		}
	}
	return out
}

// Seed fills an empty store with series; a store that already holds series
// is left as it is. It reports whether it seeded.
func (s *Store) Seed(ctx context.Context, series []dashboard.Series) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM series`).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	insertPoint, err := tx.PrepareContext(ctx, s.bind(`INSERT INTO points (series_id, ts, value) VALUES (?, ?, ?)`))
	if err != nil {
		return false, err
	}
	defer insertPoint.Close()
	for _, ser := range series {
		labels, err := json.Marshal(ser.Labels)
		if err != nil {
			return false, err
		}
		var id int64
		err = tx.QueryRowContext(ctx, s.bind(`INSERT INTO series (metric, labels) VALUES (?, ?) RETURNING id`),
			ser.Metric, string(labels)).Scan(&id)
		if err != nil {
			return false, err
		}
		for _, smp := range ser.Samples {
			if _, err := insertPoint.ExecContext(ctx, id, smp.T, smp.V); err != nil {
				return false, err
			}
		}
	}
	return true, tx.Commit()
}

type seriesRef struct {
	id     int64
	series dashboard.Series
}

// LoadSeries returns every series of metric with its points in [from, to),
// in time order.
func (s *Store) LoadSeries(ctx context.Context, metric string, from, to time.Time) ([]dashboard.Series, error) {
	rows, err := s.query(ctx, `SELECT id, labels FROM series WHERE metric = ? ORDER BY id`, metric)
	if err != nil {
		return nil, err
	}
	var refs []seriesRef
	for rows.Next() {
		var ref seriesRef
		var labels string
		if err := rows.Scan(&ref.id, &labels); err != nil {
			rows.Close()
			return nil, err
		}
		ref.series.Metric = metric
		if err := json.Unmarshal([]byte(labels), &ref.series.Labels); err != nil {
			rows.Close()
			return nil, fmt.Errorf("series %d: bad labels: %w", ref.id, err)
		}
		refs = append(refs, ref)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	out := make([]dashboard.Series, 0, len(refs))
	for _, ref := range refs {
		samples, err := s.loadPoints(ctx, ref.id, from, to)
		if err != nil {
			return nil, err
		}
		ref.series.Samples = samples
		out = append(out, ref.series)
	}
	return out, nil
}

func (s *Store) loadPoints(ctx context.Context, id int64, from, to time.Time) ([]dashboard.Sample, error) {
	rows, err := s.query(ctx, `SELECT ts, value FROM points WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts`,
		id, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var samples []dashboard.Sample
	for rows.Next() {
		var smp dashboard.Sample
		if err := rows.Scan(&smp.T, &smp.V); err != nil {
			return nil, err
		}
		samples = append(samples, smp)
	}
	return samples, rows.Err()
}

// Row is one value the collector records.
type Row struct {
	Name  string
	T     int64 // unix milliseconds
	Value float64
}

// InsertRows stores rows in the collector's table.
func (s *Store) InsertRows(ctx context.Context, rows []Row) error {
	for _, r := range rows {
		if _, err := s.db.ExecContext(ctx, s.bind(`INSERT INTO collector_samples (name, ts, value) VALUES (?, ?, ?)`),
			r.Name, r.T, r.Value); err != nil {
			return err
		}
		s.commits.Add(1)
	}
	return nil
}
