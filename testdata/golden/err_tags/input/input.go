package errtags

// Inner is nested.
type Inner struct {
	N int `json:"n"`
}

// Doc has bad tags.
//
//events:collection
type Doc struct {
	Unknown string  `json:"unknown" events:"unique"`
	Struct  Inner   `json:"struct" events:"index"`
	Quoted  int     `json:"quoted,string"`
	QuotedP *bool   `json:"quoted_p,string"`
	Both    string  `json:"both" events:"index,-"`
	Fine    []Inner `json:"fine,string"`
}
