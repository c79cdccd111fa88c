package main

import (
	"go/ast"
	"go/token"
	"go/types"
)

// methodCall is a call `x.meth(args)` of a method (not a method expression, not a function of
// a package).
type methodCall struct {
	call *ast.CallExpr
	fun  *ast.SelectorExpr
	sel  *types.Selection
	// stmt is the statement the call is, for statement-level calls.
	stmt ast.Stmt
}

// methodCalls lists the calls of methods in the program, in text order.
func (p *Program) methodCalls() []*methodCall {
	var out []*methodCall
	ast.Inspect(p.File, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		fun, ok := unparen(call.Fun).(*ast.SelectorExpr)
		if !ok {
			return true
		}
		sel := p.Info.Selections[fun]
		if sel == nil || sel.Kind() != types.MethodVal {
			return true
		}
		out = append(out, &methodCall{call: call, fun: fun, sel: sel, stmt: p.statementOfCall(call)})
		return true
	})
	return out
}

// statementOfCall is the statement that a call is, when it is one: `x.m(a)`, `go x.m(a)`,
// `defer x.m(a)`, `v := x.m(a)`, `return x.m(a)`.
func (p *Program) statementOfCall(call *ast.CallExpr) ast.Stmt {
	switch s := p.parent(call).(type) {
	case *ast.ExprStmt, *ast.GoStmt, *ast.DeferStmt:
		return s.(ast.Stmt)
	case *ast.AssignStmt:
		if len(s.Rhs) == 1 {
			return s
		}
	case *ast.ReturnStmt:
		if len(s.Results) == 1 {
			return s
		}
	}
	return nil
}

// inStatementList reports whether a statement sits directly in a block or a case body, where
// another statement can go before it.
func (p *Program) inStatementList(stmt ast.Stmt) bool {
	switch p.parent(stmt).(type) {
	case *ast.BlockStmt, *ast.CaseClause, *ast.CommClause:
		return true
	}
	return false
}

// isProgramMethod reports whether a call is of a concrete method the program declares, on a
// non-generic type.
func (p *Program) isProgramMethod(mc *methodCall) bool {
	fn := mc.sel.Obj().(*types.Func)
	if fn.Pkg() != p.Pkg {
		return false
	}
	recv := fn.Type().(*types.Signature).Recv()
	if recv == nil || types.IsInterface(recv.Type()) {
		return false
	}
	named, ok := unalias(derefType(recv.Type())).(*types.Named)
	return ok && named.TypeParams().Len() == 0
}

// callViaInterface: every call of a method the program declares, `x.meth(a)` (after `go` and
// `defer` too), goes through an interface that only this method makes up:
// `methIface1(x).meth(a)` with `type methIface1 interface{ meth(string) int }`, taking `&x`
// where the method has a pointer receiver and x is an addressable value. The interface's only
// implementation is x's type. Not for methods of generic types, nor where the arguments could
// change the receiver (see evaluationKept).
func callViaInterface(rw *rewriteCtx) string {
	viaInterface(rw, false)
	return "the program calls none of its own methods"
}

// callViaInterface2 is callViaInterface with a second implementation of each interface in the
// program: `type otherImpl1 struct{}` whose method returns zero values, kept by `var _
// methIface1 = otherImpl1{}`. It is never called; the analyser must still pick the right one.
func callViaInterface2(rw *rewriteCtx) string {
	viaInterface(rw, true)
	return "the program calls none of its own methods"
}

func viaInterface(rw *rewriteCtx, second bool) {
	p := rw.p
	ifaces := map[*types.Func]string{}
	for _, mc := range p.methodCalls() {
		if !p.isProgramMethod(mc) {
			continue
		}
		fn := mc.sel.Obj().(*types.Func)
		if !p.evaluationKept(mc) {
			// The conversion copies a value receiver where the call did, which is only
			// the same when nothing in between can change it.
			rw.skip("the arguments of a call of `%s` could change its receiver", fn.Name())
			continue
		}
		sig := mc.sel.Type().(*types.Signature)
		method := types.NewFunc(token.NoPos, p.Pkg, fn.Name(), types.NewSignatureType(nil, nil, nil, sig.Params(), sig.Results(), sig.Variadic()))
		iface := types.NewInterfaceType([]*types.Func{method}, nil).Complete()
		x := mc.fun.X
		t := p.typeOf(x)
		address := false
		if !types.Implements(t, iface) {
			if !p.Info.Types[x].Addressable() || !types.Implements(types.NewPointer(t), iface) {
				rw.skip("the receiver of `%s` is neither an implementation nor addressable", fn.Name())
				continue
			}
			address = true
		}
		name, ok := ifaces[fn]
		if !ok {
			sigText, err := p.signatureText(sig, token.NoPos)
			if err != nil {
				rw.skip("the signature of `%s`: %v", fn.Name(), err)
				continue
			}
			name = rw.names.fresh(fn.Name() + "Iface")
			ifaces[fn] = name
			rw.declAtEnd("type " + name + " interface {\n\t" + fn.Name() + sigText + "\n}")
			if second {
				other := rw.names.fresh("otherImpl")
				rw.declAtEnd("type " + other + " struct{}\n\n" +
					"func (" + other + ") " + fn.Name() + zeroResultsSignature(p, sig) + "\n\n" +
					"var _ " + name + " = " + other + "{}")
			}
		}
		prefix := name + "("
		if address {
			prefix += "&"
		}
		rw.replaceNode(x, lit(prefix), rw.origNode(x), lit(")"))
		rw.places++
	}
}

