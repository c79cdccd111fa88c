package main

import (
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"go/types"
	"sort"
	"strings"
)

// outFile is one file of a variant, by its path in the variant's folder.
type outFile struct {
	Path string `json:"path"`
	Text string `json:"text"`
}

// result is what one rewrite made of one fixture: files, or why it does not apply.
type result struct {
	files         []outFile
	notApplicable string
}

// variantModule is the module path of multi-package variants.
const variantModule = "deferlint.test/variant"

// goRelease is the `go` line of a multi-package variant's go.mod: the release the fixture's
// `//@ go:` header names (the syntax and loop variables it is written for), else `1.19`,
// which keeps the loop variables of Go 1.19 whichever toolchain builds it.
func goRelease(src []byte) string {
	for _, line := range strings.Split(string(src), "\n") {
		if !strings.HasPrefix(line, "//") {
			break
		}
		if release, ok := strings.CutPrefix(line, "//@ go:"); ok {
			return strings.TrimSpace(release)
		}
	}
	return "1.19"
}

// rewriteCtx is one rewrite of one program under way: the edits of the main file, the other
// files, the fresh names handed out, and the places left alone with the reason.
type rewriteCtx struct {
	p     *Program
	names *names
	main  *editor
	// extra files of a multi-package variant, rendered from the fixture's text too.
	extra []extraFile
	// goMod is set for multi-package variants.
	goMod bool
	// places counts the places rewritten; skipped holds why other places were not.
	places  int
	skipped []string
	// lineShift holds, per offset of a line start, how many tabs to add (or remove) there,
	// so that moved or wrapped code keeps gofmt's indentation. The last shift asked for a
	// line wins: code is shifted by its innermost move.
	lineShift map[int]int
}

type extraFile struct {
	path string
	ed   *editor
}

func (p *Program) newRewrite() *rewriteCtx {
	return &rewriteCtx{p: p, names: p.newNames(), main: newEditor(p.Src), lineShift: map[int]int{}}
}

// shiftLines asks for the lines that start inside (from, to] to move by delta tabs (see
// lineShift). Lines inside multi-line raw strings keep their text.
func (rw *rewriteCtx) shiftLines(from, to, delta int) {
	src := rw.p.Src
	for off := from; off < to && off < len(src); off++ {
		if src[off] == '\n' && off+1 <= to && !rw.p.inRawString(off+1) {
			rw.lineShift[off+1] = delta
		}
	}
}

// applyLineShifts turns the line shifts into edits of the main file.
func (rw *rewriteCtx) applyLineShifts() {
	src := rw.p.Src
	for _, start := range sortedInts(rw.lineShift) {
		delta := rw.lineShift[start]
		end := start
		for end < len(src) && src[end] == '\t' {
			end++
		}
		switch {
		case delta > 0 && end < len(src) && src[end] != '\n':
			rw.main.insert(start, lit(strings.Repeat("\t", delta)))
		case delta < 0:
			remove := -delta
			if remove > end-start {
				remove = end - start
			}
			if remove > 0 {
				rw.main.replace(start, start+remove)
			}
		}
	}
}

func sortedInts(m map[int]int) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// skip records a place the rewrite leaves alone, and why.
func (rw *rewriteCtx) skip(format string, args ...interface{}) {
	rw.skipped = append(rw.skipped, fmt.Sprintf(format, args...))
}

// replaceNode replaces a node's text.
func (rw *rewriteCtx) replaceNode(n ast.Node, pieces ...piece) {
	rw.main.replace(rw.p.off(n.Pos()), rw.p.off(n.End()), pieces...)
}

// origNode is a node's text, with the edits inside it.
func (rw *rewriteCtx) origNode(n ast.Node) piece {
	return orig(rw.p.off(n.Pos()), rw.p.off(n.End()))
}

