package multi

// Address takes the default name addresses.
//
//events:collection
type Address struct {
	Line string `json:"line"`
}

// Person takes the irregular default name people.
//
//events:collection
type Person struct {
	Name string `json:"name"`
}

// HTTPRequest takes the default name http_requests.
//
//events:collection
type HTTPRequest struct {
	URL string `json:"url"`
}

// Legacy has an explicit name.
//
//events:collection Legacy-Items_v2
type Legacy struct {
	ID string `json:"id"`
}

// session is not exported: so are its generated names.
//
//events:collection
type session struct {
	Token string `json:"token"`
}
