// Package multi has several collections in two files.
package multi

// AuditLog takes the default name audit_logs.
//
//events:collection
type AuditLog struct {
	Action string `json:"action"`
}

// Category takes the default name categories.
//
//events:collection
type Category struct {
	Title string `json:"title"`
}

type (
	// Status takes the default name statuses.
	//
	//events:collection
	Status struct {
		Code int `json:"code"`
	}

	// NotAnnotated has no directive.
	NotAnnotated struct {
		X int
	}
)
