package query

import (
	"fmt"
	"time"
)

// DateRange selects events by their own time ("ts"): Start <= ts <= End,
// both ends included. Only the instants matter: the values may be in any
// zone and are converted to UTC in Go, so neither the process's TZ nor the
// DuckDB session's TimeZone changes which events match.
type DateRange struct {
	// Start is the earliest event time included.
	Start time.Time
	// End is the latest event time included.
	End time.Time
}

// bounds is a checked DateRange in UTC.
type bounds struct {
	// start and end are the range rounded inwards to microseconds (DuckDB's
	// TIMESTAMP precision), so rounding never adds an event.
	start, end time.Time
	// firstHour and lastHour are the UTC hours whose folders hold the range.
	firstHour, lastHour time.Time
}

// check validates dr (nil is no range) for option, e.g. "DateRange".
func (dr *DateRange) check(option string) (*bounds, error) {
	if dr == nil {
		return nil, nil
	}
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"Start", dr.Start}, {"End", dr.End}} {
		if f.t.IsZero() {
			return nil, invalid(option+"."+f.name, "is not set")
		}
		if y := f.t.UTC().Year(); y < 1970 || y > 9999 {
			return nil, invalid(option+"."+f.name, "%s is outside the years 1970-9999 the lake can hold", f.t.UTC().Format(time.RFC3339Nano))
		}
	}
	if dr.End.Before(dr.Start) {
		return nil, invalid(option+".End", "%s is before Start %s", dr.End.UTC().Format(time.RFC3339Nano), dr.Start.UTC().Format(time.RFC3339Nano))
	}
	b := &bounds{
		start:     dr.Start.UTC().Add(time.Microsecond - 1).Truncate(time.Microsecond),
		end:       dr.End.UTC().Truncate(time.Microsecond),
		firstHour: dr.Start.UTC().Truncate(time.Hour),
		lastHour:  dr.End.UTC().Truncate(time.Hour),
	}
	return b, nil
}

// timestampLayout writes a UTC instant for a TIMESTAMPTZ literal, with its
// offset spelled out so the session's TimeZone cannot shift it.
const timestampLayout = "2006-01-02 15:04:05.000000+00"

// tsCondition is the SQL filter on the raw TIMESTAMPTZ "ts" column.
func (b *bounds) tsCondition() string {
	return fmt.Sprintf("ts >= TIMESTAMPTZ '%s' AND ts <= TIMESTAMPTZ '%s'",
		b.start.Format(timestampLayout), b.end.Format(timestampLayout))
}

// lakeEpoch is the earliest instant a DateRange may hold: the lake's keys
// start at the year 1970.
var lakeEpoch = time.Unix(0, 0).UTC()

// utcTimestampLayout writes a UTC instant as a TIMESTAMP literal. It is for
// comparisons with the "ts" that Source returns, a UTC TIMESTAMP: a
// TIMESTAMPTZ literal there would make DuckDB convert "ts" in the session's
// TimeZone.
const utcTimestampLayout = "2006-01-02 15:04:05.000000"

// utcTimestamp checks a time parameter (years 1-9999, what a TIMESTAMP
// holds) and returns it as a UTC TIMESTAMP literal, rounded to microseconds,
// DuckDB's precision: up when the caller compares "ts >= t" or "ts < t",
// down for "ts <= t", so that rounding never changes which events match.
func utcTimestamp(option string, t time.Time, up bool) (string, error) {
	u := t.UTC()
	if u.Year() < 1 || u.Year() > 9999 {
		return "", invalid(option, "%s is outside the years 1-9999", u.Format(time.RFC3339Nano))
	}
	if up {
		u = u.Add(time.Microsecond - 1)
	}
	return "TIMESTAMP '" + u.Truncate(time.Microsecond).Format(utcTimestampLayout) + "'", nil
}

// sinceEpoch returns the DateRange of the hour folders that can hold events
// with from <= ts <= to: both clamped to lakeEpoch, since the lake holds
// nothing earlier. Callers filter "ts" themselves, which also keeps a range
// wholly before the epoch empty.
func sinceEpoch(from, to time.Time) *DateRange {
	clamp := func(t time.Time) time.Time {
		if t.Before(lakeEpoch) {
			return lakeEpoch
		}
		return t
	}
	return &DateRange{Start: clamp(from), End: clamp(to)}
}
