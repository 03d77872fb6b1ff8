package errduplicate

// User takes the name users.
//
//events:collection
type User struct {
	Name string `json:"name"`
}

// Member also asks for users.
//
//events:collection users
type Member struct {
	Name string `json:"name"`
}

// Admin too.
//
//events:collection users
type Admin struct {
	Name string `json:"name"`
}
