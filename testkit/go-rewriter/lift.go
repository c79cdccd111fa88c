package main

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// liftSite is a `go` or `defer` statement that calls a function literal, whose body a rewrite
// moves out into a named function or method.
type liftSite struct {
	stmt ast.Stmt
	call *ast.CallExpr
	lit  *ast.FuncLit
	caps []*capture
	// ref says how the moved body refers to each captured variable: its value and its
	// address, as text.
	ref map[*types.Var]varRef
}

type varRef struct{ value, address string }

// liftStyle makes, for one site, the declaration that receives the body and the call that
// replaces the literal.
type liftStyle interface {
	// prepare decides how the body refers to the captured variables (fills site.ref), or
	// says why the site cannot be moved.
	prepare(rw *rewriteCtx, site *liftSite) error
	// emit writes the declaration and the call; args is the text of the captured
	// variables' values or addresses at the call.
	emit(rw *rewriteCtx, site *liftSite, capturedArgs []string)
}

// liftLiterals moves the body of every `go func(..){..}(..)` (kind token.GO) or `defer
// func(..){..}(..)` (token.DEFER) it can out of its function. It refuses a literal that is
// variadic or called with `xs...` (the captured variables could not follow the variadic
// parameter), one that names type parameters of its function or uses local constants or types
// (none is visible at the top level), and one whose captured variables have types that cannot
// be written at the top level (type parameters among them).
func liftLiterals(rw *rewriteCtx, kind token.Token, style liftStyle) {
	p := rw.p
	var sites []*liftSite
	ast.Inspect(p.File, func(n ast.Node) bool {
		var call *ast.CallExpr
		switch s := n.(type) {
		case *ast.GoStmt:
			if kind == token.GO {
				call = s.Call
			}
		case *ast.DeferStmt:
			if kind == token.DEFER {
				call = s.Call
			}
		}
		if call == nil {
			return true
		}
		lit, ok := unparen(call.Fun).(*ast.FuncLit)
		if !ok {
			return true
		}
		site := &liftSite{stmt: n.(ast.Stmt), call: call, lit: lit, ref: map[*types.Var]varRef{}}
		switch {
		case call.Ellipsis.IsValid():
			rw.skip("a literal called with `xs...` keeps its variadic parameter last")
		case p.typeOf(lit).(*types.Signature).Variadic():
			rw.skip("a variadic literal keeps its variadic parameter last")
		case p.namesTypeParams(lit):
			rw.skip("the literal names type parameters of its function")
		case len(p.localNonVarUses(lit)) > 0:
			rw.skip("the literal uses local constants or types (%s), which the top level cannot name",
				strings.Join(p.localNonVarUses(lit), ", "))
		default:
			site.caps = p.captures(lit)
			if err := style.prepare(rw, site); err != nil {
				rw.skip("%v", err)
				return true
			}
			sites = append(sites, site)
		}
		return true
	})
	// Each use of a captured variable refers to it through the innermost moved body that
	// captures it.
	for _, site := range sites {
		for _, c := range site.caps {
			for _, use := range c.uses {
				if innermostCapturing(sites, use.Pos(), c.v) != site {
					continue
				}
				if text := site.ref[c.v].value; text != c.v.Name() {
					rw.replaceNode(use, lit(text))
				}
			}
		}
	}
	for _, site := range sites {
		var args []string
		for _, c := range site.caps {
			outer := innermostCapturing(sites, site.call.Pos(), c.v)
			ref := varRef{value: c.v.Name(), address: "&" + c.v.Name()}
			if outer != nil {
				ref = outer.ref[c.v]
			}
			if c.byPointer {
				args = append(args, ref.address)
			} else {
				args = append(args, ref.value)
			}
		}
		style.emit(rw, site, args)
		// The body moves to the top level: one tab deep.
		rw.shiftLines(p.off(site.lit.Body.Lbrace)+1, p.off(site.lit.Body.Rbrace), -p.depth(site.stmt.Pos()))
		rw.places++
	}
}

