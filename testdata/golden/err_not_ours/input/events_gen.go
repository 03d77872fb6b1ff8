package errnotours

// Handwritten is a file the user wrote, named like the generator's output.
func Handwritten() {}