// zeroResultsSignature is a method signature and body that takes the method's parameters and
// returns zero values: `(string, ...int) (r0 int, r1 error) { return }`. Its types print
// without fail: the interface's signature printed first.
func zeroResultsSignature(p *Program, sig *types.Signature) string {
	text, _ := p.signatureText(types.NewSignatureType(nil, nil, nil, sig.Params(), nil, sig.Variadic()), token.NoPos)
	results := sig.Results()
	if results.Len() == 0 {
		return text + " {}"
	}
	text += " ("
	for i := 0; i < results.Len(); i++ {
		if i > 0 {
			text += ", "
		}
		t, _ := p.typeText(results.At(i).Type(), token.NoPos)
		text += "r" + string(rune('0'+i)) + " " + t
	}
	return text + ") {\n\treturn\n}"
}

// evaluationKept reports whether a method call may first take its method value and then make
// the call without changing what happens: its arguments do nothing but read, or its receiver
// is the same whenever it is evaluated.
func (p *Program) evaluationKept(mc *methodCall) bool {
	for _, arg := range mc.call.Args {
		if p.hasSideEffects(arg) {
			return p.stableCallee(mc.fun)
		}
	}
	return true
}

// callViaMethodValue: a statement-level call of a method the program declares (`x.meth(a)`,
// `go x.meth(a)`, `defer x.meth(a)`, `v := x.meth(a)`, `return x.meth(a)`) becomes `fv1 :=
// x.meth` on the line before and `fv1(a)`. (The code is reached through a value; methods of
// other packages, `mu.Lock` among them, are not the program's code.) The method value evaluates the receiver as the call did; only where
// nothing the arguments do could change it (see evaluationKept), and where the statement sits
// directly in a block.
func callViaMethodValue(rw *rewriteCtx) string {
	p := rw.p
	for _, mc := range p.methodCalls() {
		if mc.stmt == nil || !p.isProgramMethod(mc) {
			continue
		}
		if !p.inStatementList(mc.stmt) {
			rw.skip("a method call that is not a statement of a block")
			continue
		}
		if !p.evaluationKept(mc) {
			rw.skip("the arguments of a call of `%s` could change its receiver", mc.sel.Obj().Name())
			continue
		}
		name := rw.names.fresh("fv")
		at := p.off(mc.stmt.Pos())
		line := []piece{lit(name + " := "), origCopy(p.off(mc.call.Fun.Pos()), p.off(mc.call.Fun.End()))}
		if p.startsLine(mc.stmt.Pos()) {
			line = append(line, lit("\n"+p.indentOf(mc.stmt.Pos())))
		} else {
			line = append(line, lit("; "))
		}
		rw.main.insert(at, line...)
		rw.replaceNode(mc.call.Fun, lit(name))
		rw.places++
	}
	return "no statement is a method call"
}

// callViaFuncField: a statement-level call of a method the program declares becomes a call
// through a struct field that holds the method value: `(methHook1{fn: x.meth}).fn(a)` with
// `type methHook1 struct{ fn func(string) int }`. Same conditions as callViaMethodValue, except that the call may sit
// anywhere (in an `if` header too).
func callViaFuncField(rw *rewriteCtx) string {
	p := rw.p
	hooks := map[*types.Func]string{}
	for _, mc := range p.methodCalls() {
		if mc.stmt == nil || !p.isProgramMethod(mc) {
			continue
		}
		if !p.evaluationKept(mc) {
			rw.skip("the arguments of a call of `%s` could change its receiver", mc.sel.Obj().Name())
			continue
		}
		fn := mc.sel.Obj().(*types.Func)
		name, ok := hooks[fn]
		if !ok {
			sig := mc.sel.Type().(*types.Signature)
			t, err := p.typeText(sig, token.NoPos)
			if err != nil {
				rw.skip("the signature of `%s`: %v", fn.Name(), err)
				continue
			}
			name = rw.names.fresh(fn.Name() + "Hook")
			hooks[fn] = name
			rw.declAtEnd("type " + name + " struct{ fn " + t + " }")
		}
		rw.replaceNode(mc.call.Fun, lit("("+name+"{fn: "), rw.origNode(mc.call.Fun), lit("}).fn"))
		rw.places++
	}
	return "no statement is a method call"
}