// innermostCapturing is the moved literal, among sites, that holds pos most closely and
// captures v.
func innermostCapturing(sites []*liftSite, pos token.Pos, v *types.Var) *liftSite {
	var best *liftSite
	for _, site := range sites {
		if !within(pos, site.lit.Body) {
			continue
		}
		if _, ok := site.ref[v]; !ok {
			continue
		}
		if best == nil || within(site.lit.Pos(), best.lit.Body) {
			best = site
		}
	}
	return best
}

// literalParts is the text of a literal's parameters, results and body, as pieces.
func (rw *rewriteCtx) literalParts(site *liftSite) (params []piece, results []piece, body piece) {
	p := rw.p
	lt := site.lit.Type
	if lt.Params != nil && len(lt.Params.List) > 0 {
		if len(lt.Params.List[0].Names) > 0 {
			params = append(params, orig(p.off(lt.Params.List[0].Pos()), p.off(lt.Params.List[len(lt.Params.List)-1].End())))
		} else {
			// Unnamed parameters cannot sit beside the named ones the captures add.
			for i, field := range lt.Params.List {
				if i > 0 {
					params = append(params, lit(", "))
				}
				params = append(params, lit("_ "), rw.origNode(field.Type))
			}
		}
	}
	if lt.Results != nil && len(lt.Results.List) > 0 {
		results = append(results, lit(" "), rw.origNode(lt.Results))
	}
	body = orig(p.off(site.lit.Body.Lbrace)+1, p.off(site.lit.Body.Rbrace))
	return params, results, body
}

// callArgs is the text of a call's own arguments followed by extra ones.
func (rw *rewriteCtx) callArgs(call *ast.CallExpr, extra []string) []piece {
	var out []piece
	if len(call.Args) > 0 {
		out = append(out, orig(rw.p.off(call.Args[0].Pos()), rw.p.off(call.Args[len(call.Args)-1].End())))
	}
	if len(extra) > 0 {
		if len(out) > 0 {
			out = append(out, lit(", "))
		}
		out = append(out, lit(strings.Join(extra, ", ")))
	}
	return out
}

// capturedParams declares the captured variables as parameters or fields: `m map[string]int`,
// `wg *sync.WaitGroup`.
func (rw *rewriteCtx) capturedDecls(caps []*capture) ([]string, error) {
	var out []string
	for _, c := range caps {
		t, err := rw.p.typeText(c.v.Type(), token.NoPos)
		if err != nil {
			return nil, fmt.Errorf("captured `%s`: %v", c.v.Name(), err)
		}
		if c.byPointer {
			t = "*" + t
		}
		out = append(out, c.v.Name()+" "+t)
	}
	return out, nil
}

// funcStyle moves a body into a top-level function that takes the captured variables as
// extra parameters: by value when they never change after their declaration, else by
// address, used as `(*x)`.
type funcStyle struct {
	prefix string
	decls  map[*liftSite][]string
}

func (s *funcStyle) prepare(rw *rewriteCtx, site *liftSite) error {
	decls, err := rw.capturedDecls(site.caps)
	if err != nil {
		return err
	}
	if s.decls == nil {
		s.decls = map[*liftSite][]string{}
	}
	s.decls[site] = decls
	for _, c := range site.caps {
		name := c.v.Name()
		if c.byPointer {
			site.ref[c.v] = varRef{value: "(*" + name + ")", address: name}
		} else {
			site.ref[c.v] = varRef{value: name, address: "&" + name}
		}
	}
	return nil
}

