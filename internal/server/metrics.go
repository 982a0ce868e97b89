package server

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/mail"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	commits  prometheus.Histogram
	batch    prometheus.Histogram
	accepted prometheus.Counter
	refused  prometheus.Counter
	exchange *prometheus.CounterVec
	mail     *prometheus.CounterVec
	handler  http.Handler
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_http_requests_total",
		Help: "HTTP requests by route pattern and status code."}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "custos_http_request_seconds",
		Help: "HTTP request latency by route pattern.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, []string{"route"})
	m.commits = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "custos_log_commit_seconds",
		Help: "Time to run and durably commit one batch of commands.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)})
	m.batch = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "custos_log_batch_commands",
		Help: "Commands grouped into one commit.", Buckets: prometheus.ExponentialBuckets(1, 2, 10)})
	m.accepted = prometheus.NewCounter(prometheus.CounterOpts{Name: "custos_commands_accepted_total", Help: "Commands accepted into the log."})
	m.refused = prometheus.NewCounter(prometheus.CounterOpts{Name: "custos_commands_refused_total", Help: "Commands refused by a rule."})
	m.exchange = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_exchange_events_total",
		Help: "Exchange events: messages sent, acknowledged, refused by the peer, received, replayed, refused incoming, delivery attempts failed, uses refused."}, []string{"event"})
	m.mail = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "custos_mail_events_total",
		Help: "E-mail: messages sent, attempts failed (tried again later), messages failed for good."}, []string{"event"})
	// Every event's series from the start, at 0: an alert on "failed"
	// has a series to watch before the first failure.
	for _, e := range exchange.Events {
		m.exchange.WithLabelValues(e)
	}
	for _, e := range mail.Events {
		m.mail.WithLabelValues(e)
	}
	m.reg.MustRegister(m.requests, m.latency, m.commits, m.batch, m.accepted, m.refused, m.exchange, m.mail,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// watchWriter exports the writer's counts: the commands whose read was
// answered ahead (PostgreSQL), the batches run again after a write failed
// once its command was counted (a fault the server's log details), and where
// the committed batches' time went (ledger.BatchPhases).
func (m *metrics) watchWriter(w *ledger.Writer) {
	phases := []struct {
		name string
		of   func(ledger.BatchPhases) time.Duration
	}{
		{"begin", func(p ledger.BatchPhases) time.Duration { return p.Begin }},
		{"commands", func(p ledger.BatchPhases) time.Duration { return p.Commands }},
		{"append", func(p ledger.BatchPhases) time.Duration { return p.Append }},
		{"commit", func(p ledger.BatchPhases) time.Duration { return p.Commit }},
	}
	for _, ph := range phases {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "custos_log_batch_phase_seconds_total",
			Help:        "Time committed batches spent in each phase: begin (the log head locked), commands (decided, writes sent), append (leaves, tree, signed head), commit (queued writes run, durable commit).",
			ConstLabels: prometheus.Labels{"phase": ph.name}},
			func() float64 { return ph.of(w.Counts().Phases).Seconds() }))
	}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "custos_commands_read_ahead_wait_seconds_total",
			Help: "Time the commands phase of committed batches waited for reads answered ahead (PostgreSQL)."},
			func() float64 { return w.Counts().Phases.ReadAheadWait.Seconds() }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "custos_commands_read_ahead_total",
			Help: "Commands whose first read another connection answered ahead (PostgreSQL)."},
			func() float64 { return float64(w.Counts().ReadAhead) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "custos_log_batch_reruns_total",
			Help: "Batches run again because a write failed after its command was counted."},
			func() float64 { return float64(w.Counts().Reruns) }))
}

// watchReplica exports whether the read replica is in use and how many
// leaves it lacked at the last check (replicaWatch).
func (m *metrics) watchReplica(w *replicaWatch) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "custos_read_replica_in_use",
			Help: "1 while the read replica (--db-read) serves the reads marked for it, 0 while it is set aside (behind, unreachable, or not the primary's) and they read the primary."},
			func() float64 {
				if w.inUse.Load() {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "custos_read_replica_behind_leaves",
			Help: "Leaves of the log the read replica lacked at the last check."},
			func() float64 { return float64(w.behind.Load()) }))
}

// mailFindings exports the outbox's findings (mail.Findings) as the gauge
// custos_mail_outbox_findings{finding}, so that a row changed or deleted
// behind custos's back shows whether or not the deliverer ever meets it
// (it meets only pending rows; a deleted one, never): counted again when
// scraped after a change (mail.Service.Findings says which it sees at once,
// and how late a row changed in place may show).
// It exports beside them custos_mail_outbox_reads_total, the reads of the
// whole outbox they took, counted after this scrape's.
type mailFindings struct {
	svc         *mail.Service
	log         *slog.Logger
	desc, reads *prometheus.Desc
}

func (c *mailFindings) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc; ch <- c.reads }

func (c *mailFindings) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f, err := c.svc.Findings(ctx)
	ch <- prometheus.MustNewConstMetric(c.reads, prometheus.CounterValue, float64(c.svc.FindingsReads()))
	if err != nil {
		// No series rather than a false 0.
		c.log.Error("metrics: count the e-mail outbox's findings", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(f.Missing), "missing")
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(f.Tampered), "tampered")
}

// watchMail exports the outbox's findings (mailFindings).
func (m *metrics) watchMail(svc *mail.Service, log *slog.Logger) {
	m.reg.MustRegister(&mailFindings{svc: svc, log: log, desc: prometheus.NewDesc("custos_mail_outbox_findings",
		"E-mail outbox rows custos did not write, as custos mail outbox reports them: missing (e-mails the log says were queued, deleted from the outbox), tampered (rows whose MAC does not match, or not sent though the log says they were).",
		[]string{"finding"}, nil),
		reads: prometheus.NewDesc("custos_mail_outbox_reads_total",
			"Reads of the whole e-mail outbox to count custos_mail_outbox_findings: at the first scrape after a change, else every "+mail.FindingsEvery.String()+" at most.",
			nil, nil)})
}

func (m *metrics) observeCommit(accepted, refused int, took time.Duration) {
	m.commits.Observe(took.Seconds())
	m.batch.Observe(float64(accepted + refused))
	m.accepted.Add(float64(accepted))
	m.refused.Add(float64(refused))
}

func (m *metrics) exchangeEvent(event string) { m.exchange.WithLabelValues(event).Inc() }

func (m *metrics) mailEvent(event string) { m.mail.WithLabelValues(event).Inc() }

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// instrument counts and times requests by the mux pattern that served them.
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: 200}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}
