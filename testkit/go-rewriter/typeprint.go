package main

import (
	"fmt"
	"go/token"
	"go/types"
	"strconv"
	"strings"
)

// typeText prints t as Go source that names the same type at pos, or at the top level of the
// file when pos is token.NoPos. It fails when that is impossible: a type declared inside a
// function or a type parameter named at the top level, an unexported type of another package,
// a package the file does not import, or a name hidden by a local declaration at pos.
//
// It prints types itself rather than with types.TypeString so that the output is the same
// whatever the Go version: newer go/types keeps aliases such as `any` as types of their own,
// which are printed here as what they stand for.
func (p *Program) typeText(t types.Type, pos token.Pos) (string, error) {
	var b strings.Builder
	if err := p.writeType(&b, t, pos); err != nil {
		return "", err
	}
	return b.String(), nil
}

// signatureText prints a signature without `func`: `(string, int) error`.
func (p *Program) signatureText(sig *types.Signature, pos token.Pos) (string, error) {
	var b strings.Builder
	if err := p.writeSignature(&b, sig, pos); err != nil {
		return "", err
	}
	return b.String(), nil
}

// unalias resolves an alias type (go/types since Go 1.22 keeps them), which Go 1.19's go/types
// has no name for, through the methods it has.
func unalias(t types.Type) types.Type {
	for i := 0; i < 100; i++ {
		switch t.(type) {
		case *types.Basic, *types.Pointer, *types.Slice, *types.Array, *types.Map, *types.Chan,
			*types.Signature, *types.Struct, *types.Interface, *types.Named, *types.TypeParam,
			*types.Tuple, *types.Union:
			return t
		}
		if a, ok := t.(interface{ Rhs() types.Type }); ok {
			t = a.Rhs()
			continue
		}
		return t.Underlying()
	}
	return t
}

func (p *Program) writeType(b *strings.Builder, t types.Type, pos token.Pos) error {
	switch t := unalias(t).(type) {
	case *types.Basic:
		if t.Info()&types.IsUntyped != 0 || t.Kind() == types.UnsafePointer || t.Kind() == types.Invalid {
			return fmt.Errorf("type %s cannot be written", t)
		}
		if err := p.checkResolves(t.Name(), types.Universe.Lookup(t.Name()), pos); err != nil {
			return err
		}
		b.WriteString(t.Name())
	case *types.Pointer:
		b.WriteString("*")
		return p.writeType(b, t.Elem(), pos)
	case *types.Slice:
		b.WriteString("[]")
		return p.writeType(b, t.Elem(), pos)
	case *types.Array:
		b.WriteString("[" + strconv.FormatInt(t.Len(), 10) + "]")
		return p.writeType(b, t.Elem(), pos)
	case *types.Map:
		b.WriteString("map[")
		if err := p.writeType(b, t.Key(), pos); err != nil {
			return err
		}
		b.WriteString("]")
		return p.writeType(b, t.Elem(), pos)
	case *types.Chan:
		switch t.Dir() {
		case types.SendRecv:
			b.WriteString("chan ")
			if inner, ok := unalias(t.Elem()).(*types.Chan); ok && inner.Dir() == types.RecvOnly {
				b.WriteString("(")
				if err := p.writeType(b, t.Elem(), pos); err != nil {
					return err
				}
				b.WriteString(")")
				return nil
			}
		case types.SendOnly:
			b.WriteString("chan<- ")
		case types.RecvOnly:
			b.WriteString("<-chan ")
		}
		return p.writeType(b, t.Elem(), pos)
	case *types.Signature:
		b.WriteString("func")
		return p.writeSignature(b, t, pos)
	case *types.Struct:
		b.WriteString("struct{")
		for i := 0; i < t.NumFields(); i++ {
			f := t.Field(i)
			if i > 0 {
				b.WriteString("; ")
			}
			if f.Pkg() != p.Pkg && !f.Exported() {
				return fmt.Errorf("struct type with unexported field %s of package %s", f.Name(), f.Pkg().Path())
			}
			if !f.Embedded() {
				b.WriteString(f.Name() + " ")
			}
			if err := p.writeType(b, f.Type(), pos); err != nil {
				return err
			}
			if tag := t.Tag(i); tag != "" {
				b.WriteString(" " + strconv.Quote(tag))
			}
		}
		b.WriteString("}")
	case *types.Interface:
		if !t.IsMethodSet() {
			return fmt.Errorf("constraint interface %s cannot be written as a type", t)
		}
		b.WriteString("interface{")
		for i := 0; i < t.NumEmbeddeds(); i++ {
			if i > 0 {
				b.WriteString("; ")
			}
			if err := p.writeType(b, t.EmbeddedType(i), pos); err != nil {
				return err
			}
		}
		for i := 0; i < t.NumExplicitMethods(); i++ {
			m := t.ExplicitMethod(i)
			if i > 0 || t.NumEmbeddeds() > 0 {
				b.WriteString("; ")
			}
			if m.Pkg() != p.Pkg && !m.Exported() {
				return fmt.Errorf("interface with unexported method %s of package %s", m.Name(), m.Pkg().Path())
			}
			b.WriteString(m.Name())
			if err := p.writeSignature(b, m.Type().(*types.Signature), pos); err != nil {
				return err
			}
		}
		b.WriteString("}")
	case *types.Named:
		obj := t.Obj()
		switch {
		case obj.Pkg() == nil:
			// `error` and `comparable`, from the universe.
			if err := p.checkResolves(obj.Name(), obj, pos); err != nil {
				return err
			}
			b.WriteString(obj.Name())
		case obj.Pkg() == p.Pkg:
			if obj.Parent() != p.Pkg.Scope() && pos == token.NoPos {
				return fmt.Errorf("type %s is declared inside a function", obj.Name())
			}
			if err := p.checkResolves(obj.Name(), obj, pos); err != nil {
				return err
			}
			b.WriteString(obj.Name())
		default:
			if !obj.Exported() {
				return fmt.Errorf("type %s.%s is not exported", obj.Pkg().Path(), obj.Name())
			}
			name, err := p.importNameOf(obj.Pkg(), pos)
			if err != nil {
				return err
			}
			b.WriteString(name + "." + obj.Name())
		}
		if args := t.TypeArgs(); args != nil && args.Len() > 0 {
			b.WriteString("[")
			for i := 0; i < args.Len(); i++ {
				if i > 0 {
					b.WriteString(", ")
				}
				if err := p.writeType(b, args.At(i), pos); err != nil {
					return err
				}
			}
			b.WriteString("]")
		}
	case *types.TypeParam:
		if pos == token.NoPos {
			return fmt.Errorf("type parameter %s cannot be named outside its function", t.Obj().Name())
		}
		if err := p.checkResolves(t.Obj().Name(), t.Obj(), pos); err != nil {
			return err
		}
		b.WriteString(t.Obj().Name())
	default:
		return fmt.Errorf("type %s cannot be written", t)
	}
	return nil
}