// insertBefore puts a statement on its own line before stmt (or before it on the same line,
// separated by `;`, when stmt does not start its line).
func (rw *rewriteCtx) insertBefore(stmt ast.Stmt, text string) {
	p := rw.p
	if p.startsLine(stmt.Pos()) {
		rw.main.insert(p.off(stmt.Pos()), lit(text+"\n"+p.indentOf(stmt.Pos())))
	} else {
		rw.main.insert(p.off(stmt.Pos()), lit(text+"; "))
	}
}

// insertAtBodyStart puts a statement first in a block.
func (rw *rewriteCtx) insertAtBodyStart(body *ast.BlockStmt, text string) {
	p := rw.p
	at := p.off(body.Lbrace) + 1
	if len(body.List) > 0 && p.line(body.List[0].Pos()) > p.line(body.Lbrace) {
		rw.main.insert(at, lit("\n"+p.indentOf(body.List[0].Pos())+text))
		return
	}
	if p.line(body.Rbrace) > p.line(body.Lbrace) {
		rw.main.insert(at, lit("\n"+p.indentOf(body.Lbrace)+"\t"+text))
		return
	}
	rw.main.insert(at, lit(" "+text+";"))
}

// declAfter adds a top-level declaration after the top-level declaration that holds n.
func (rw *rewriteCtx) declAfter(n ast.Node, text string) {
	decl := rw.p.topLevelDecl(n)
	rw.main.insert(rw.p.off(decl.End()), lit("\n\n"+text))
}

// gofmtDecls formats declarations that a rewrite wrote whole (no code of the fixture in them),
// as gofmt would; text it cannot format stays as it is.
func gofmtDecls(text string) string {
	formatted, err := format.Source([]byte(text))
	if err != nil {
		return text
	}
	return strings.TrimRight(string(formatted), "\n")
}

// declAtEnd adds a top-level declaration, written whole by the rewrite, at the end of the main
// file.
func (rw *rewriteCtx) declAtEnd(text string) {
	text = gofmtDecls(text)
	src := rw.p.Src
	at := len(src)
	sep := "\n"
	if len(src) > 0 && src[len(src)-1] != '\n' {
		sep = "\n\n"
	}
	rw.main.insert(at, lit(sep+text+"\n"))
}

// notApplicable ends a rewrite that found no place to apply.
func (rw *rewriteCtx) notApplicable(nothing string) result {
	if len(rw.skipped) == 0 {
		return result{notApplicable: nothing}
	}
	return result{notApplicable: summarize(rw.skipped)}
}

// summarize joins reasons, each once, in a stable order.
func summarize(reasons []string) string {
	seen := map[string]bool{}
	var unique []string
	for _, r := range reasons {
		if !seen[r] {
			seen[r] = true
			unique = append(unique, r)
		}
	}
	sort.Strings(unique)
	return strings.Join(unique, "; ")
}

