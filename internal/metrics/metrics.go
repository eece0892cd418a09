// Package metrics defines Snapdesk's Prometheus metrics in one place, so
// their names and labels are consistent and documented, and serves them.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every metric; one per process, registered on its own registry.
type Metrics struct {
	Registry *prometheus.Registry

	// JobsByState is the number of jobs per kind and state (refreshed each poll cycle).
	JobsByState *prometheus.GaugeVec
	// Transitions counts recorded job state changes, by kind, from and to.
	Transitions *prometheus.CounterVec
	// PollCycle is how long one poll cycle takes.
	PollCycle prometheus.Histogram
	// AtlasCalls counts Atlas API calls by operation and HTTP status ("error" when none).
	AtlasCalls *prometheus.CounterVec
	// AtlasCallDuration is the latency of Atlas calls by operation.
	AtlasCallDuration *prometheus.HistogramVec
	// RateLimitWaits counts waits imposed by Atlas rate limits (client bucket or Retry-After).
	RateLimitWaits *prometheus.CounterVec
	// RateLimitWaitSeconds sums the time spent waiting on rate limits.
	RateLimitWaitSeconds prometheus.Counter
	// Reconciliations counts jobs resolved by reconciliation, by outcome.
	Reconciliations *prometheus.CounterVec
	// StalledJobs is the number of jobs currently flagged stalled.
	StalledJobs prometheus.Gauge
	// AnonymousRefusals counts requests refused before anyone signed in,
	// by reason (csrf, cross_origin). They are counted and sampled in the
	// log, not audited: anyone could fill the audit trail with them.
	AnonymousRefusals *prometheus.CounterVec
	// AuditHeadID and AuditRows are the audit trail's head as of the last
	// checkpoint: kept by the metrics system, outside the database, so
	// removing the newest records shows (the head id never goes down).
	AuditHeadID prometheus.Gauge
	AuditRows   prometheus.Gauge
}

// New creates and registers every metric, plus the Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		JobsByState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "snapdesk_jobs", Help: "Jobs by kind and state.",
		}, []string{"kind", "state"}),
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapdesk_job_transitions_total", Help: "Recorded job state changes.",
		}, []string{"kind", "from", "to"}),
		PollCycle: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "snapdesk_poll_cycle_seconds", Help: "Duration of one poll cycle.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}),
		AtlasCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapdesk_atlas_calls_total", Help: "Atlas Admin API calls by operation and status.",
		}, []string{"operation", "status"}),
		AtlasCallDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "snapdesk_atlas_call_seconds", Help: "Latency of Atlas Admin API calls.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"operation"}),
		RateLimitWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapdesk_atlas_rate_limit_waits_total", Help: "Waits imposed by Atlas rate limits.",
		}, []string{"reason"}),
		RateLimitWaitSeconds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snapdesk_atlas_rate_limit_wait_seconds_total", Help: "Time spent waiting on Atlas rate limits.",
		}),
		Reconciliations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapdesk_reconciliations_total", Help: "Jobs resolved by reconciliation, by outcome.",
		}, []string{"outcome"}),
		StalledJobs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "snapdesk_stalled_jobs", Help: "Jobs whose progress has not moved for the stall threshold.",
		}),
		AuditHeadID: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "snapdesk_audit_checkpoint_head_id", Help: "Id of the newest audit record at the last checkpoint.",
		}),
		AuditRows: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "snapdesk_audit_checkpoint_rows", Help: "Audit records up to the last checkpoint's head.",
		}),
		AnonymousRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapdesk_anonymous_refusals_total", Help: "Requests refused before sign-in (not audited), by reason.",
		}, []string{"reason"}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.JobsByState, m.Transitions, m.PollCycle, m.AtlasCalls, m.AtlasCallDuration,
		m.RateLimitWaits, m.RateLimitWaitSeconds, m.Reconciliations, m.StalledJobs, m.AnonymousRefusals,
		m.AuditHeadID, m.AuditRows,
	)
	for _, reason := range []string{"csrf", "cross_origin"} {
		m.AnonymousRefusals.WithLabelValues(reason) // exported as 0 before the first
	}
	return m
}

// ObserveAtlasCall records one Atlas call; status 0 means no HTTP answer.
func (m *Metrics) ObserveAtlasCall(operation string, status int, d, rateLimitWait time.Duration) {
	s := "error"
	if status > 0 {
		s = strconv.Itoa(status)
	}
	m.AtlasCalls.WithLabelValues(operation, s).Inc()
	m.AtlasCallDuration.WithLabelValues(operation).Observe(d.Seconds())
	if rateLimitWait > 0 {
		m.RateLimitWaits.WithLabelValues("atlas").Inc()
		m.RateLimitWaitSeconds.Add(rateLimitWait.Seconds())
	}
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
