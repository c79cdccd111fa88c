package main

import (
	"go/ast"
	"go/types"
)

// deferCallToLiteral: `defer f(a, b)`, `defer x.m(a)`, `defer delete(m, k)` become `defer
// func() { f(a, b) }()` with the same meaning. Go evaluates the function value, the receiver
// and the arguments when the `defer` runs, the literal only when it is called; so whatever
// could change in between is first bound to a fresh local on the line before (`arg1 := a`,
// `fv1 := x.m`), while constants and variables that never change stay in place.
//
// It refuses `defer recover()` (which does not recover, while a literal calling it would),
// a call of a function that calls recover itself (recover only works in the deferred function
// proper), a multi-valued call as the argument list, an argument whose bound local would not
// have the parameter's type, and a `defer` that is not directly in a statement list (where
// the bindings could not go).
func deferCallToLiteral(rw *rewriteCtx) string {
	p := rw.p
	recovering := p.recoveringFuncs()
	ast.Inspect(p.File, func(n ast.Node) bool {
		stmt, ok := n.(*ast.DeferStmt)
		if !ok {
			return true
		}
		call := stmt.Call
		fun := unparen(call.Fun)
		if _, ok := fun.(*ast.FuncLit); ok {
			return true
		}
		if p.isBuiltin(fun, "recover") {
			rw.skip("`defer recover()` does not recover, while a literal calling recover would")
			return true
		}
		if p.mayCallRecover(fun, recovering) {
			rw.skip("the deferred function calls recover, which only works in the deferred function itself")
			return true
		}
		var funPieces []piece
		type binding struct {
			name  string
			value []piece
		}
		var bound []binding
		funPieces = []piece{rw.origNode(call.Fun)}
		if !p.stableCallee(fun) {
			name := rw.names.fresh("fv")
			bound = append(bound, binding{name, []piece{rw.origNode(call.Fun)}})
			funPieces = []piece{lit(name)}
		}
		sig, _ := under(p.typeOf(call.Fun)).(*types.Signature)
		var argPieces [][]piece
		for i, arg := range call.Args {
			if p.isConstant(arg) || p.stable(arg, false) {
				argPieces = append(argPieces, []piece{rw.origNode(arg)})
				continue
			}
			t := p.typeOf(arg)
			if _, isTuple := t.(*types.Tuple); isTuple || t == nil {
				rw.skip("a multi-valued call as the deferred call's arguments")
				return true
			}
			if sig != nil && !boundLocalFits(t, paramType(sig, i, call.Ellipsis.IsValid())) {
				rw.skip("a local bound to an argument would not have its parameter's type")
				return true
			}
			name := rw.names.fresh("arg")
			bound = append(bound, binding{name, []piece{rw.origNode(arg)}})
			argPieces = append(argPieces, []piece{lit(name)})
		}
		if len(bound) > 0 {
			switch p.parent(stmt).(type) {
			case *ast.BlockStmt, *ast.CaseClause, *ast.CommClause:
			default:
				rw.skip("a `defer` outside a statement list has no line before it for the bindings")
				return true
			}
		}
		for _, b := range bound {
			pieces := append([]piece{lit(b.name + " := ")}, b.value...)
			if p.startsLine(stmt.Pos()) {
				pieces = append(pieces, lit("\n"+p.indentOf(stmt.Pos())))
			} else {
				pieces = append(pieces, lit("; "))
			}
			rw.main.insert(p.off(stmt.Pos()), pieces...)
		}
		out := []piece{lit("func() { ")}
		out = append(out, funPieces...)
		out = append(out, lit("("))
		for i, a := range argPieces {
			if i > 0 {
				out = append(out, lit(", "))
			}
			out = append(out, a...)
		}
		if call.Ellipsis.IsValid() {
			out = append(out, lit("..."))
		}
		out = append(out, lit(") }()"))
		rw.replaceNode(call, out...)
		rw.places++
		return true
	})
	return "no `defer` statement calls a named function, method or builtin"
}

// paramType is the type of the parameter that argument i fills.
func paramType(sig *types.Signature, i int, ellipsis bool) types.Type {
	params := sig.Params()
	if params.Len() == 0 {
		return nil
	}
	if sig.Variadic() && i >= params.Len()-1 {
		last := params.At(params.Len() - 1).Type()
		if ellipsis {
			return last
		}
		if s, ok := under(last).(*types.Slice); ok {
			return s.Elem()
		}
		return nil
	}
	if i < params.Len() {
		return params.At(i).Type()
	}
	return nil
}

// boundLocalFits reports whether `x := arg`, an argument of type t, can be passed where the
// parameter of type param was (untyped arguments take their default type in the local).
func boundLocalFits(t, param types.Type) bool {
	if param == nil {
		return true
	}
	if b, ok := t.(*types.Basic); ok && b.Info()&types.IsUntyped != 0 {
		t = types.Default(t)
	}
	return types.AssignableTo(t, param)
}

