package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"strconv"
	"strings"
)

// Program is one fixture, parsed and type-checked, with what every rewrite needs to know about
// it. Rewrites never change it: they record text edits against Src.
type Program struct {
	Path string
	Fset *token.FileSet
	File *ast.File
	// Src is the fixture's text with every `//~^` marker already moved onto its target line.
	Src  []byte
	Pkg  *types.Package
	Info *types.Info

	tokFile  *token.File
	parents  map[ast.Node]ast.Node
	markers  []marker
	idents   map[string]bool
	modified map[*types.Var][]modification
}

// marker is one `//~` marker: its text, where it is cut from the line, and the offset of the
// code it marks, which the marker follows wherever a rewrite moves that code.
type marker struct {
	line int
	// text runs from `//~` to the end of the line.
	text string
	// cut is where the marker and the blanks before it start; end is the end of its line.
	cut, end int
	anchor   int
}

// loadProgram reads, parses and type-checks one fixture. A fixture that does not type-check
// is an error: a rewrite of a broken program proves nothing.
func loadProgram(path string, fset *token.FileSet, imp types.Importer) (*Program, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	src, err := normalizeCaretMarkers(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	file, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	info := newInfo()
	var typeErrors []string
	conf := types.Config{
		Importer: imp,
		Error: func(err error) {
			typeErrors = append(typeErrors, err.Error())
		},
	}
	pkg, _ := conf.Check(file.Name.Name, fset, []*ast.File{file}, info)
	if len(typeErrors) > 0 {
		return nil, errors.New(strings.Join(typeErrors, "\n"))
	}
	p := &Program{
		Path:    path,
		Fset:    fset,
		File:    file,
		Src:     src,
		Pkg:     pkg,
		Info:    info,
		tokFile: fset.File(file.Pos()),
		parents: map[ast.Node]ast.Node{},
		idents:  map[string]bool{},
	}
	var stack []ast.Node
	ast.Inspect(file, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return false
		}
		if len(stack) > 0 {
			p.parents[n] = stack[len(stack)-1]
		}
		stack = append(stack, n)
		if id, ok := n.(*ast.Ident); ok {
			p.idents[id.Name] = true
		}
		return true
	})
	for _, name := range types.Universe.Names() {
		p.idents[name] = true
	}
	for _, spec := range file.Imports {
		p.idents[importName(spec, info)] = true
	}
	p.findMarkers()
	p.modified = findModifiedVars(p)
	return p, nil
}

func newInfo() *types.Info {
	return &types.Info{
		Types:      map[ast.Expr]types.TypeAndValue{},
		Defs:       map[*ast.Ident]types.Object{},
		Uses:       map[*ast.Ident]types.Object{},
		Implicits:  map[ast.Node]types.Object{},
		Selections: map[*ast.SelectorExpr]*types.Selection{},
		Scopes:     map[ast.Node]*types.Scope{},
	}
}

// importName is the name an import binds in its file.
func importName(spec *ast.ImportSpec, info *types.Info) string {
	if spec.Name != nil {
		return spec.Name.Name
	}
	if obj, ok := info.Implicits[spec].(*types.PkgName); ok {
		return obj.Name()
	}
	path, _ := strconv.Unquote(spec.Path.Value)
	return path[strings.LastIndex(path, "/")+1:]
}

// normalizeCaretMarkers moves every `//~^ rule` marker onto the line it points at, as a plain
// `//~ rule`, so that from then on a marker always sits on the line of the code it marks. A
// marker alone on its line takes the line with it.
func normalizeCaretMarkers(src []byte) ([]byte, error) {
	lines := strings.Split(string(src), "\n")
	removed := map[int]bool{}
	for i, line := range lines {
		at := strings.Index(line, "//~^")
		if at < 0 {
			continue
		}
		rest := line[at+3:]
		carets := len(rest) - len(strings.TrimLeft(rest, "^"))
		target := i - carets
		if target < 0 {
			return nil, fmt.Errorf("line %d: marker points above the first line", i+1)
		}
		if strings.Contains(lines[target], "//~") {
			return nil, fmt.Errorf("line %d: marker points at line %d, which already has one", i+1, target+1)
		}
		lines[target] = strings.TrimRight(lines[target], " \t") + " //~" + rest[carets:]
		if strings.TrimSpace(line[:at]) == "" {
			removed[i] = true
		} else {
			lines[i] = strings.TrimRight(line[:at], " \t")
		}
	}
	var kept []string
	for i, line := range lines {
		if !removed[i] {
			kept = append(kept, line)
		}
	}
	return []byte(strings.Join(kept, "\n")), nil
}

