// Package gen is the code generator behind cmd/eventsgen: it loads Go
// packages, finds the struct types annotated with
//
//	//events:collection [name]
//
// in their doc comment, builds a model of their JSON fields, and renders one
// file per package (events_gen.go by default) that binds each type to the
// generic runtime in runtime/cdc: a typed collection (<T>Collection,
// New<T>Collection), its typed change event (<T>Change) and typed fields for
// filters and orders (<T>Where, of type <T>Fields), and DuckDB queries over
// its history in the lakehouse (<T>Lake).
//
// The generated code does not restate the runtime: <T>Collection embeds
// *cdc.Collection[T] and adds only With (which returns *<T>Collection),
// <T>Change is an alias of cdc.Change[T], and <T>Lake an alias of
// query.Collection over a generated schema type. What only the generator
// can add is types: a filter on a field takes arguments of the field's Go
// type, so a wrong-typed filter does not compile. The file's first line
// names the files that declare the collections.
//
// # Fields
//
// Fields follow encoding/json: the json tag names them, `json:"-"` and
// unexported fields are skipped, embedded structs are promoted (the
// shallowest field of a name wins), and a nested struct is reached by its
// dot path (UserWhere.Address.City). Each field gets the cdc field type that
// gives exactly the predicates that make sense for it:
//
//	string kinds (and string enums)   cdc.StringField[V]   Eq Ne In Gt Gte Lt Lte Contains HasPrefix
//	integer and float kinds           cdc.OrderedField[V]  Eq Ne In Gt Gte Lt Lte
//	time.Time                         cdc.TimeField        Eq Ne In Gt Gte Lt Lte (as instants)
//	bool, slices, arrays, string-keyed maps, json.RawMessage, any
//	(interface{}, map[string]any, ...) and types with their own
//	MarshalJSON or MarshalText
//	                                  cdc.Field[V]         Eq Ne In
//
// All of them have IsNull, NotNull, Asc and Desc. A pointer field is typed
// as its element. A nested struct gets a fields type of its own
// (<T><Path>Fields) that also embeds cdc.Field of the whole struct, so
// UserWhere.Address.IsNull() works too. A field of type any holds whatever
// JSON value it was given (decoded back as encoding/json does: strings,
// float64, bool, []any, map[string]any); its filters compare JSON values.
//
// The events tag adds options: `events:"index"` indexes the field
// (cdc.WithIndex in New<T>Collection); it is refused on fields whose JSON is
// an array, an object or any value (slices other than []byte, arrays, maps,
// any), since an index would hold the whole value, not its elements, and
// on structs (tag their fields). `events:"-"` leaves a field out of <T>Where
// (the field is still stored and still has its lake column; use it for
// interfaces with methods); a field encoding/json cannot encode (func,
// chan, complex) is an error even so: leave it out of the document with
// `json:"-"`.
//
// The directive is //events:collection with no space after the slashes, as
// for //go:generate; "// events:collection" is reported, not ignored.
//
// # Lake queries
//
// Each collection also gets <T>Lake, DuckDB queries over its change events
// in the lakehouse (package runtime/query builds and runs them): the
// history of one document (History), the state of the collection as of a
// time (StateAt) or a bookmark (StateAtBookmark), and the changes in a time
// range (Changes), each also as SQL (HistorySQL, ...). Their columns are
// the metadata columns of query.Collection (_op, _ts, _bookmark,
// _doc_id, _store, _doc, _prev), then one typed column per top-level field
// of T, named by its JSON name and typed from the Go type: VARCHAR (strings,
// []byte, MarshalText types), BIGINT (signed and small unsigned integers),
// UBIGINT (uint, uint64, uintptr), DOUBLE, BOOLEAN, TIMESTAMP (time.Time,
// in UTC; TIMESTAMPTZ inside structs and lists), T[] (slices, arrays),
// STRUCT (structs), MAP(VARCHAR, T) (string-keyed maps) or JSON (anything
// without a fixed shape: json.RawMessage, MarshalJSON types, interfaces,
// recursive types).
//
// # Errors
//
// Unsupported field types (channels, functions, complex numbers, maps whose
// keys are not strings, interfaces with methods), an annotation on a type that is not a
// struct, two collections with one name (or names that differ only in
// case, which SQLite takes for one table), invalid collection names, two
// fields with one JSON name (or one Go name) and a package without any
// annotated type are reported as Errors, each with a file:line:col
// position; nothing is written when there is any.
package gen