func (p *Program) writeSignature(b *strings.Builder, sig *types.Signature, pos token.Pos) error {
	if sig.TypeParams() != nil && sig.TypeParams().Len() > 0 {
		return fmt.Errorf("generic signature %s", sig)
	}
	b.WriteString("(")
	params := sig.Params()
	for i := 0; i < params.Len(); i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		t := params.At(i).Type()
		if sig.Variadic() && i == params.Len()-1 {
			b.WriteString("...")
			t = t.(*types.Slice).Elem()
		}
		if err := p.writeType(b, t, pos); err != nil {
			return err
		}
	}
	b.WriteString(")")
	results := sig.Results()
	switch results.Len() {
	case 0:
	case 1:
		b.WriteString(" ")
		return p.writeType(b, results.At(0).Type(), pos)
	default:
		b.WriteString(" (")
		for i := 0; i < results.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := p.writeType(b, results.At(i).Type(), pos); err != nil {
				return err
			}
		}
		b.WriteString(")")
	}
	return nil
}

// importNameOf is the name under which the file imports pkg, checked to mean that package at
// pos.
func (p *Program) importNameOf(pkg *types.Package, pos token.Pos) (string, error) {
	for _, spec := range p.File.Imports {
		path, _ := strconv.Unquote(spec.Path.Value)
		if path != pkg.Path() {
			continue
		}
		name := importName(spec, p.Info)
		if name == "_" || name == "." {
			continue
		}
		var obj types.Object
		if spec.Name != nil {
			obj = p.Info.Defs[spec.Name]
		} else {
			obj = p.Info.Implicits[spec]
		}
		if err := p.checkResolves(name, obj, pos); err != nil {
			return "", err
		}
		return name, nil
	}
	return "", fmt.Errorf("package %s is not imported by the file", pkg.Path())
}

// checkResolves fails unless name means obj at pos (at the top level of the file for
// token.NoPos).
func (p *Program) checkResolves(name string, obj types.Object, pos token.Pos) error {
	scope := p.Info.Scopes[p.File]
	if pos != token.NoPos {
		scope = p.Pkg.Scope().Innermost(pos)
	}
	if scope == nil {
		return fmt.Errorf("no scope at %s", p.Fset.Position(pos))
	}
	if _, found := scope.LookupParent(name, pos); found != obj {
		return fmt.Errorf("`%s` is hidden by another declaration where the type would be written", name)
	}
	return nil
}
