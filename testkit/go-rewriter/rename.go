package main

import (
	"go/ast"
	"go/token"
	"go/types"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// isMethod reports whether obj is a method: of a concrete type or of an interface.
func isMethod(obj types.Object) bool {
	fn, ok := obj.(*types.Func)
	return ok && fn.Type().(*types.Signature).Recv() != nil
}

// definedObjects lists the objects the program declares, in the order of their declarations.
func (p *Program) definedObjects() []types.Object {
	type def struct {
		id  *ast.Ident
		obj types.Object
	}
	var defs []def
	for id, obj := range p.Info.Defs {
		if obj != nil && obj.Pkg() == p.Pkg && obj.Name() != "_" {
			defs = append(defs, def{id, obj})
		}
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].id.Pos() < defs[j].id.Pos() })
	seen := map[types.Object]bool{}
	var out []types.Object
	for _, d := range defs {
		if !seen[d.obj] {
			seen[d.obj] = true
			out = append(out, d.obj)
		}
	}
	return out
}

// renameEdits rewrites every identifier that refers to a renamed object, the embedded fields
// of renamed types, and the symbolic variable of type switches whose clauses' variables are
// renamed. only, when set, limits the edits to identifiers it accepts.
func (p *Program) renameEdits(ed *editor, newName map[types.Object]string, only func(*ast.Ident) bool) {
	// An embedded field is named after its type.
	for _, obj := range p.definedObjects() {
		field, ok := obj.(*types.Var)
		if !ok || !field.Embedded() {
			continue
		}
		if named, ok := unalias(derefType(field.Type())).(*types.Named); ok {
			if name, ok := newName[named.Obj()]; ok {
				newName[field] = name
			}
		}
	}
	done := map[*ast.Ident]bool{}
	rewrite := func(id *ast.Ident, name string) {
		if done[id] || (only != nil && !only(id)) {
			return
		}
		done[id] = true
		ed.replace(p.off(id.Pos()), p.off(id.End()), lit(name))
	}
	ast.Inspect(p.File, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			if obj := p.Info.Defs[n]; obj != nil {
				if name, ok := newName[origin(obj)]; ok {
					rewrite(n, name)
				}
			}
			if obj := p.Info.Uses[n]; obj != nil {
				if name, ok := newName[origin(obj)]; ok {
					rewrite(n, name)
				}
			}
		case *ast.TypeSwitchStmt:
			assign, ok := n.Assign.(*ast.AssignStmt)
			if !ok {
				return true
			}
			for _, clause := range n.Body.List {
				if obj := p.Info.Implicits[clause]; obj != nil {
					if name, ok := newName[obj]; ok {
						rewrite(assign.Lhs[0].(*ast.Ident), name)
					}
				}
			}
		}
		return true
	})
}

// methodGroups maps each method name the program declares, on concrete types or in
// interfaces, to those methods: renaming one renames all, so that every type keeps
// satisfying the interfaces it satisfied.
func (p *Program) methodGroups() map[string][]*types.Func {
	groups := map[string][]*types.Func{}
	for _, obj := range p.definedObjects() {
		if isMethod(obj) {
			groups[obj.Name()] = append(groups[obj.Name()], obj.(*types.Func))
		}
	}
	return groups
}

// rename gives every identifier the program declares a fresh name with the same first-letter
// case: types, functions (not main and init), variables, constants, parameters, results,
// labels, type parameters, unexported fields and methods, consistently by go/types object. An
// unexported method is renamed together with every method and interface method of the same
// name, so that each type keeps the interfaces it had. Exported methods and fields keep their
// names: interfaces of other packages and reflection may need them.
func rename(rw *rewriteCtx) string {
	p := rw.p
	newName := map[types.Object]string{}
	fresh := func(prefix string, like string) string {
		if startsUpper(like) {
			return rw.names.fresh(strings.ToUpper(prefix[:1]) + prefix[1:])
		}
		return rw.names.fresh(prefix)
	}
	groups := p.methodGroups()
	groupName := map[string]string{}
	for _, obj := range p.definedObjects() {
		switch o := obj.(type) {
		case *types.PkgName:
		case *types.Func:
			if isMethod(o) {
				if o.Exported() {
					continue
				}
				if _, ok := groupName[o.Name()]; !ok {
					groupName[o.Name()] = fresh("meth", o.Name())
				}
				for _, m := range groups[o.Name()] {
					newName[m] = groupName[o.Name()]
				}
				continue
			}
			if p.isPackageLevel(o) && (o.Name() == "main" || o.Name() == "init") {
				continue
			}
			newName[o] = fresh("fn", o.Name())
		case *types.Var:
			switch {
			case o.Embedded():
				// Named after its type, which renameEdits follows.
			case o.IsField():
				// A field of a struct type literal stays: another literal of the same
				// type would no longer be identical to it.
				if !o.Exported() && p.structOwning(o) != nil {
					newName[o] = fresh("fld", o.Name())
				}
			default:
				newName[o] = fresh("v", o.Name())
			}
		case *types.TypeName:
			if _, isParam := o.Type().(*types.TypeParam); isParam {
				newName[o] = fresh("tp", o.Name())
			} else {
				newName[o] = fresh("typ", o.Name())
			}
		case *types.Const:
			newName[o] = fresh("k", o.Name())
		case *types.Label:
			newName[o] = rw.names.fresh("label")
		}
	}
	// The variables of a type switch's clauses are one name in the source.
	ast.Inspect(p.File, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSwitchStmt)
		if !ok {
			return true
		}
		if assign, ok := ts.Assign.(*ast.AssignStmt); ok {
			name := fresh("v", assign.Lhs[0].(*ast.Ident).Name)
			for _, clause := range ts.Body.List {
				if obj := p.Info.Implicits[clause]; obj != nil {
					newName[obj] = name
				}
			}
		}
		return true
	})
	if len(newName) == 0 {
		return "the program declares nothing to rename"
	}
	p.renameEdits(rw.main, newName, nil)
	rw.places = len(newName)
	return "the program declares nothing to rename"
}

