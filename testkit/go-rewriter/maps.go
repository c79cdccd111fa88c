package main

import (
	"go/ast"
	"go/token"
	"go/types"
	"sort"
	"strings"
)

// unchangedAfter reports whether variable v keeps its value from node at on, for whoever reads
// it from there (code that runs later included: goroutines and deferred calls made at at): its
// address is never taken, no write to it sits in a function literal, every write comes before
// at in the text and shares no loop with it, and the function has no goto to run code again.
func (p *Program) unchangedAfter(v *types.Var, at ast.Node) bool {
	fd := p.enclosingFuncDecl(at)
	if fd != nil && hasGoto(fd) {
		return false
	}
	var loops []ast.Node
	for n := p.parent(at); n != nil; n = p.parent(n) {
		switch n.(type) {
		case *ast.ForStmt, *ast.RangeStmt:
			loops = append(loops, n)
		}
	}
	for _, m := range p.modified[v] {
		if m.address || m.pos >= at.Pos() {
			return false
		}
		for _, loop := range loops {
			if within(m.pos, loop) {
				return false
			}
		}
		if p.inFuncLit(m.pos) {
			return false
		}
	}
	return true
}

// inFuncLit reports whether pos lies inside a function literal.
func (p *Program) inFuncLit(pos token.Pos) bool {
	found := false
	ast.Inspect(p.File, func(n ast.Node) bool {
		if found || n == nil || !within(pos, n) {
			return false
		}
		if _, ok := n.(*ast.FuncLit); ok {
			found = true
		}
		return !found
	})
	return found
}

func hasGoto(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if b, ok := n.(*ast.BranchStmt); ok && b.Tok == token.GOTO {
			found = true
		}
		return !found
	})
	return found
}

// immediateCalls lists the calls of function literals made where they are written:
// `go func(){..}()`, `defer func(){..}()`, `func(){..}()`, outermost first.
func (p *Program) immediateCalls() []*ast.CallExpr {
	var out []*ast.CallExpr
	ast.Inspect(p.File, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if _, ok := unparen(call.Fun).(*ast.FuncLit); ok {
				out = append(out, call)
			}
		}
		return true
	})
	return out
}

// mapViaParam: a local map variable captured by an immediately called function literal is
// passed to it as a parameter instead: `go func(key string, m1 map[string]int) { .. m1 ..
// }(k, m)`. Only where the literal sees the value the call passes: the variable does not
// change from the call on (see unchangedAfter; the literal itself never writes it). It
// refuses variadic literals and calls with `xs...`, and literals whose parameters have no
// names.
func mapViaParam(rw *rewriteCtx) string {
	p := rw.p
	type site struct {
		call   *ast.CallExpr
		lit    *ast.FuncLit
		params map[*types.Var]string
		order  []*types.Var
	}
	var sites []*site
	for _, call := range p.immediateCalls() {
		fl := unparen(call.Fun).(*ast.FuncLit)
		s := &site{call: call, lit: fl, params: map[*types.Var]string{}}
		var decls []string
		for _, c := range p.captures(fl) {
			if !isMap(c.v.Type()) {
				continue
			}
			if !p.unchangedAfter(c.v, call) {
				rw.skip("`%s` may change after the literal is called", c.v.Name())
				continue
			}
			t, err := p.typeText(c.v.Type(), fl.Pos())
			if err != nil {
				rw.skip("the type of `%s`: %v", c.v.Name(), err)
				continue
			}
			name := rw.names.fresh(c.v.Name())
			s.params[c.v] = name
			s.order = append(s.order, c.v)
			decls = append(decls, name+" "+t)
		}
		if len(s.order) == 0 {
			continue
		}
		params := fl.Type.Params
		switch {
		case call.Ellipsis.IsValid() || p.typeOf(fl).(*types.Signature).Variadic():
			rw.skip("a variadic literal keeps its variadic parameter last")
			continue
		case len(params.List) > 0 && len(params.List[0].Names) == 0:
			rw.skip("the literal's parameters have no names")
			continue
		}
		if len(params.List) > 0 {
			rw.main.insert(p.off(params.List[len(params.List)-1].End()), lit(", "+strings.Join(decls, ", ")))
		} else {
			rw.main.insert(p.off(params.Closing), lit(strings.Join(decls, ", ")))
		}
		sites = append(sites, s)
	}
	// A use refers to the parameter of the innermost rewritten literal that takes the
	// variable; an argument too, from where the call is.
	refAt := func(v *types.Var, pos token.Pos) string {
		var best *site
		for _, s := range sites {
			if _, ok := s.params[v]; ok && within(pos, s.lit.Body) && (best == nil || within(s.lit.Pos(), best.lit.Body)) {
				best = s
			}
		}
		if best == nil {
			return v.Name()
		}
		return best.params[v]
	}
	for _, s := range sites {
		var args []string
		for _, v := range s.order {
			args = append(args, refAt(v, s.call.Pos()))
		}
		if len(s.call.Args) > 0 {
			rw.main.insert(p.off(s.call.Args[len(s.call.Args)-1].End()), lit(", "+strings.Join(args, ", ")))
		} else {
			rw.main.insert(p.off(s.call.Rparen), lit(strings.Join(args, ", ")))
		}
		rw.places++
	}
	ast.Inspect(p.File, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		v, ok := p.Info.Uses[id].(*types.Var)
		if !ok {
			return true
		}
		if name := refAt(v, id.Pos()); name != v.Name() {
			rw.replaceNode(id, lit(name))
		}
		return true
	})
	return "no function literal called where it is written captures a local map"
}

