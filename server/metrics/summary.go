// Package metrics exports a herd node's figures to Prometheus under Apache
// ZooKeeper's metric names, as ZooKeeper 3.8's PrometheusMetricsProvider
// does, so dashboards and alerts written for ZooKeeper work unchanged.
//
// The figures come from one place, the fourlw.ServerStats the four-letter
// word mntr prints: a Registry reads it at every scrape. Summaries (request
// latencies, fsync and election times) are the one kind of figure that must
// be recorded as it happens; the server observes them into Summary values
// that feed both the scrape and mntr.
package metrics

import (
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/herd-io/herd/server/fourlw"
)

// Detail is ZooKeeper's summary detail level.
type Detail int

const (
	// Basic summaries export the median only (ZooKeeper's DetailLevel.BASIC).
	Basic Detail = iota
	// Advanced summaries export the 0.5, 0.9 and 0.99 quantiles and give mntr
	// its p50/p95/p99/p999 lines (DetailLevel.ADVANCED).
	Advanced
)

// Summary records durations in milliseconds, ZooKeeper's unit for its
// summaries. It is safe for concurrent use.
//
// One stream holds every quantile either output needs: a request's latency
// is observed once, though the scrape exports ZooKeeper's quantiles and mntr
// prints its own (an observation into a quantile stream costs a lock and an
// insert; the server makes one per request).
type Summary struct {
	name     string
	detail   Detail
	desc     *prometheus.Desc
	exported []float64          // the quantiles the scrape shows: ZooKeeper's objectives
	stream   prometheus.Summary // never registered itself: Collect exports from it

	mu       sync.Mutex
	min, max float64
	seen     bool
}

// mntrQuantiles are the quantiles ZooKeeper's mntr prints for an advanced
// summary.
var mntrQuantiles = []fourlw.Quantile{{Label: "p50", Q: 0.5}, {Label: "p95", Q: 0.95}, {Label: "p99", Q: 0.99}, {Label: "p999", Q: 0.999}}

// NewSummary returns a summary named as ZooKeeper names it (e.g.
// "readlatency"). Its help text is the name, as ZooKeeper's.
func NewSummary(name string, detail Detail) *Summary {
	obj := map[float64]float64{0.5: 0.05}
	exported := []float64{0.5}
	if detail == Advanced {
		obj[0.9], obj[0.99] = 0.01, 0.001
		exported = append(exported, 0.9, 0.99)
		for _, q := range mntrQuantiles {
			if _, ok := obj[q.Q]; !ok {
				obj[q.Q] = (1 - q.Q) / 10
			}
		}
	}
	return &Summary{name: name, detail: detail, exported: exported,
		desc:   prometheus.NewDesc(name, name, nil, nil),
		stream: prometheus.NewSummary(prometheus.SummaryOpts{Name: name, Help: name, Objectives: obj})}
}

// Name returns the metric name.
func (s *Summary) Name() string { return s.name }

// Observe records one duration.
func (s *Summary) Observe(d time.Duration) {
	ms := float64(d) / float64(time.Millisecond)
	s.stream.Observe(ms)
	s.mu.Lock()
	if !s.seen || ms < s.min {
		s.min = ms
	}
	if ms > s.max {
		s.max = ms
	}
	s.seen = true
	s.mu.Unlock()
}

// read returns the stream's count, sum and quantiles.
func (s *Summary) read() (count uint64, sum float64, quantiles map[float64]float64) {
	var m dto.Metric
	if err := s.stream.Write(&m); err != nil {
		return 0, 0, nil
	}
	quantiles = map[float64]float64{}
	for _, q := range m.GetSummary().GetQuantile() {
		quantiles[q.GetQuantile()] = q.GetValue()
	}
	return m.GetSummary().GetSampleCount(), m.GetSummary().GetSampleSum(), quantiles
}

// Stats returns what mntr prints of the summary.
func (s *Summary) Stats() fourlw.Summary {
	count, sum, quantiles := s.read()
	s.mu.Lock()
	out := fourlw.Summary{Name: s.name, Count: int64(count), Sum: sum, Min: s.min, Max: s.max}
	s.mu.Unlock()
	if s.detail != Advanced {
		return out
	}
	for _, q := range mntrQuantiles {
		q.Value = 0
		if v, ok := quantiles[q.Q]; ok && !math.IsNaN(v) {
			q.Value = v
		}
		out.Quantiles = append(out.Quantiles, q)
	}
	return out
}

// Describe implements prometheus.Collector.
func (s *Summary) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

// Collect implements prometheus.Collector: the stream's count and sum with
// ZooKeeper's quantiles only.
func (s *Summary) Collect(ch chan<- prometheus.Metric) {
	count, sum, quantiles := s.read()
	out := make(map[float64]float64, len(s.exported))
	for _, q := range s.exported {
		v, ok := quantiles[q]
		if !ok {
			v = math.NaN()
		}
		out[q] = v
	}
	ch <- prometheus.MustNewConstSummary(s.desc, count, sum, out)
}