// findMarkers finds every `//~` marker and the code it marks: the statement that starts last
// on its line (in `defer func() { m[k] = v }()` the write, not the defer), or the line's first
// token when no statement starts there.
func (p *Program) findMarkers() {
	lastStmtOnLine := map[int]int{}
	ast.Inspect(p.File, func(n ast.Node) bool {
		switch n.(type) {
		case nil, *ast.BlockStmt, *ast.EmptyStmt:
			return true
		case ast.Stmt:
			line := p.line(n.Pos())
			if off := p.off(n.Pos()); off >= lastStmtOnLine[line] {
				lastStmtOnLine[line] = off
			}
		}
		return true
	})
	start := 0
	for number := 1; start <= len(p.Src); number++ {
		end := bytes.IndexByte(p.Src[start:], '\n')
		if end < 0 {
			end = len(p.Src)
		} else {
			end += start
		}
		line := string(p.Src[start:end])
		trimmed := strings.TrimSpace(line)
		if at := strings.Index(line, "//~"); at >= 0 && !strings.HasPrefix(trimmed, "//@") {
			cut := at
			for cut > 0 && (line[cut-1] == ' ' || line[cut-1] == '\t') {
				cut--
			}
			anchor, ok := lastStmtOnLine[number]
			if !ok {
				anchor = start + len(line) - len(strings.TrimLeft(line, " \t"))
			}
			p.markers = append(p.markers, marker{
				line:   number,
				text:   line[at:],
				cut:    start + cut,
				end:    end,
				anchor: anchor,
			})
		}
		start = end + 1
	}
}

// inRawString reports whether an offset lies inside a raw string literal that spans lines.
func (p *Program) inRawString(off int) bool {
	found := false
	ast.Inspect(p.File, func(n ast.Node) bool {
		if found || n == nil || off < p.off(n.Pos()) || off >= p.off(n.End()) {
			return false
		}
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && strings.HasPrefix(lit.Value, "`") {
			found = true
		}
		return !found
	})
	return found
}

// depth is the number of tabs that indent the line holding pos.
func (p *Program) depth(pos token.Pos) int {
	return strings.Count(p.indentOf(pos), "\t")
}

// off is the byte offset of pos in the fixture's text.
func (p *Program) off(pos token.Pos) int { return p.tokFile.Offset(pos) }

func (p *Program) line(pos token.Pos) int { return p.tokFile.Line(pos) }

// text is the source text of a node.
func (p *Program) text(n ast.Node) string { return string(p.Src[p.off(n.Pos()):p.off(n.End())]) }

// indentOf is the blank prefix of the line holding pos.
func (p *Program) indentOf(pos token.Pos) string {
	start := p.lineStart(p.off(pos))
	end := start
	for end < len(p.Src) && (p.Src[end] == ' ' || p.Src[end] == '\t') {
		end++
	}
	return string(p.Src[start:end])
}

func (p *Program) lineStart(off int) int {
	return bytes.LastIndexByte(p.Src[:off], '\n') + 1
}

// startsLine reports whether only blanks come before pos on its line.
func (p *Program) startsLine(pos token.Pos) bool {
	off := p.off(pos)
	return strings.TrimSpace(string(p.Src[p.lineStart(off):off])) == ""
}

// parent is the syntax node that holds n.
func (p *Program) parent(n ast.Node) ast.Node { return p.parents[n] }

