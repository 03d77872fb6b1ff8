// Package bench compares the emitter with Segment's analytics-go, delivering
// the same events to the same loopback ingest server in the same run. It is
// a module of its own so the main module does not depend on analytics-go.
package bench
