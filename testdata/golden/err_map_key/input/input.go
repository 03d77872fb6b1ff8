package errmapkey

// Key is a named string: maps keyed by it are fine.
type Key string

// Index has maps with keys that are not strings.
//
//events:collection
type Index struct {
	Good   map[Key]int         `json:"good"`
	ByID   map[int]string      `json:"by_id"`
	ByPair map[[2]string]bool  `json:"by_pair"`
	Deep   []map[float64]int64 `json:"deep"`
}
