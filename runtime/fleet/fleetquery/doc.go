// Package fleetquery holds only tests: the query builders, run on DuckDB,
// over a lake a fleet wrote (kept apart so that the fleet's own tests do
// not link DuckDB).
package fleetquery
