package gen

import (
	"go/types"
	"strings"

	"github.com/dave/jennifer/jen"
)

// typeCode spells t in the generated file, recording the imports it needs.
// Callers check nameable first.
func (r *renderer) typeCode(t types.Type) jen.Code {
	switch t := t.(type) {
	case *types.Alias:
		return r.named(t.Obj(), t.TypeArgs())
	case *types.Named:
		return r.named(t.Obj(), t.TypeArgs())
	case *types.Basic:
		return jen.Id(t.Name())
	case *types.Pointer:
		return jen.Op("*").Add(r.typeCode(t.Elem()))
	case *types.Slice:
		return jen.Index().Add(r.typeCode(t.Elem()))
	case *types.Array:
		return jen.Index(jen.Lit(int(t.Len()))).Add(r.typeCode(t.Elem()))
	case *types.Map:
		return jen.Map(r.typeCode(t.Key())).Add(r.typeCode(t.Elem()))
	case *types.Struct:
		return jen.StructFunc(func(g *jen.Group) {
			for i := 0; i < t.NumFields(); i++ {
				f := t.Field(i)
				s := jen.Null()
				if !f.Embedded() {
					s = jen.Id(f.Name())
				}
				s.Add(r.typeCode(f.Type()))
				if tag := t.Tag(i); tag != "" && !strings.Contains(tag, "`") {
					s.Op("`" + tag + "`")
				} else if tag != "" {
					s.Lit(tag)
				}
				g.Add(s)
			}
		})
	case *types.Interface:
		if t.Empty() {
			return jen.Id("any")
		}
	}
	// Not reached for checked types: interfaces with methods, channels and
	// functions are rejected before rendering.
	return jen.Id(types.TypeString(t, nil))
}

// named spells a defined type or alias, with its type arguments.
func (r *renderer) named(obj *types.TypeName, args *types.TypeList) jen.Code {
	s := r.qual(obj.Pkg(), obj.Name())
	if args.Len() > 0 {
		codes := make([]jen.Code, args.Len())
		for i := range codes {
			codes[i] = r.typeCode(args.At(i))
		}
		s.Types(codes...)
	}
	return s
}

// qual refers to name in pkg (nil: the universe), recording the import.
func (r *renderer) qual(pkg *types.Package, name string) *jen.Statement {
	if pkg == nil || pkg.Path() == r.m.path {
		return jen.Id(name)
	}
	r.imports[pkg.Path()] = pkg.Name()
	return jen.Qual(pkg.Path(), name)
}