func startsUpper(name string) bool {
	for _, r := range name {
		return unicode.IsUpper(r)
	}
	return false
}

func capitalize(name string) string {
	for i, r := range name {
		return string(unicode.ToUpper(r)) + name[i+len(string(r)):]
	}
	return name
}

// wellKnownMethods are method names that packages look for on values (fmt, io, sort, errors,
// encoding, net/http, sync, database/sql): exporting a method under one of them could change
// what such a package does with the value.
var wellKnownMethods = map[string]bool{
	"String": true, "GoString": true, "Format": true, "Error": true, "Unwrap": true, "Is": true,
	"As": true, "Write": true, "Read": true, "Close": true, "Seek": true, "ReadFrom": true,
	"WriteTo": true, "WriteString": true, "ReadByte": true, "WriteByte": true, "ReadRune": true,
	"Len": true, "Less": true, "Swap": true, "Push": true, "Pop": true, "ServeHTTP": true,
	"Lock": true, "Unlock": true, "RLock": true, "RUnlock": true, "MarshalJSON": true,
	"UnmarshalJSON": true, "MarshalText": true, "UnmarshalText": true, "MarshalBinary": true,
	"UnmarshalBinary": true, "Scan": true, "Value": true, "Set": true, "Get": true,
	"Timeout": true, "Temporary": true, "Done": true, "Err": true, "Deadline": true,
}