// finish renders the variant's files, puts every marker back at the end of the line of the
// code it marks, and checks that the variant parses and type-checks: a rewrite that makes a
// broken program is a bug, reported as an error rather than a variant.
func (rw *rewriteCtx) finish(nothing string, imp types.Importer) (result, error) {
	if rw.places == 0 {
		return rw.notApplicable(nothing), nil
	}
	rw.applyLineShifts()
	p := rw.p
	anchors := map[int]bool{}
	for _, m := range p.markers {
		anchors[m.anchor] = true
	}
	type fileEd struct {
		path string
		ed   *editor
	}
	eds := []fileEd{{"main.go", rw.main}}
	for _, x := range rw.extra {
		eds = append(eds, fileEd{x.path, x.ed})
	}
	var renders []*rendering
	for _, fe := range eds {
		for _, m := range p.markers {
			fe.ed.replace(m.cut, m.end)
		}
		r, err := fe.ed.render(anchors)
		if err != nil {
			return result{}, fmt.Errorf("%s: %v", fe.path, err)
		}
		renders = append(renders, r)
	}
	texts := make([]string, len(renders))
	for i, r := range renders {
		texts[i] = r.text.String()
	}
	// Markers go on from the last one in each file, so that offsets found earlier hold.
	type placed struct {
		file, at int
		text     string
	}
	var places []placed
	for _, m := range p.markers {
		file, at := -1, 0
		for i, r := range renders {
			if off, ok := r.exact[m.anchor]; ok {
				file, at = i, off
				break
			}
		}
		if file < 0 {
			for i, r := range renders {
				if off, ok := r.fallback[m.anchor]; ok {
					file, at = i, off
					break
				}
			}
		}
		if file < 0 {
			return result{}, fmt.Errorf("the code marked on line %d was lost", m.line)
		}
		lineEnd := strings.IndexByte(texts[file][at:], '\n')
		if lineEnd < 0 {
			lineEnd = len(texts[file])
		} else {
			lineEnd += at
		}
		places = append(places, placed{file, lineEnd, m.text})
	}
	sort.Slice(places, func(i, j int) bool {
		if places[i].file != places[j].file {
			return places[i].file < places[j].file
		}
		return places[i].at > places[j].at
	})
	for i, pl := range places {
		if i > 0 && places[i-1].file == pl.file && places[i-1].at == pl.at {
			return result{}, fmt.Errorf("two marked lines end up as one")
		}
		t := texts[pl.file]
		texts[pl.file] = t[:pl.at] + " " + pl.text + t[pl.at:]
	}
	var files []outFile
	files = append(files, outFile{Path: "main.go", Text: texts[0]})
	if rw.goMod {
		files = append(files, outFile{Path: "go.mod", Text: "module " + variantModule + "\n\ngo " + goRelease(p.Src) + "\n"})
	}
	for i, fe := range eds[1:] {
		files = append(files, outFile{Path: fe.path, Text: texts[i+1]})
	}
	if err := checkVariant(files, imp); err != nil {
		return result{}, err
	}
	return result{files: files}, nil
}

// checkVariant parses and type-checks a variant: its packages in dependency order (a variant
// has at most one package besides main, which main imports).
func checkVariant(files []outFile, imp types.Importer) error {
	fset := token.NewFileSet()
	byPackage := map[string][]*ast.File{}
	var order []string
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".go") {
			continue
		}
		parsed, err := parser.ParseFile(fset, f.Path, f.Text, parser.ParseComments)
		if err != nil {
			return fmt.Errorf("the variant does not parse: %v\n%s", err, numbered(f.Text))
		}
		dir := ""
		if i := strings.LastIndexByte(f.Path, '/'); i >= 0 {
			dir = f.Path[:i]
		}
		if _, ok := byPackage[dir]; !ok {
			order = append(order, dir)
		}
		byPackage[dir] = append(byPackage[dir], parsed)
	}
	checked := map[string]*types.Package{}
	importer := variantImporter{base: imp, local: checked}
	// Packages other than main first: main imports them.
	sort.SliceStable(order, func(i, j int) bool { return order[i] != "" && order[j] == "" })
	for _, dir := range order {
		var problems []string
		conf := types.Config{Importer: importer, Error: func(err error) { problems = append(problems, err.Error()) }}
		path := "main"
		if dir != "" {
			path = variantModule + "/" + dir
		}
		pkg, _ := conf.Check(path, fset, byPackage[dir], nil)
		if len(problems) > 0 {
			var text strings.Builder
			for _, f := range files {
				text.WriteString("==> " + f.Path + "\n" + numbered(f.Text))
			}
			return errors.New("the variant does not type-check:\n" + strings.Join(problems, "\n") + "\n" + text.String())
		}
		checked[path] = pkg
	}
	return nil
}

// numbered is a text with line numbers, for error messages.
func numbered(text string) string {
	var b strings.Builder
	for i, line := range strings.Split(text, "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, line)
	}
	return b.String()
}

type variantImporter struct {
	base  types.Importer
	local map[string]*types.Package
}

func (v variantImporter) Import(path string) (*types.Package, error) {
	if pkg, ok := v.local[path]; ok {
		return pkg, nil
	}
	return v.base.Import(path)
}
