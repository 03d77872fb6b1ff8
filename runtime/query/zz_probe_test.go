package query

import (
	"os"
	"testing"
)

func TestZZProbe(t *testing.T) {
	d := t.TempDir()
	os.MkdirAll(d+"/events/2024/01/15/14", 0o755)
	os.MkdirAll(d+"/events/0000/00/00/00", 0o755)
	os.WriteFile(d+"/events/2024/01/15/14/a.jsonl", []byte(`{"type":"t","ts":"2024-01-15T14:00:00.000Z","code":"abc","namespace":5,"doc":{"a":1,"b":"x","extra":3},"prev":null,"do":{"id":"x"}}
{"type":"t","ts":"2024-01-15T14:00:01.000Z","code":7,"namespace":{"q":1},"doc":"str","do":{"id":"y","zz":1}}
`), 0o644)
	os.WriteFile(d+"/events/0000/00/00/00/_.jsonl", nil, 0o644)
	db := openDuckDB(t, "")
	try := func(q string) {
		rows, _, err := runQuery(db, q)
		t.Logf("Q: %s\n  => %v err=%v", q, rows, err)
	}
	try(`COPY (SELECT 1 AS a) TO '` + d + `/events/0000/00/00/00/_.parquet' (FORMAT parquet)`)
	try(`SELECT * FROM read_parquet(['` + d + `/events/0000/00/00/00/_.parquet', '` + d + `/events/nomatch/*.parquet'])`)
	try(`SELECT filename FROM read_json('` + d + `/events/[20]0[20][40]/[00][10]/*/*/*.jsonl', filename=true)`)
	cols := `columns={'type':'VARCHAR','ts':'TIMESTAMPTZ','code':'BIGINT','namespace':'VARCHAR','doc':'STRUCT(a BIGINT, b VARCHAR)','prev':'JSON','do':'STRUCT(id VARCHAR)'}`
	try(`SELECT * FROM read_json('` + d + `/events/2024/01/15/14/a.jsonl', format='newline_delimited', ignore_errors=true, union_by_name=true, ` + cols + `)`)
	try(`SELECT * FROM read_json('` + d + `/events/*/*/*/*/*.jsonl', format='newline_delimited', ignore_errors=true, union_by_name=true, filename=true, ` + cols + `) WHERE parse_filename(filename) = 'nothing'`)
	try(`SELECT unnest(from_json(j, '{"type":"VARCHAR","ts":"TIMESTAMPTZ","code":"BIGINT","namespace":"VARCHAR","doc":"STRUCT(a BIGINT, b VARCHAR)","prev":"JSON","do":"STRUCT(id VARCHAR)"}')) FROM (SELECT content j FROM read_text('` + d + `/events/2024/01/15/14/a.jsonl'))`)
	try(`SELECT unnest(from_json(j, '{"type":"VARCHAR","ts":"TIMESTAMPTZ","code":"BIGINT","namespace":"VARCHAR","doc":"STRUCT(a BIGINT, b VARCHAR)","prev":"JSON","do":"STRUCT(id VARCHAR)"}')) FROM (VALUES ('{"type":"t","ts":"2024-01-15T14:00:00.000Z","code":"abc","namespace":5,"doc":{"a":1,"b":"x","extra":3},"prev":null,"do":{"id":"x"}}'), ('{"type":"t","ts":"2024-01-15T14:00:01.000Z","code":7,"namespace":{"q":1},"doc":"str","do":{"id":"y","zz":1}}')) v(j)`)
	try(`SELECT version()`)
}