// secondPackage moves everything but `func main` into a second package of the same module:
// `go.mod`, `main.go` and `shared/shared.go`. What main names of the program becomes
// exported (capitalised, or with a prefix where capitalising would collide with another name
// or make a method that other packages look for, such as `String`, `Error` or `Close`),
// main's references are qualified (`shared.NewStore`), and each file imports what it uses.
// An unexported method is exported together with every method and interface method of its
// name. It refuses dot imports, and a main that names nothing of the program.
func secondPackage(rw *rewriteCtx) string {
	p := rw.p
	mainDecl := p.mainFunc()
	if mainDecl == nil {
		return "no func main"
	}
	for _, spec := range p.File.Imports {
		if spec.Name != nil && spec.Name.Name == "." {
			return "a dot import cannot be split between two files"
		}
	}
	pkgName := "shared"
	if !rw.names.take(pkgName) {
		pkgName = rw.names.fresh("shared")
	}
	inMain := func(pos token.Pos) bool { return within(pos, mainDecl) }

	// What main names: package-level objects (qualified), fields and methods (exported).
	needExport := map[types.Object]bool{}
	qualify := map[*ast.Ident]bool{}
	ast.Inspect(mainDecl, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		obj := p.Info.Uses[id]
		if obj == nil || obj.Pkg() != p.Pkg || inMain(obj.Pos()) {
			return true
		}
		obj = origin(obj)
		switch {
		case p.isPackageLevel(obj):
			qualify[id] = true
			needExport[obj] = true
		case isMethod(obj):
			needExport[obj] = true
		default:
			if v, ok := obj.(*types.Var); ok && v.IsField() {
				if v.Embedded() {
					if named, ok := unalias(derefType(v.Type())).(*types.Named); ok && named.Obj().Pkg() == p.Pkg {
						needExport[named.Obj()] = true
					}
				} else {
					needExport[obj] = true
				}
			}
		}
		return true
	})
	if len(qualify) == 0 {
		return "main names nothing else of the program"
	}
	// A composite literal without keys sets every field of its struct.
	ast.Inspect(mainDecl, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok || len(lit.Elts) == 0 {
			return true
		}
		if _, keyed := lit.Elts[0].(*ast.KeyValueExpr); keyed {
			return true
		}
		st, ok := under(p.typeOf(lit)).(*types.Struct)
		if !ok {
			return true
		}
		for i := 0; i < st.NumFields(); i++ {
			if field := origin(st.Field(i)); field.Pkg() == p.Pkg && !inMain(field.Pos()) {
				needExport[field] = true
			}
		}
		return true
	})

	newName := map[types.Object]string{}
	groups := p.methodGroups()
	exportedName := func(name string, method bool, collides func(string) bool) string {
		taken := func(name string) bool { return rw.names.used[name] || (method && wellKnownMethods[name]) }
		candidate := capitalize(name)
		if !taken(candidate) && !collides(candidate) {
			rw.names.take(candidate)
			return candidate
		}
		candidate = "Pub" + name
		if !taken(candidate) && !collides(candidate) {
			rw.names.take(candidate)
			return candidate
		}
		return rw.names.fresh("Pub" + name)
	}
	var objs []types.Object
	for obj := range needExport {
		objs = append(objs, obj)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Pos() < objs[j].Pos() })
	for _, obj := range objs {
		if obj.Exported() {
			continue
		}
		if _, done := newName[obj]; done {
			continue
		}
		switch {
		case isMethod(obj):
			group := groups[obj.Name()]
			name := exportedName(obj.Name(), true, func(candidate string) bool {
				for _, m := range group {
					recv := m.Type().(*types.Signature).Recv().Type()
					for _, t := range []types.Type{recv, derefType(recv)} {
						if found, _, _ := types.LookupFieldOrMethod(t, true, p.Pkg, candidate); found != nil {
							return true
						}
					}
				}
				return false
			})
			for _, m := range group {
				newName[m] = name
			}
		case isField(obj):
			owner := p.fieldOwnerType(obj.(*types.Var))
			newName[obj] = exportedName(obj.Name(), false, func(candidate string) bool {
				if owner == nil {
					return true
				}
				for _, t := range []types.Type{owner, types.NewPointer(owner)} {
					if found, _, _ := types.LookupFieldOrMethod(t, true, p.Pkg, candidate); found != nil {
						return true
					}
				}
				return false
			})
		default:
			newName[obj] = exportedName(obj.Name(), false, func(string) bool { return false })
		}
	}

	// Imports: each file keeps the ones it uses.
	usedIn := func(spec *ast.ImportSpec, inside bool) bool {
		var pkgObj types.Object
		if spec.Name != nil {
			pkgObj = p.Info.Defs[spec.Name]
		} else {
			pkgObj = p.Info.Implicits[spec]
		}
		if spec.Name != nil && spec.Name.Name == "_" {
			return !inside
		}
		used := false
		for id, obj := range p.Info.Uses {
			if obj == pkgObj && inMain(id.Pos()) == inside {
				used = true
			}
		}
		return used
	}
	importBlock := func(inside bool, extra string) string {
		var lines []string
		for _, spec := range p.File.Imports {
			if usedIn(spec, inside) {
				lines = append(lines, "\t"+p.text(spec))
			}
		}
		if extra != "" {
			// The module's own package in a group of its own, as goimports has it.
			if len(lines) > 0 {
				lines = append(lines, "")
			}
			lines = append(lines, "\t"+extra)
		}
		if len(lines) == 0 {
			return ""
		}
		return "\n\nimport (\n" + strings.Join(lines, "\n") + "\n)"
	}
	lastImport := p.File.Name.End()
	for _, decl := range p.File.Decls {
		if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.IMPORT {
			lastImport = gd.End()
		}
	}
	mainStart := mainDecl.Pos()
	if mainDecl.Doc != nil {
		mainStart = mainDecl.Doc.Pos()
	}

	// main.go: the headers, the package clause, its imports and func main.
	rw.main.replace(p.off(p.File.Name.End()), p.off(mainStart),
		lit(importBlock(true, strconv.Quote(variantModule+"/"+pkgName))+"\n\n"))
	rw.main.replace(p.off(mainDecl.End()), len(p.Src), lit("\n"))
	p.renameEdits(rw.main, newName, func(id *ast.Ident) bool { return inMain(id.Pos()) && !qualify[id] })
	for id := range qualify {
		name := id.Name
		if renamed, ok := newName[origin(p.Info.Uses[id])]; ok {
			name = renamed
		}
		rw.main.replace(p.off(id.Pos()), p.off(id.End()), lit(pkgName+"."+name))
	}

	// shared/shared.go: the rest.
	shared := newEditor(p.Src)
	shared.replace(0, p.off(lastImport), lit("package "+pkgName+importBlock(false, "")))
	shared.replace(p.off(mainStart), p.off(mainDecl.End()))
	p.renameEdits(shared, newName, func(id *ast.Ident) bool { return !inMain(id.Pos()) && id.Pos() > lastImport })
	rw.extra = append(rw.extra, extraFile{path: pkgName + "/" + pkgName + ".go", ed: shared})
	rw.goMod = true
	rw.places++
	return "no func main"
}

func isField(obj types.Object) bool {
	v, ok := obj.(*types.Var)
	return ok && v.IsField()
}

// fieldOwnerType is the named type whose struct declares a field, or nil.
func (p *Program) fieldOwnerType(field *types.Var) types.Type {
	if named := p.structOwning(field); named != nil {
		return named
	}
	return nil
}
