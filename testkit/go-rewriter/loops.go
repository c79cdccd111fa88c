package main

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// outerLoop runs the body of each function that starts goroutines (`go`, `time.AfterFunc`,
// `(*sync.WaitGroup).Go`, `(*errgroup.Group).Go`) twice, in `for iter1 := 0; iter1 < 2;
// iter1++ { BODY }`: everything the body makes, its maps included, is made again in each
// iteration. A body with `defer` or `return` runs as `func() { BODY }()` inside the loop, so
// that its defers run at the end of each run and a `return` ends only that run; a function
// with results returns what the second run returns. Parameters that the body changes are
// copied at the start of each run, so that the second run starts as the first did.
//
// It refuses a body that uses package-level variables or writes what its parameters point to
// (state made outside the loop: the second run would find what the first left), and one that
// must run in a literal but calls recover itself (recover stops working in a literal).
func outerLoop(rw *rewriteCtx) string {
	p := rw.p
	for _, decl := range p.File.Decls {
		fd, ok := decl.(*ast.FuncDecl)
		if !ok || fd.Body == nil || !p.spawns(fd.Body) {
			continue
		}
		if p.usesPackageVars(fd.Body) {
			rw.skip("the body of `%s` uses package-level variables, which the first run would leave changed", fd.Name.Name)
			continue
		}
		if name := p.writesThroughParams(fd); name != "" {
			rw.skip("the body of `%s` writes what `%s` points to, made outside the loop, which the first run would leave changed", fd.Name.Name, name)
			continue
		}
		hasDefer, hasReturn := false, false
		inspectBody(fd.Body, func(n ast.Node) bool {
			switch n.(type) {
			case *ast.DeferStmt:
				hasDefer = true
			case *ast.ReturnStmt:
				hasReturn = true
			}
			return true
		})
		results := p.Info.Defs[fd.Name].Type().(*types.Signature).Results()
		inLiteral := hasDefer || hasReturn || results.Len() > 0
		if inLiteral && p.callsRecover(fd.Body) {
			rw.skip("the body of `%s` calls recover, which stops working in a literal", fd.Name.Name)
			continue
		}
		iter := rw.names.fresh("iter")
		var copies []string
		for _, v := range p.paramsAndReceiver(fd) {
			if p.isModified(v) {
				copies = append(copies, v.Name()+" := "+v.Name())
			}
		}
		// The body moves in by one tab per block around it; the lines of the new code are
		// written at their depth.
		base := p.indentOf(fd.Pos())
		in1, in2, in3 := base+"\t", base+"\t\t", base+"\t\t\t"
		head := "\n" + in1
		var open, close []piece
		shift := 2
		switch {
		case results.Len() > 0:
			var names []string
			for i := 0; i < results.Len(); i++ {
				names = append(names, rw.names.fresh("res"))
			}
			head += "for " + iter + " := 0; ; " + iter + "++ {"
			for _, c := range copies {
				head += "\n" + in2 + c
			}
			open = []piece{lit(head + "\n" + in2 + strings.Join(names, ", ") + " := func() "), rw.origNode(fd.Type.Results), lit(" {")}
			close = []piece{lit("}()\n" + in2 + "if " + iter + " == 1 {\n" + in3 + "return " + strings.Join(names, ", ") +
				"\n" + in2 + "}\n" + in1 + "}\n" + base)}
		case inLiteral:
			head += "for " + iter + " := 0; " + iter + " < 2; " + iter + "++ {"
			for _, c := range copies {
				head += "\n" + in2 + c
			}
			open = []piece{lit(head + "\n" + in2 + "func() {")}
			close = []piece{lit("}()\n" + in1 + "}\n" + base)}
		default:
			head += "for " + iter + " := 0; " + iter + " < 2; " + iter + "++ {"
			for _, c := range copies {
				head += "\n" + in2 + c
			}
			open = []piece{lit(head)}
			close = []piece{lit("}\n" + base)}
			shift = 1
		}
		if p.startsLine(fd.Body.Rbrace) {
			// The closing brace's line keeps its indentation, which the new code follows.
			rw.shiftLines(p.off(fd.Body.Lbrace)+1, p.lineStart(p.off(fd.Body.Rbrace))-1, shift)
			close = append([]piece{lit(strings.Repeat("\t", shift))}, close...)
		} else {
			close = append([]piece{lit("\n" + base)}, close...)
		}
		rw.main.insert(p.off(fd.Body.Lbrace)+1, open...)
		rw.main.insert(p.off(fd.Body.Rbrace), close...)
		rw.places++
	}
	return "no function starts a goroutine"
}

