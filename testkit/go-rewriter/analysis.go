package main

import (
	"go/ast"
	"go/token"
	"go/types"
	"sort"
)

// modification is one place where a variable may change: a write, or its address taken
// (after which it may change anywhere, at any time).
type modification struct {
	pos     token.Pos
	address bool
}

// findModifiedVars finds where each variable's storage may change after its declaration: the
// target of an assignment, `++`/`--` or a `range` clause, a variable whose address is taken
// (`&x`, a pointer-receiver method called on it, an array sliced), or whose fields or array
// elements are written (which writes the variable itself). Range variables declared with `:=`
// change at every iteration, and named results at every `return` (recorded at the end of
// their function). The analysis errs on the side of "modified": a modified variable is only
// ever handled more carefully.
func findModifiedVars(p *Program) map[*types.Var][]modification {
	mods := map[*types.Var][]modification{}
	for id, obj := range p.Info.Uses {
		v, ok := obj.(*types.Var)
		if !ok || v.IsField() || v.Pkg() != p.Pkg {
			continue
		}
		if written, addressed := p.classifyUse(id); written || addressed {
			mods[v] = append(mods[v], modification{pos: id.Pos(), address: addressed})
		}
	}
	ast.Inspect(p.File, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				for _, e := range []ast.Expr{n.Key, n.Value} {
					if id, ok := e.(*ast.Ident); ok {
						if v, ok := p.Info.Defs[id].(*types.Var); ok {
							mods[v] = append(mods[v], modification{pos: id.Pos()})
						}
					}
				}
			}
		case *ast.FuncDecl:
			p.recordNamedResults(n.Type, n.End(), mods)
		case *ast.FuncLit:
			p.recordNamedResults(n.Type, n.End(), mods)
		}
		return true
	})
	for _, list := range mods {
		sort.Slice(list, func(i, j int) bool { return list[i].pos < list[j].pos })
	}
	return mods
}

func (p *Program) recordNamedResults(ft *ast.FuncType, end token.Pos, mods map[*types.Var][]modification) {
	if ft.Results == nil {
		return
	}
	for _, field := range ft.Results.List {
		for _, name := range field.Names {
			if v, ok := p.Info.Defs[name].(*types.Var); ok {
				mods[v] = append(mods[v], modification{pos: end - 1})
			}
		}
	}
}

// classifyUse says whether this use of a variable (or of a field: any expression whose storage
// it is) may write it, or let its address escape. It climbs through the expressions that keep
// working on the same storage (a field of a struct value, an element of an array value) to
// the context that decides.
func (p *Program) classifyUse(start ast.Expr) (written, addressed bool) {
	node := start
	for {
		parent := p.parent(node)
		switch par := parent.(type) {
		case *ast.ParenExpr:
			node = par
			continue
		case *ast.SelectorExpr:
			if par.X != node {
				return false, false
			}
			if isPointer(p.typeOf(node)) {
				return false, false
			}
			sel := p.Info.Selections[par]
			if sel == nil {
				return false, false
			}
			switch sel.Kind() {
			case types.FieldVal:
				if sel.Indirect() {
					return false, false
				}
				node = par
				continue
			case types.MethodVal:
				sig := sel.Obj().Type().(*types.Signature)
				if sig.Recv() != nil && isPointer(sig.Recv().Type()) && !sel.Indirect() {
					return false, true
				}
			}
			return false, false
		case *ast.IndexExpr:
			if par.X != node {
				return false, false
			}
			if _, ok := under(p.typeOf(node)).(*types.Array); ok {
				node = par
				continue
			}
			return false, false
		case *ast.SliceExpr:
			if par.X != node {
				return false, false
			}
			_, isArray := under(p.typeOf(node)).(*types.Array)
			return false, isArray
		case *ast.UnaryExpr:
			return false, par.Op == token.AND
		case *ast.AssignStmt:
			for _, lhs := range par.Lhs {
				if lhs == node {
					return true, false
				}
			}
			return false, false
		case *ast.IncDecStmt:
			return true, false
		case *ast.RangeStmt:
			return par.Key == node || par.Value == node, false
		default:
			return false, false
		}
	}
}

func under(t types.Type) types.Type {
	if t == nil {
		return nil
	}
	return unalias(t).Underlying()
}

func isPointer(t types.Type) bool {
	_, ok := under(t).(*types.Pointer)
	return ok
}

func isMap(t types.Type) bool {
	_, ok := under(t).(*types.Map)
	return ok
}

// isModified reports whether a variable may change after its declaration (see
// findModifiedVars).
func (p *Program) isModified(v *types.Var) bool { return len(p.modified[v]) > 0 }

// capture is a variable that a function literal uses from the function around it.
type capture struct {
	v *types.Var
	// byPointer: the variable may change after the literal is made (or its address matters),
	// so moving the body out must pass its address, not its value.
	byPointer bool
	uses      []*ast.Ident
}

// captures lists, in order of first use, the local variables that a function literal uses
// from outside itself.
func (p *Program) captures(lit *ast.FuncLit) []*capture {
	byVar := map[*types.Var]*capture{}
	var out []*capture
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		v, ok := p.Info.Uses[id].(*types.Var)
		if !ok || !p.isLocal(v) || within(v.Pos(), lit) {
			return true
		}
		c := byVar[v]
		if c == nil {
			c = &capture{v: v, byPointer: p.isModified(v) || containsLock(v.Type())}
			byVar[v] = c
			out = append(out, c)
		}
		c.uses = append(c.uses, id)
		return true
	})
	return out
}

