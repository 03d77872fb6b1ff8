// Package changelog is the vocabulary of a store's change log: bookmarks,
// the kinds of change, typed and raw changes, and the rules for document
// ids and collection names.
//
// It holds no storage: runtime/cdc writes and reads the log in SQLite, the
// query builders and the lake read it back from events, and both speak these
// types. Package cdc re-exports every name here, so code written against cdc
// (generated code included) never needs to import this package.
package changelog