// mapDeclSite is where a local map variable is declared, and how to add a statement right
// after that declaration: after its statement, or first in the body of the function whose
// parameter it is.
func (p *Program) mapDeclSite(v *types.Var) (after ast.Stmt, body *ast.BlockStmt, ok bool) {
	var found ast.Node
	ast.Inspect(p.File, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && p.Info.Defs[id] == v {
			found = id
		}
		return found == nil
	})
	if found == nil {
		return nil, nil, false
	}
	for n := p.parent(found); n != nil; n = p.parent(n) {
		switch d := n.(type) {
		case *ast.AssignStmt:
			if _, ok := p.parent(d).(*ast.BlockStmt); ok && d.Tok == token.DEFINE {
				return d, nil, true
			}
			return nil, nil, false
		case *ast.DeclStmt:
			if _, ok := p.parent(d).(*ast.BlockStmt); ok {
				return d, nil, true
			}
			return nil, nil, false
		case *ast.FuncType:
			switch f := p.parent(d).(type) {
			case *ast.FuncDecl:
				if f.Body != nil && f.Type == d {
					return nil, f.Body, true
				}
			case *ast.FuncLit:
				return nil, f.Body, true
			}
			return nil, nil, false
		case *ast.ValueSpec, *ast.GenDecl, *ast.Field, *ast.FieldList:
			continue
		default:
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// mapViaField: a local map variable that never changes after its declaration and that
// function literals capture is reached through a struct field there: `box1 :=
// &mapBox1{m: counts}` after the declaration (with `type mapBox1 struct{ m map[string]int }`)
// and `box1.m` in every literal.
func mapViaField(rw *rewriteCtx) string {
	p := rw.p
	captured := map[*types.Var]bool{}
	var order []*types.Var
	for _, call := range p.immediateCalls() {
		for _, c := range p.captures(unparen(call.Fun).(*ast.FuncLit)) {
			if isMap(c.v.Type()) && !captured[c.v] {
				captured[c.v] = true
				order = append(order, c.v)
			}
		}
	}
	sort.Slice(order, func(i, j int) bool { return order[i].Pos() < order[j].Pos() })
	for _, v := range order {
		if p.isModified(v) {
			rw.skip("`%s` changes after its declaration", v.Name())
			continue
		}
		after, body, ok := p.mapDeclSite(v)
		if !ok {
			rw.skip("`%s` is not declared by a statement of a block or as a parameter", v.Name())
			continue
		}
		t, err := p.typeText(v.Type(), token.NoPos)
		if err != nil {
			rw.skip("the type of `%s`: %v", v.Name(), err)
			continue
		}
		typeName := rw.names.fresh("mapBox")
		box := rw.names.fresh("box")
		stmt := box + " := &" + typeName + "{m: " + v.Name() + "}"
		if after != nil {
			rw.main.insert(p.off(after.End()), lit("\n"+p.indentOf(after.Pos())+stmt))
		} else {
			rw.insertAtBodyStart(body, stmt)
		}
		rw.declAtEnd("type " + typeName + " struct{ m " + t + " }")
		declaringFunc := p.funcOfDecl(v)
		for id, obj := range p.Info.Uses {
			if obj != v {
				continue
			}
			if fn, _ := p.enclosingFunc(id); fn != declaringFunc {
				rw.replaceNode(id, lit(box+".m"))
			}
		}
		rw.places++
	}
	return "no function literal called where it is written captures a local map"
}

// funcOfDecl is the function (declaration or literal) in which a local variable is declared.
func (p *Program) funcOfDecl(v *types.Var) ast.Node {
	var out ast.Node
	ast.Inspect(p.File, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && p.Info.Defs[id] == v {
			out, _ = p.enclosingFunc(id)
		}
		return out == nil
	})
	return out
}

// mapRef is a map a function body reads from outside itself: a variable, or a field of a
// variable (`s.m`, promoted fields included).
type mapRef struct {
	v     *types.Var
	field *types.Var
	uses  []ast.Expr
	path  []int
}

func (r *mapRef) name() string {
	if r.field != nil {
		return r.field.Name()
	}
	return r.v.Name()
}

func (r *mapRef) text() string {
	if r.field != nil {
		return r.v.Name() + "." + r.field.Name()
	}
	return r.v.Name()
}

// bodiesAndMapRefs lists every function body with the maps it uses directly (not in literals
// inside it) through a variable in scope where the body starts (a parameter, a captured or a
// package-level variable) or a field of one.
func (p *Program) bodiesAndMapRefs() (bodies []*ast.BlockStmt, refs map[*ast.BlockStmt][]*mapRef) {
	refs = map[*ast.BlockStmt][]*mapRef{}
	ast.Inspect(p.File, func(n ast.Node) bool {
		var body *ast.BlockStmt
		switch f := n.(type) {
		case *ast.FuncDecl:
			body = f.Body
		case *ast.FuncLit:
			body = f.Body
		}
		if body == nil {
			return true
		}
		bodies = append(bodies, body)
		byKey := map[[2]types.Object]*mapRef{}
		inspectBody(body, func(n ast.Node) bool {
			switch e := n.(type) {
			case *ast.SelectorExpr:
				sel := p.Info.Selections[e]
				if sel == nil || sel.Kind() != types.FieldVal || !isMap(sel.Type()) {
					return true
				}
				id, ok := unparen(e.X).(*ast.Ident)
				if !ok {
					return true
				}
				v, ok := p.Info.Uses[id].(*types.Var)
				if !ok || v.IsField() || within(v.Pos(), body) || v.Pkg() != p.Pkg {
					return true
				}
				field := origin(sel.Obj()).(*types.Var)
				key := [2]types.Object{v, field}
				if byKey[key] == nil {
					byKey[key] = &mapRef{v: v, field: field, path: sel.Index()}
					refs[body] = append(refs[body], byKey[key])
				}
				byKey[key].uses = append(byKey[key].uses, e)
				return false
			case *ast.Ident:
				v, ok := p.Info.Uses[e].(*types.Var)
				if !ok || v.IsField() || !isMap(v.Type()) || within(v.Pos(), body) || v.Pkg() != p.Pkg {
					return true
				}
				key := [2]types.Object{v, nil}
				if byKey[key] == nil {
					byKey[key] = &mapRef{v: v}
					refs[body] = append(refs[body], byKey[key])
				}
				byKey[key].uses = append(byKey[key].uses, e)
			}
			return true
		})
		return true
	})
	return bodies, refs
}

// comparesWithNil reports whether a body compares v with nil: a sign that it may be nil,
// where evaluating `v.f` at the start of the body would panic earlier than the body would.
func (p *Program) comparesWithNil(body ast.Node, v *types.Var) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if b, ok := n.(*ast.BinaryExpr); ok && (b.Op == token.EQL || b.Op == token.NEQ) {
			for _, pair := range [][2]ast.Expr{{b.X, b.Y}, {b.Y, b.X}} {
				if id, ok := unparen(pair[0]).(*ast.Ident); ok && p.Info.Uses[id] == v && p.isConstant(pair[1]) {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// fieldStable reports whether a struct field keeps its value once set by the composite literal
// that makes its struct: no write to it or to a whole value of a type that holds its struct,
// and no address of it taken. Values of program types handed to code of other packages may be
// written there (a decoder), except to the packages that only read what they are given.
func (p *Program) fieldStable(field *types.Var) bool {
	owner := p.structOwning(field)
	stable := true
	readOnlyPackages := map[string]bool{"fmt": true, "strings": true, "errors": true, "log": true, "time": true}
	ast.Inspect(p.File, func(n ast.Node) bool {
		switch e := n.(type) {
		case *ast.SelectorExpr:
			if sel := p.Info.Selections[e]; sel != nil && origin(sel.Obj()) == origin(field) {
				if written, addressed := p.classifyUse(e); written || addressed {
					stable = false
				}
			}
		case ast.Expr:
			t := p.typeOf(e)
			if owner == nil || t == nil || !holdsByValue(t, owner) {
				return stable
			}
			if _, isLit := e.(*ast.CompositeLit); isLit {
				return stable
			}
			if written, _ := p.classifyUse(e); written {
				stable = false
			}
		}
		if call, ok := n.(*ast.CallExpr); ok && owner != nil {
			fn := p.calleeFunc(call)
			if fn == nil || (fn.Pkg() != p.Pkg && !readOnlyPackages[fn.Pkg().Path()]) {
				for _, arg := range call.Args {
					if t := p.typeOf(arg); t != nil && holdsByValue(derefType(t), owner) && isPointer(t) {
						stable = false
					}
				}
			}
		}
		return stable
	})
	return stable
}

// calleeFunc is the declared function or method a call calls, or nil.
func (p *Program) calleeFunc(call *ast.CallExpr) *types.Func {
	switch f := unparen(call.Fun).(type) {
	case *ast.Ident:
		fn, _ := p.Info.Uses[f].(*types.Func)
		return fn
	case *ast.SelectorExpr:
		fn, _ := p.Info.Uses[f.Sel].(*types.Func)
		return fn
	}
	return nil
}

// structOwning finds the named struct type that declares a field.
func (p *Program) structOwning(field *types.Var) *types.Named {
	var out *types.Named
	for _, name := range p.Pkg.Scope().Names() {
		tn, ok := p.Pkg.Scope().Lookup(name).(*types.TypeName)
		if !ok {
			continue
		}
		named, ok := unalias(tn.Type()).(*types.Named)
		if !ok {
			continue
		}
		if st, ok := named.Underlying().(*types.Struct); ok {
			for i := 0; i < st.NumFields(); i++ {
				if st.Field(i) == field {
					out = named
				}
			}
		}
	}
	return out
}

// holdsByValue reports whether a value of type t contains a value of type owner (t is owner,
// or a struct or array that holds one).
func holdsByValue(t types.Type, owner *types.Named) bool {
	seen := map[types.Type]bool{}
	var visit func(t types.Type) bool
	visit = func(t types.Type) bool {
		t = unalias(t)
		if types.Identical(t, owner) {
			return true
		}
		if seen[t] {
			return false
		}
		seen[t] = true
		switch u := t.Underlying().(type) {
		case *types.Struct:
			for i := 0; i < u.NumFields(); i++ {
				if visit(u.Field(i).Type()) {
					return true
				}
			}
		case *types.Array:
			return visit(u.Elem())
		}
		return false
	}
	return visit(t)
}

// mapViaAlias: inside each function or literal that uses a map variable or a map field of a
// variable, `counts1 := counts` (or `inflight1 := c.inflight`) first in the body and every
// use of the map there becomes the alias. Only where nothing can change what the alias
// stands for while the body runs: the variable never changes after its declaration, nor the
// field (see fieldStable); and not where the body compares the variable with nil (reading the
// field at the start would then panic where the body would not).
func mapViaAlias(rw *rewriteCtx) string {
	p := rw.p
	bodies, refs := p.bodiesAndMapRefs()
	for _, body := range bodies {
		for _, ref := range refs[body] {
			if p.isModified(ref.v) {
				rw.skip("`%s` changes after its declaration", ref.v.Name())
				continue
			}
			if ref.field != nil && !p.fieldStable(ref.field) {
				rw.skip("the field `%s` may change", ref.field.Name())
				continue
			}
			if ref.field != nil && p.comparesWithNil(body, ref.v) {
				rw.skip("the body compares `%s` with nil", ref.v.Name())
				continue
			}
			alias := rw.names.fresh(ref.name())
			rw.insertAtBodyStart(body, alias+" := "+ref.text())
			for _, use := range ref.uses {
				rw.replaceNode(use, lit(alias))
			}
			rw.places++
		}
	}
	return "no function uses a map through a variable or field from outside its body"
}

// mapViaPointer: inside each function or literal that uses a map variable or a map field of a
// variable, `countsPtr1 := &counts` (or `&c.inflight`) first in the body and every use becomes
// `(*countsPtr1)`. The pointer follows every later write of the variable or field; what it
// cannot follow is the variable holding a pointer to another struct, so a field of a pointer
// variable needs a variable that never changes, and the path to a promoted field no embedded
// pointer. Not where the body compares the variable with nil.
func mapViaPointer(rw *rewriteCtx) string {
	p := rw.p
	bodies, refs := p.bodiesAndMapRefs()
	for _, body := range bodies {
		for _, ref := range refs[body] {
			if ref.field != nil {
				if isPointer(ref.v.Type()) && p.isModified(ref.v) {
					rw.skip("the pointer `%s` changes after its declaration", ref.v.Name())
					continue
				}
				if embeddedPointerOnPath(ref.v.Type(), ref.path) {
					rw.skip("the field `%s` is promoted through an embedded pointer", ref.field.Name())
					continue
				}
				if p.comparesWithNil(body, ref.v) {
					rw.skip("the body compares `%s` with nil", ref.v.Name())
					continue
				}
			}
			ptr := rw.names.fresh(ref.name() + "Ptr")
			rw.insertAtBodyStart(body, ptr+" := &"+ref.text())
			for _, use := range ref.uses {
				rw.replaceNode(use, lit("(*"+ptr+")"))
			}
			rw.places++
		}
	}
	return "no function uses a map through a variable or field from outside its body"
}

// embeddedPointerOnPath reports whether a field path (types.Selection.Index) goes through an
// embedded field of pointer type.
func embeddedPointerOnPath(t types.Type, path []int) bool {
	t = derefType(t)
	for _, i := range path[:len(path)-1] {
		st, ok := under(t).(*types.Struct)
		if !ok {
			return true
		}
		ft := st.Field(i).Type()
		if isPointer(ft) {
			return true
		}
		t = ft
	}
	return false
}

// mapViaPackageVar: a map variable that `main` declares outside any loop becomes a package
// variable: `var pkgMap1 map[string]int` at the top level, its declaration an assignment,
// every use renamed. Only for declarations of one variable by a statement of main's own
// blocks, since main runs once.
func mapViaPackageVar(rw *rewriteCtx) string {
	p := rw.p
	mainDecl := p.mainFunc()
	if mainDecl == nil || mainDecl.Body == nil {
		return "no func main"
	}
	var vars []*types.Var
	inspectBody(mainDecl.Body, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		if v, ok := p.Info.Defs[id].(*types.Var); ok && isMap(v.Type()) {
			vars = append(vars, v)
		}
		return true
	})
	for _, v := range vars {
		after, _, ok := p.mapDeclSite(v)
		if !ok || after == nil {
			rw.skip("`%s` is not declared by a statement of a block", v.Name())
			continue
		}
		if p.inLoopWithin(after, mainDecl) {
			rw.skip("`%s` is declared in a loop, once per iteration", v.Name())
			continue
		}
		t, err := p.typeText(v.Type(), token.NoPos)
		if err != nil {
			rw.skip("the type of `%s`: %v", v.Name(), err)
			continue
		}
		name := rw.names.fresh("pkgMap")
		switch d := after.(type) {
		case *ast.AssignStmt:
			if len(d.Lhs) != 1 || len(d.Rhs) != 1 {
				rw.skip("`%s` is declared with other variables", v.Name())
				continue
			}
			rw.main.replace(p.off(d.Pos()), p.off(d.Rhs[0].Pos()), lit(name+" = "))
		case *ast.DeclStmt:
			spec := d.Decl.(*ast.GenDecl).Specs
			if len(spec) != 1 || len(spec[0].(*ast.ValueSpec).Names) != 1 {
				rw.skip("`%s` is declared with other variables", v.Name())
				continue
			}
			vs := spec[0].(*ast.ValueSpec)
			if len(vs.Values) == 1 {
				rw.main.replace(p.off(d.Pos()), p.off(vs.Values[0].Pos()), lit(name+" = "))
			} else {
				rw.replaceNode(d, lit(name+" = nil"))
			}
		}
		rw.declAtEnd("var " + name + " " + t)
		for id, obj := range p.Info.Uses {
			if obj == v {
				rw.replaceNode(id, lit(name))
			}
		}
		rw.places++
	}
	return "main declares no map variable"
}

// mainFunc is the program's func main.
func (p *Program) mainFunc() *ast.FuncDecl {
	for _, decl := range p.File.Decls {
		if fd, ok := decl.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" {
			return fd
		}
	}
	return nil
}