func (s *funcStyle) emit(rw *rewriteCtx, site *liftSite, capturedArgs []string) {
	name := rw.names.fresh(s.prefix)
	params, results, body := rw.literalParts(site)
	decl := []piece{lit("func " + name + "(")}
	decl = append(decl, params...)
	if len(params) > 0 && len(s.decls[site]) > 0 {
		decl = append(decl, lit(", "))
	}
	decl = append(decl, lit(strings.Join(s.decls[site], ", ")+")"))
	decl = append(decl, results...)
	decl = append(decl, lit(" {"), body, lit("}"))
	rw.main.insert(rw.p.off(rw.p.topLevelDecl(site.stmt).End()), append([]piece{lit("\n\n")}, decl...)...)

	call := []piece{lit(name + "(")}
	call = append(call, rw.callArgs(site.call, capturedArgs)...)
	call = append(call, lit(")"))
	rw.main.replace(rw.p.off(site.call.Pos()), rw.p.off(site.call.End()), call...)
}

// methodStyle moves a body into a method of a new struct type whose fields hold the captured
// variables (by value or by address, as funcStyle passes them): `(&goBody1State{m: m, wg:
// &wg}).run(key)`. For a deferred body whose only capture besides plain values is a pointer
// to a struct type of the program, the method goes on that type instead: `defer
// s.cleanup1(k)`.
type methodStyle struct {
	prefix, method string
	// onOwnType allows the method on the program's own struct type.
	onOwnType bool
	plans     map[*liftSite]*methodPlan
}

type methodPlan struct {
	receiver string
	decls    []string
	// owner is set when the method goes on the program's own type.
	owner     *types.Named
	ownerCapt *capture
}

func (s *methodStyle) prepare(rw *rewriteCtx, site *liftSite) error {
	decls, err := rw.capturedDecls(site.caps)
	if err != nil {
		return err
	}
	if s.plans == nil {
		s.plans = map[*liftSite]*methodPlan{}
	}
	plan := &methodPlan{decls: decls}
	s.plans[site] = plan
	if s.onOwnType {
		plan.owner, plan.ownerCapt = rw.ownStructPointer(site.caps)
	}
	if plan.owner != nil {
		// The receiver takes the captured pointer's name, the other captures stay
		// parameters: the body reads as before.
		for _, c := range site.caps {
			site.ref[c.v] = varRef{value: c.v.Name(), address: "&" + c.v.Name()}
		}
		return nil
	}
	plan.receiver = rw.names.fresh("state")
	for _, c := range site.caps {
		field := plan.receiver + "." + c.v.Name()
		if c.byPointer {
			site.ref[c.v] = varRef{value: "(*" + field + ")", address: field}
		} else {
			site.ref[c.v] = varRef{value: field, address: "&" + field}
		}
	}
	return nil
}

// ownStructPointer finds, among the captures, exactly one pointer to a non-generic struct
// type declared at the top level of the program, when every capture is passed by value.
func (rw *rewriteCtx) ownStructPointer(caps []*capture) (*types.Named, *capture) {
	var owner *types.Named
	var ownerCapt *capture
	for _, c := range caps {
		if c.byPointer {
			return nil, nil
		}
		ptr, ok := unalias(c.v.Type()).(*types.Pointer)
		if !ok {
			continue
		}
		named, ok := unalias(ptr.Elem()).(*types.Named)
		if !ok || !rw.p.isPackageLevel(named.Obj()) || named.TypeParams().Len() > 0 {
			continue
		}
		if _, ok := named.Underlying().(*types.Struct); !ok {
			continue
		}
		if owner != nil {
			return nil, nil
		}
		owner, ownerCapt = named, c
	}
	return owner, ownerCapt
}