// writesThroughParams names a parameter or receiver whose pointed-to state the body writes
// itself (through a pointer, a map or a slice: `m[k] = v`, `p.n++`, `delete(m, k)`,
// `p.wg.Add(1)`), or "". Writes made by the functions the body calls are not followed.
func (p *Program) writesThroughParams(fd *ast.FuncDecl) string {
	params := map[*types.Var]bool{}
	for _, v := range p.paramsAndReceiver(fd) {
		params[v] = true
	}
	found := ""
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok || found != "" {
			return found == ""
		}
		v, ok := p.Info.Uses[id].(*types.Var)
		if !ok || !params[v] {
			return true
		}
		if p.writesThrough(id) {
			found = v.Name()
		}
		return true
	})
	return found
}

// writesThrough reports whether a use of a variable writes, through a pointer, map or slice it
// holds, the state it refers to.
func (p *Program) writesThrough(id *ast.Ident) bool {
	var node ast.Expr = id
	indirect := false
	for {
		switch par := p.parent(node).(type) {
		case *ast.ParenExpr:
			node = par
			continue
		case *ast.StarExpr:
			indirect = true
			node = par
			continue
		case *ast.SelectorExpr:
			if par.X != node {
				return false
			}
			sel := p.Info.Selections[par]
			if sel == nil {
				return false
			}
			if isPointer(p.typeOf(node)) || sel.Indirect() {
				indirect = true
			}
			if sel.Kind() == types.MethodVal {
				sig := sel.Obj().Type().(*types.Signature)
				return indirect && sig.Recv() != nil && isPointer(sig.Recv().Type())
			}
			node = par
			continue
		case *ast.IndexExpr:
			if par.X != node {
				return false
			}
			switch under(p.typeOf(node)).(type) {
			case *types.Map, *types.Slice, *types.Pointer:
				indirect = true
			}
			node = par
			continue
		case *ast.CallExpr:
			if len(par.Args) > 0 && par.Args[0] == node && (p.isBuiltin(par.Fun, "delete") || p.isBuiltin(par.Fun, "clear")) {
				return true
			}
			return false
		case *ast.AssignStmt:
			for _, lhs := range par.Lhs {
				if lhs == node {
					return indirect
				}
			}
			return false
		case *ast.IncDecStmt:
			return indirect
		case *ast.UnaryExpr:
			return indirect && par.Op == token.AND
		default:
			return false
		}
	}
}

// spawns reports whether code starts a goroutine: a `go` statement or a spawning call.
func (p *Program) spawns(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			found = true
		case *ast.CallExpr:
			if p.isSpawn(n) {
				found = true
			}
		}
		return !found
	})
	return found
}

