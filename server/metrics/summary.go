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
type Summary struct {
	name   string
	detail Detail
	prom   prometheus.Summary // exported, with ZooKeeper's objectives
	mntr   prometheus.Summary // not exported: mntr's p50/p95/p99/p999 (Advanced only)

	mu       sync.Mutex
	count    int64
	sum      float64
	min, max float64
}

// mntrQuantiles are the quantiles ZooKeeper's mntr prints for an advanced
// summary.
var mntrQuantiles = []fourlw.Quantile{{Label: "p50", Q: 0.5}, {Label: "p95", Q: 0.95}, {Label: "p99", Q: 0.99}, {Label: "p999", Q: 0.999}}

// NewSummary returns a summary named as ZooKeeper names it (e.g.
// "readlatency"). Its help text is the name, as ZooKeeper's.
func NewSummary(name string, detail Detail) *Summary {
	obj := map[float64]float64{0.5: 0.05}
	if detail == Advanced {
		obj[0.9], obj[0.99] = 0.01, 0.001
	}
	s := &Summary{name: name, detail: detail,
		prom: prometheus.NewSummary(prometheus.SummaryOpts{Name: name, Help: name, Objectives: obj})}
	if detail == Advanced {
		mobj := map[float64]float64{}
		for _, q := range mntrQuantiles {
			mobj[q.Q] = (1 - q.Q) / 10
		}
		s.mntr = prometheus.NewSummary(prometheus.SummaryOpts{Name: name, Help: name, Objectives: mobj})
	}
	return s
}

// Name returns the metric name.
func (s *Summary) Name() string { return s.name }

// Observe records one duration.
func (s *Summary) Observe(d time.Duration) {
	ms := float64(d) / float64(time.Millisecond)
	s.prom.Observe(ms)
	if s.mntr != nil {
		s.mntr.Observe(ms)
	}
	s.mu.Lock()
	if s.count == 0 || ms < s.min {
		s.min = ms
	}
	if ms > s.max {
		s.max = ms
	}
	s.count++
	s.sum += ms
	s.mu.Unlock()
}

// Stats returns what mntr prints of the summary.
func (s *Summary) Stats() fourlw.Summary {
	s.mu.Lock()
	out := fourlw.Summary{Name: s.name, Count: s.count, Sum: s.sum, Min: s.min, Max: s.max}
	s.mu.Unlock()
	if s.mntr == nil {
		return out
	}
	var m dto.Metric
	if err := s.mntr.Write(&m); err != nil {
		return out
	}
	for _, q := range mntrQuantiles {
		q.Value = 0
		for _, mq := range m.GetSummary().GetQuantile() {
			if mq.GetQuantile() == q.Q && !math.IsNaN(mq.GetValue()) {
				q.Value = mq.GetValue()
			}
		}
		out.Quantiles = append(out.Quantiles, q)
	}
	return out
}

// Describe implements prometheus.Collector.
func (s *Summary) Describe(ch chan<- *prometheus.Desc) { s.prom.Describe(ch) }

// Collect implements prometheus.Collector.
func (s *Summary) Collect(ch chan<- prometheus.Metric) { s.prom.Collect(ch) }
