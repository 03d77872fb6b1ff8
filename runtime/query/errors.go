package query

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidOption is matched (with errors.Is) by every error of a builder
// about its options. The error is an *OptionError naming the option.
var ErrInvalidOption = errors.New("query: invalid option")

// OptionError says which option of a builder is wrong and why. It matches
// ErrInvalidOption.
type OptionError struct {
	// Option is the field's name as spelled in the options struct, e.g.
	// "DocID", "EventTypes[2]", "DateRange.End" or "Columns[0].Type".
	Option string
	// Reason says what is wrong with it.
	Reason string
	// Err, when not nil, is the error of the check that refused the value
	// (e.g. changelog.ErrInvalidID for a document id), so that it matches too.
	Err error
}

// Error implements error.
func (e *OptionError) Error() string {
	return fmt.Sprintf("%s: %s: %s", ErrInvalidOption, e.Option, e.Reason)
}

// Unwrap makes the error match ErrInvalidOption, and Err when set.
func (e *OptionError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidOption}
	}
	return []error{ErrInvalidOption, e.Err}
}

// invalid returns an *OptionError for option.
func invalid(option, format string, args ...any) error {
	return &OptionError{Option: option, Reason: fmt.Sprintf(format, args...)}
}

// refused returns an *OptionError for option whose value check failed with
// err: the message is err's, and the error matches it.
func refused(option string, err error) error {
	return &OptionError{Option: option, Reason: err.Error(), Err: err}
}

// noFilesMessage is how DuckDB words the error of a glob that matches no
// file ("IO Error: No files found that match the pattern ...").
const noFilesMessage = "No files found that match the pattern"

// IsNoFiles reports whether err, returned by DuckDB for one of this
// package's queries, says that the queried part of the lake holds no events
// object: DuckDB's error for a glob that matches no file, which a query over
// an hour, day, month or year without any object gets. Callers that prefer
// an empty result treat it as one; see the package documentation.
// (DuckDB has no error code for it, so the message is matched; the tests
// pin DuckDB's wording.)
func IsNoFiles(err error) bool {
	return err != nil && strings.Contains(err.Error(), noFilesMessage)
}