// paramsAndReceiver lists a function's receiver and parameters.
func (p *Program) paramsAndReceiver(fd *ast.FuncDecl) []*types.Var {
	var out []*types.Var
	lists := []*ast.FieldList{fd.Recv, fd.Type.Params}
	for _, list := range lists {
		if list == nil {
			continue
		}
		for _, field := range list.List {
			for _, name := range field.Names {
				if v, ok := p.Info.Defs[name].(*types.Var); ok && name.Name != "_" {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// loopViaCallback: a `for k, v := range xs { BODY }` over a slice, a map or a channel becomes
// a call of a generic helper that calls a function literal per element:
// `eachElement[string](xs, func(k int, v string) { BODY })` (`eachEntry` for maps,
// `eachReceived` for channels). The range expression is evaluated once, as before.
//
// It refuses a body that leaves the loop or the function (`break`, `continue`, `return`,
// `goto`, labels), defers (the defer would run at the end of the literal), or calls recover;
// a body whose closures capture the loop variables or take their address (one variable for
// the whole loop in Go 1.19, one per iteration in a literal); loops that assign existing
// variables (`for k, v = range`); arrays (ranged over as a copy) and strings; map keys that Go
// 1.19's `comparable` does not accept.
func loopViaCallback(rw *rewriteCtx) string {
	p := rw.p
	helpers := map[string]string{}
	helper := func(kind string) string {
		if name, ok := helpers[kind]; ok {
			return name
		}
		name := kind
		if !rw.names.take(name) {
			name = rw.names.fresh(kind)
		}
		helpers[kind] = name
		switch kind {
		case "eachElement":
			rw.declAtEnd("func " + name + "[E any](items []E, f func(int, E)) {\n\tfor i, item := range items {\n\t\tf(i, item)\n\t}\n}")
		case "eachEntry":
			rw.declAtEnd("func " + name + "[K comparable, V any](entries map[K]V, f func(K, V)) {\n\tfor key, value := range entries {\n\t\tf(key, value)\n\t}\n}")
		case "eachReceived":
			rw.declAtEnd("func " + name + "[E any](ch <-chan E, f func(E)) {\n\tfor item := range ch {\n\t\tf(item)\n\t}\n}")
		}
		return name
	}
	ast.Inspect(p.File, func(n ast.Node) bool {
		rs, ok := n.(*ast.RangeStmt)
		if !ok {
			return true
		}
		if reason := p.callbackRefusal(rs); reason != "" {
			rw.skip("%s", reason)
			return true
		}
		varName := func(e ast.Expr) string {
			if e == nil {
				return "_"
			}
			return e.(*ast.Ident).Name
		}
		var kind string
		var typeArgs, params []types.Type
		var names []string
		switch t := under(p.typeOf(rs.X)).(type) {
		case *types.Slice:
			kind = "eachElement"
			typeArgs = []types.Type{t.Elem()}
			params = []types.Type{types.Typ[types.Int], t.Elem()}
			names = []string{varName(rs.Key), varName(rs.Value)}
		case *types.Map:
			if !strictlyComparable(t.Key()) {
				rw.skip("a map key type that Go 1.19's `comparable` does not accept")
				return true
			}
			kind = "eachEntry"
			typeArgs = []types.Type{t.Key(), t.Elem()}
			params = typeArgs
			names = []string{varName(rs.Key), varName(rs.Value)}
		case *types.Chan:
			kind = "eachReceived"
			typeArgs = []types.Type{t.Elem()}
			params = typeArgs
			names = []string{varName(rs.Key)}
		case *types.Array:
			rw.skip("ranging over an array value ranges over a copy")
			return true
		case *types.Pointer:
			rw.skip("ranging over a pointer to an array")
			return true
		default:
			rw.skip("ranging over a string, an integer or a function")
			return true
		}
		var typeTexts, paramTexts []string
		for _, t := range typeArgs {
			text, err := p.typeText(t, rs.Pos())
			if err != nil {
				rw.skip("an element type: %v", err)
				return true
			}
			typeTexts = append(typeTexts, text)
		}
		for i, t := range params {
			text, _ := p.typeText(t, rs.Pos())
			paramTexts = append(paramTexts, names[i]+" "+text)
		}
		name := helper(kind)
		rw.main.replace(p.off(rs.For), p.off(rs.Body.Lbrace),
			lit(name+"["+strings.Join(typeTexts, ", ")+"]("), rw.origNode(rs.X),
			lit(", func("+strings.Join(paramTexts, ", ")+") "))
		rw.main.insert(p.off(rs.Body.Rbrace)+1, lit(")"))
		rw.places++
		return true
	})
	return "no `for ... range` loop"
}

// callbackRefusal says why a range loop cannot become a callback, or "".
func (p *Program) callbackRefusal(rs *ast.RangeStmt) string {
	if _, labeled := p.parent(rs).(*ast.LabeledStmt); labeled {
		return "a labeled loop"
	}
	if rs.Tok == token.ASSIGN {
		return "a loop that assigns variables declared before it"
	}
	reason := ""
	// breakTargets and continueTargets count the statements inside the body that an
	// unlabeled break or continue would leave instead of the loop.
	var walk func(n ast.Node, breakable, loops int)
	walk = func(n ast.Node, breakable, loops int) {
		if n == nil || reason != "" {
			return
		}
		switch s := n.(type) {
		case *ast.FuncLit:
			return
		case *ast.ReturnStmt:
			reason = "the loop body returns"
		case *ast.DeferStmt:
			reason = "the loop body defers"
		case *ast.LabeledStmt:
			reason = "the loop body has labels"
		case *ast.BranchStmt:
			switch {
			case s.Label != nil || s.Tok == token.GOTO:
				reason = "the loop body jumps to a label"
			case s.Tok == token.BREAK && breakable == 0:
				reason = "the loop body breaks out of the loop"
			case s.Tok == token.CONTINUE && loops == 0:
				reason = "the loop body continues the loop"
			}
		case *ast.CallExpr:
			if p.isBuiltin(s.Fun, "recover") {
				reason = "the loop body calls recover"
			}
		case *ast.ForStmt, *ast.RangeStmt:
			breakable++
			loops++
		case *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
			breakable++
		}
		if reason != "" {
			return
		}
		for _, child := range children(n) {
			walk(child, breakable, loops)
		}
	}
	for _, stmt := range rs.Body.List {
		walk(stmt, 0, 0)
	}
	if reason != "" {
		return reason
	}
	for _, e := range []ast.Expr{rs.Key, rs.Value} {
		id, ok := e.(*ast.Ident)
		if !ok {
			continue
		}
		v, ok := p.Info.Defs[id].(*types.Var)
		if !ok {
			continue
		}
		for use, obj := range p.Info.Uses {
			if obj != v {
				continue
			}
			if _, addressed := p.classifyUse(use); addressed {
				return "the loop body takes the address of a loop variable"
			}
			if lit := p.enclosingLit(use); lit != nil && within(lit.Pos(), rs.Body) {
				return "a closure in the loop body captures a loop variable"
			}
		}
	}
	return ""
}

// enclosingLit is the innermost function literal that holds n, or nil.
func (p *Program) enclosingLit(n ast.Node) *ast.FuncLit {
	for n = p.parent(n); n != nil; n = p.parent(n) {
		if lit, ok := n.(*ast.FuncLit); ok {
			return lit
		}
	}
	return nil
}

// children lists a node's direct children.
func children(n ast.Node) []ast.Node {
	var out []ast.Node
	ast.Inspect(n, func(c ast.Node) bool {
		if c == nil || c == n {
			return c == n
		}
		out = append(out, c)
		return false
	})
	return out
}

// strictlyComparable reports whether a type satisfies `comparable` in Go 1.19, which does
// not accept interfaces (nor types that hold one).
func strictlyComparable(t types.Type) bool {
	switch u := under(t).(type) {
	case *types.Basic:
		return u.Kind() != types.UntypedNil
	case *types.Pointer, *types.Chan:
		return true
	case *types.Struct:
		for i := 0; i < u.NumFields(); i++ {
			if !strictlyComparable(u.Field(i).Type()) {
				return false
			}
		}
		return true
	case *types.Array:
		return strictlyComparable(u.Elem())
	}
	return false
}
