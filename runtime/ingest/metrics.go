package ingest

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are a server's Prometheus metrics, in a registry of its own (no
// global state: two servers in one process count apart).
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	events      prometheus.Counter
	bytes       prometheus.Counter
	rejects     *prometheus.CounterVec
	latency     prometheus.Histogram
	lakeErrors  prometheus.Counter
	inFlight    prometheus.Gauge
	lakeObjects prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "events_ingest_requests_total",
			Help: "Requests answered, by HTTP status code.",
		}, []string{"code"}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "events_ingest_events_accepted_total",
			Help: "Events written to the lake and acknowledged with a 200.",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "events_ingest_bytes_accepted_total",
			Help: "Request body bytes of the batches acknowledged with a 200.",
		}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "events_ingest_rejects_total",
			Help: "Batches refused, by reason.",
		}, []string{"reason"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "events_ingest_request_duration_seconds",
			Help:    "Time to answer a POST /ingest, from its first byte read to its answer.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		lakeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "events_ingest_lake_write_errors_total",
			Help: "Batches whose lake write failed (answered with 503).",
		}),
		lakeObjects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "events_ingest_lake_objects_written_total",
			Help: "Objects written to the lake.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "events_ingest_in_flight_requests",
			Help: "POST /ingest requests being handled.",
		}),
	}
	m.reg.MustRegister(m.requests, m.events, m.bytes, m.rejects, m.latency, m.lakeErrors, m.lakeObjects, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) answered(code int) { m.requests.WithLabelValues(strconv.Itoa(code)).Inc() }