// localNonVarUses finds what a function literal uses of its surrounding function other than
// variables: local constants, types and labels, which code moved to the top level could not
// name.
func (p *Program) localNonVarUses(lit *ast.FuncLit) []string {
	var names []string
	seen := map[types.Object]bool{}
	ast.Inspect(lit, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		obj := p.Info.Uses[id]
		if obj == nil || seen[obj] || obj.Pkg() != p.Pkg || p.isPackageLevel(obj) || within(obj.Pos(), lit) {
			return true
		}
		switch o := obj.(type) {
		case *types.Const, *types.TypeName:
			if o.Parent() != nil && o.Parent() != types.Universe {
				seen[obj] = true
				names = append(names, obj.Name())
			}
		}
		return true
	})
	return names
}

// namesTypeParams reports whether code names a type parameter.
func (p *Program) namesTypeParams(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if tn, ok := p.Info.Uses[id].(*types.TypeName); ok {
				if _, isParam := tn.Type().(*types.TypeParam); isParam {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// usesPackageVars reports whether the code under n names a package-level variable.
func (p *Program) usesPackageVars(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if v, ok := p.Info.Uses[id].(*types.Var); ok && !v.IsField() && p.isPackageLevel(v) {
				found = true
			}
		}
		return !found
	})
	return found
}

// callsRecover reports whether a function body calls the builtin recover itself (not in a
// literal inside it): such a body stops recovering when another function calls it.
func (p *Program) callsRecover(body ast.Node) bool {
	found := false
	inspectBody(body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && p.isBuiltin(call.Fun, "recover") {
			found = true
		}
		return !found
	})
	return found
}

// isBuiltin reports whether e names the predeclared function name.
func (p *Program) isBuiltin(e ast.Expr, name string) bool {
	id, ok := unparen(e).(*ast.Ident)
	if !ok {
		return false
	}
	b, ok := p.Info.Uses[id].(*types.Builtin)
	return ok && b.Name() == name
}

// isSpawn reports whether a call starts a goroutine of its own: `time.AfterFunc`,
// `(*sync.WaitGroup).Go`, `(*errgroup.Group).Go`.
func (p *Program) isSpawn(call *ast.CallExpr) bool {
	sel, ok := unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	fn, ok := p.objectOf(sel.Sel).(*types.Func)
	if !ok || fn.Pkg() == nil {
		return false
	}
	sig := fn.Type().(*types.Signature)
	if sig.Recv() == nil {
		return fn.Pkg().Path() == "time" && fn.Name() == "AfterFunc"
	}
	named, ok := unalias(derefType(sig.Recv().Type())).(*types.Named)
	if !ok || fn.Name() != "Go" {
		return false
	}
	path, name := named.Obj().Pkg().Path(), named.Obj().Name()
	return (path == "sync" && name == "WaitGroup") || (path == "golang.org/x/sync/errgroup" && name == "Group")
}

func derefType(t types.Type) types.Type {
	if ptr, ok := under(t).(*types.Pointer); ok {
		return ptr.Elem()
	}
	return t
}

// hasSideEffects reports whether evaluating e may do more than read: a call (other than a
// conversion or a side-effect-free builtin), a receive, or a function literal.
func (p *Program) hasSideEffects(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if tv, ok := p.Info.Types[n.Fun]; ok && tv.IsType() {
				return true
			}
			for _, name := range []string{"len", "cap"} {
				if p.isBuiltin(n.Fun, name) {
					return true
				}
			}
			found = true
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				found = true
			}
		case *ast.FuncLit:
			found = true
		}
		return !found
	})
	return found
}

// isConstant reports whether e is a constant or untyped nil: its value cannot change.
func (p *Program) isConstant(e ast.Expr) bool {
	tv, ok := p.Info.Types[e]
	return ok && (tv.Value != nil || tv.IsNil())
}

// inLoopWithin reports whether n sits in a loop body inside fn (the function's own loops, not
// those around a literal).
func (p *Program) inLoopWithin(n ast.Node, fn ast.Node) bool {
	for n = p.parent(n); n != nil && n != fn; n = p.parent(n) {
		switch n.(type) {
		case *ast.ForStmt, *ast.RangeStmt:
			return true
		case *ast.FuncLit:
			return false
		}
	}
	return false
}

// unparen strips parentheses (ast.Unparen is newer than Go 1.19).
func unparen(e ast.Expr) ast.Expr {
	for {
		paren, ok := e.(*ast.ParenExpr)
		if !ok {
			return e
		}
		e = paren.X
	}
}

// containsLock reports whether a value of type t holds a lock or another value of packages
// sync and sync/atomic that must not be copied.
func containsLock(t types.Type) bool {
	seen := map[types.Type]bool{}
	var visit func(t types.Type) bool
	visit = func(t types.Type) bool {
		t = unalias(t)
		if seen[t] {
			return false
		}
		seen[t] = true
		if named, ok := t.(*types.Named); ok && named.Obj().Pkg() != nil {
			switch named.Obj().Pkg().Path() {
			case "sync", "sync/atomic":
				return true
			}
		}
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
