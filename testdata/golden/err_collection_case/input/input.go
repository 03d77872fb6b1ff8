package errcollectioncase

// User takes the name users.
//
//events:collection users
type User struct {
	Name string `json:"name"`
}

// Account asks for Users: SQLite would store both in one table.
//
//events:collection Users
type Account struct {
	Name string `json:"name"`
}

// Person's default name, people, is free; PEOPLE is not.
//
//events:collection
type Person struct {
	Name string `json:"name"`
}

// Shouting asks for PEOPLE.
//
//events:collection PEOPLE
type Shouting struct {
	Name string `json:"name"`
}