// stableCallee reports whether the function value of a deferred call is the same when the
// `defer` runs and when the function returns: a declared function or builtin, or a method
// whose receiver (or its address, for a pointer method on an addressable value) is stable.
func (p *Program) stableCallee(fun ast.Expr) bool {
	switch f := fun.(type) {
	case *ast.Ident:
		return p.stable(f, false)
	case *ast.IndexExpr:
		// An instantiated generic function.
		return p.stable(f.X, false)
	case *ast.IndexListExpr:
		return p.stable(f.X, false)
	case *ast.SelectorExpr:
		sel := p.Info.Selections[f]
		if sel == nil {
			_, isFunc := p.Info.Uses[f.Sel].(*types.Func)
			return isFunc
		}
		if sel.Kind() != types.MethodVal {
			return false
		}
		sig := sel.Obj().Type().(*types.Signature)
		recvIsPointer := sig.Recv() != nil && isPointer(sig.Recv().Type())
		xIsPointer := isPointer(p.typeOf(f.X))
		if len(sel.Index()) > 1 {
			// A promoted method: the receiver is found through embedded fields, maybe
			// pointers; binding the method value is always right.
			return false
		}
		switch {
		case types.IsInterface(p.typeOf(f.X)):
			return p.stable(f.X, false)
		case recvIsPointer && !xIsPointer:
			return p.stable(f.X, true)
		case recvIsPointer && xIsPointer:
			return p.stable(f.X, false)
		case !recvIsPointer && !xIsPointer:
			return p.stable(f.X, false)
		default:
			// A value method through a pointer copies the pointed-to value at the `defer`.
			return false
		}
	}
	return false
}

// stable reports whether evaluating e (or, with needAddress, taking its address) gives the
// same result at any later point of the program: a constant, a function, a variable that
// never changes after its declaration (any variable, for its address), a field of a stable
// address.
func (p *Program) stable(e ast.Expr, needAddress bool) bool {
	e = unparen(e)
	if p.isConstant(e) {
		return true
	}
	switch e := e.(type) {
	case *ast.Ident:
		switch obj := p.Info.Uses[e].(type) {
		case *types.Func, *types.Builtin, *types.TypeName, *types.Const, *types.Nil:
			return true
		case *types.Var:
			if needAddress {
				return true
			}
			return obj.Pkg() == p.Pkg && !obj.IsField() && !p.isModified(obj)
		}
		return false
	case *ast.SelectorExpr:
		sel := p.Info.Selections[e]
		if sel == nil {
			// A qualified identifier: a function, or the address of a package's variable.
			switch p.Info.Uses[e.Sel].(type) {
			case *types.Func, *types.Const, *types.TypeName:
				return true
			case *types.Var:
				return needAddress
			}
			return false
		}
		if sel.Kind() != types.FieldVal || !needAddress {
			return false
		}
		if len(sel.Index()) > 1 {
			return false
		}
		if isPointer(p.typeOf(e.X)) {
			return p.stable(e.X, false)
		}
		return p.stable(e.X, true)
	}
	return false
}

// recoveringFuncs maps the functions and methods of the program that call recover themselves
// to true; the nil key says whether any function or literal does.
func (p *Program) recoveringFuncs() map[types.Object]bool {
	out := map[types.Object]bool{}
	ast.Inspect(p.File, func(n ast.Node) bool {
		switch f := n.(type) {
		case *ast.FuncDecl:
			if f.Body != nil && p.callsRecover(f.Body) {
				out[p.Info.Defs[f.Name]] = true
				out[nil] = true
			}
		case *ast.FuncLit:
			if p.callsRecover(f.Body) {
				out[nil] = true
			}
		}
		return true
	})
	return out
}

// mayCallRecover reports whether the deferred function may be one that calls recover itself:
// a function or method of the program that does, or any function value or interface method
// while some function of the program does.
func (p *Program) mayCallRecover(fun ast.Expr, recovering map[types.Object]bool) bool {
	if !recovering[nil] {
		return false
	}
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun = f.X
	case *ast.IndexListExpr:
		fun = f.X
	}
	var obj types.Object
	switch f := fun.(type) {
	case *ast.Ident:
		obj = p.Info.Uses[f]
	case *ast.SelectorExpr:
		obj = p.Info.Uses[f.Sel]
	}
	fn, ok := obj.(*types.Func)
	if !ok {
		return true
	}
	if fn.Pkg() != p.Pkg {
		return false
	}
	sig := fn.Type().(*types.Signature)
	if sig.Recv() != nil && types.IsInterface(sig.Recv().Type()) {
		return true
	}
	return recovering[fn.Origin()] || recovering[fn]
}
