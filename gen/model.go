package gen

import (
	"go/token"
	"go/types"
)

// pkgModel is what one package's generated file is rendered from.
type pkgModel struct {
	name        string        // package name
	path        string        // import path
	output      string        // absolute path of the generated file
	scope       *types.Scope  // the package scope, to steer clear of its names
	sources     []string      // base names of the files declaring the collections, sorted
	collections []*collection // in source order
}

// collection is one annotated struct type.
type collection struct {
	typeName string    // the struct's Go name (T)
	name     string    // the collection name
	pos      token.Pos // the type's name in its declaration
	typ      types.Type
	where    *whereStruct
	indexes  [][]string // Go selector paths (after <T>Where) of indexed fields
	lake     []lakeColumn
}

// Generated identifiers of a collection.
func (c *collection) collectionType() string { return c.typeName + "Collection" }
func (c *collection) changeType() string     { return c.typeName + "Change" }
func (c *collection) whereVar() string       { return c.typeName + "Where" }
func (c *collection) lakeType() string       { return c.typeName + "Lake" }
func (c *collection) lakeSchema() string {
	return lowerFirst(c.typeName) + "LakeSchema"
}
func (c *collection) constructor() string {
	if exported(c.typeName) {
		return "New" + c.typeName + "Collection"
	}
	return "new" + upperFirst(c.typeName) + "Collection"
}

// fieldKind says which cdc field type a field gets.
type fieldKind int

const (
	kindField   fieldKind = iota // cdc.Field[V]: Eq, Ne, In
	kindOrdered                  // cdc.OrderedField[V]: + Gt, Gte, Lt, Lte
	kindString                   // cdc.StringField[V]: + Contains, HasPrefix
	kindTime                     // cdc.TimeField
	kindNested                   // a fields struct of its own
)

// whereStruct is a generated fields struct: <T>Fields, or <T><Path>Fields
// for a nested struct.
type whereStruct struct {
	typeName string
	// whole, when set, is embedded as cdc.Field[whole]: predicates on the
	// nested value itself (IsNull, Eq, ...). Nil at the top and when the
	// type is not a defined one, cannot be named, or has a field called Field.
	whole  types.Type
	fields []*whereField
}

// whereField is one field of a fields struct.
type whereField struct {
	goName   string     // name in the fields struct (the struct field's Go name)
	jsonPath []string   // JSON member names from the document's root
	kind     fieldKind  // which cdc field type
	value    types.Type // V: the type predicates take (pointers removed)
	decl     types.Type // the struct field's declared type
	nested   *whereStruct
	index    bool // events:"index"
	pos      token.Pos
}
