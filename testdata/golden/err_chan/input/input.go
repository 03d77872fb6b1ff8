package errchan

// Pipe has a channel.
//
//events:collection
type Pipe struct {
	Name    string        `json:"name"`
	Ch      chan int      `json:"ch"`
	Ignored chan struct{} `json:"-"`
	Maybe   *chan string  `json:"maybe"`
}