// objectOf is what an identifier declares or refers to.
func (p *Program) objectOf(id *ast.Ident) types.Object {
	if obj := p.Info.Defs[id]; obj != nil {
		return obj
	}
	return p.Info.Uses[id]
}

// origin is the object that a field or method of an instantiated generic type (or an
// instantiated function) stands for: go/types makes new objects per instance, while renames
// and comparisons are about the declaration.
func origin(obj types.Object) types.Object {
	switch o := obj.(type) {
	case *types.Var:
		return o.Origin()
	case *types.Func:
		return o.Origin()
	}
	return obj
}

// typeOf is the type of an expression, or nil.
func (p *Program) typeOf(e ast.Expr) types.Type { return p.Info.TypeOf(e) }

// isPackageLevel reports whether obj is declared at the top level of the fixture.
func (p *Program) isPackageLevel(obj types.Object) bool {
	return obj != nil && obj.Pkg() == p.Pkg && obj.Parent() == p.Pkg.Scope()
}

// isLocal reports whether obj is declared inside a function of the fixture (parameters and
// receivers included).
func (p *Program) isLocal(obj types.Object) bool {
	if obj == nil || obj.Pkg() != p.Pkg || p.isPackageLevel(obj) {
		return false
	}
	if v, ok := obj.(*types.Var); ok && v.IsField() {
		return false
	}
	if f, ok := obj.(*types.Func); ok && f.Type().(*types.Signature).Recv() != nil {
		return false
	}
	return obj.Parent() != nil
}

// within reports whether pos lies inside n.
func within(pos token.Pos, n ast.Node) bool { return n.Pos() <= pos && pos < n.End() }

// enclosingFuncDecl is the top-level function or method that holds n.
func (p *Program) enclosingFuncDecl(n ast.Node) *ast.FuncDecl {
	for ; n != nil; n = p.parent(n) {
		if fd, ok := n.(*ast.FuncDecl); ok {
			return fd
		}
	}
	return nil
}

// enclosingFunc is the innermost function (declaration or literal) that holds n, and its
// body.
func (p *Program) enclosingFunc(n ast.Node) (ast.Node, *ast.BlockStmt) {
	for n = p.parent(n); n != nil; n = p.parent(n) {
		switch f := n.(type) {
		case *ast.FuncDecl:
			return f, f.Body
		case *ast.FuncLit:
			return f, f.Body
		}
	}
	return nil, nil
}

// topLevelDecl is the top-level declaration that holds n.
func (p *Program) topLevelDecl(n ast.Node) ast.Decl {
	for ; n != nil; n = p.parent(n) {
		if d, ok := n.(ast.Decl); ok && p.parent(n) == p.File {
			return d
		}
	}
	return nil
}

// inspectBody walks the code of one function body without entering the function literals
// inside it: their code runs in another function.
func inspectBody(body ast.Node, visit func(ast.Node) bool) {
	ast.Inspect(body, func(n ast.Node) bool {
		if n == nil {
			return false
		}
		if _, ok := n.(*ast.FuncLit); ok && n != body {
			return false
		}
		return visit(n)
	})
}

// names hands out fresh identifiers: never used in the fixture, nor by an earlier call.
type names struct{ used map[string]bool }

func (p *Program) newNames() *names {
	used := make(map[string]bool, len(p.idents))
	for name := range p.idents {
		used[name] = true
	}
	return &names{used: used}
}

// fresh is prefix followed by the smallest number that makes a new name.
func (n *names) fresh(prefix string) string {
	for i := 1; ; i++ {
		name := prefix + strconv.Itoa(i)
		if !n.used[name] {
			n.used[name] = true
			return name
		}
	}
}

// freshAround is prefix, the smallest number that makes a new name, and suffix:
// `goBody1State`.
func (n *names) freshAround(prefix, suffix string) string {
	for i := 1; ; i++ {
		name := prefix + strconv.Itoa(i) + suffix
		if !n.used[name] {
			n.used[name] = true
			return name
		}
	}
}

// take reserves a name if it is free.
func (n *names) take(name string) bool {
	if n.used[name] {
		return false
	}
	n.used[name] = true
	return true
}