func (s *methodStyle) emit(rw *rewriteCtx, site *liftSite, capturedArgs []string) {
	plan := s.plans[site]
	params, results, body := rw.literalParts(site)
	method := s.method
	clash := false
	for _, c := range site.caps {
		clash = clash || c.v.Name() == method
	}
	if plan.owner != nil || clash {
		// A new method of the program's own type must not meet its other members, nor a
		// method of the new type one of its fields.
		method = rw.names.fresh(s.method)
	}
	var decl, call []piece
	if plan.owner != nil {
		var otherDecls, otherArgs []string
		for i, c := range site.caps {
			if c != plan.ownerCapt {
				otherDecls = append(otherDecls, plan.decls[i])
				otherArgs = append(otherArgs, capturedArgs[i])
			}
		}
		decl = []piece{lit("func (" + plan.ownerCapt.v.Name() + " *" + plan.owner.Obj().Name() + ") " + method + "(")}
		decl = append(decl, params...)
		if len(params) > 0 && len(otherDecls) > 0 {
			decl = append(decl, lit(", "))
		}
		decl = append(decl, lit(strings.Join(otherDecls, ", ")+")"))
		decl = append(decl, results...)
		decl = append(decl, lit(" {"), body, lit("}"))
		var receiverArg string
		for i, c := range site.caps {
			if c == plan.ownerCapt {
				receiverArg = capturedArgs[i]
			}
		}
		call = []piece{lit(receiverArg + "." + method + "(")}
		call = append(call, rw.callArgs(site.call, otherArgs)...)
		call = append(call, lit(")"))
	} else {
		typeName := rw.names.freshAround(s.prefix, "State")
		var fields, inits []string
		for i, c := range site.caps {
			fields = append(fields, "\t"+plan.decls[i]+"\n")
			inits = append(inits, c.v.Name()+": "+capturedArgs[i])
		}
		decl = []piece{lit(gofmtDecls("type "+typeName+" struct {\n"+strings.Join(fields, "")+"}") + "\n\n" +
			"func (" + plan.receiver + " *" + typeName + ") " + method + "(")}
		decl = append(decl, params...)
		decl = append(decl, lit(")"))
		decl = append(decl, results...)
		decl = append(decl, lit(" {"), body, lit("}"))
		call = []piece{lit("(&" + typeName + "{" + strings.Join(inits, ", ") + "})." + method + "(")}
		call = append(call, rw.callArgs(site.call, nil)...)
		call = append(call, lit(")"))
	}
	rw.main.insert(rw.p.off(rw.p.topLevelDecl(site.stmt).End()), append([]piece{lit("\n\n")}, decl...)...)
	rw.main.replace(rw.p.off(site.call.Pos()), rw.p.off(site.call.End()), call...)
}

// goroutineBodyToFunc: `go func(key string) { BODY }(k)` becomes `go goBody1(k, m, &wg)` with
// `func goBody1(key string, m map[string]int, wg *sync.WaitGroup) { BODY }`; see liftLiterals
// for what it refuses.
func goroutineBodyToFunc(rw *rewriteCtx) string {
	liftLiterals(rw, token.GO, &funcStyle{prefix: "goBody"})
	return "no `go` statement calls a function literal"
}

// goroutineBodyToMethod: `go func(key string) { BODY }(k)` becomes `go (&goBody1State{m: m,
// wg: &wg}).run(k)`, the body a method of the new struct type.
func goroutineBodyToMethod(rw *rewriteCtx) string {
	liftLiterals(rw, token.GO, &methodStyle{prefix: "goBody", method: "run"})
	return "no `go` statement calls a function literal"
}

// deferBodyToFunc: `defer func() { BODY }()` becomes `defer deferred1(m, &n)` with the body in
// a top-level function. Named results the body uses change at `return`, so they are passed
// by address; `recover()` keeps working, since the named function is the deferred call.
func deferBodyToFunc(rw *rewriteCtx) string {
	liftLiterals(rw, token.DEFER, &funcStyle{prefix: "deferred"})
	return "no `defer` statement calls a function literal"
}

// deferBodyToMethod: `defer func() { BODY }()` becomes `defer (&deferred1State{..}).cleanup()`,
// or `defer s.cleanup1(k)` when the body captures one pointer to a struct type of the program
// and otherwise values that never change.
func deferBodyToMethod(rw *rewriteCtx) string {
	liftLiterals(rw, token.DEFER, &methodStyle{prefix: "deferred", method: "cleanup", onOwnType: true})
	return "no `defer` statement calls a function literal"
}
