// Command go-rewriter makes metamorphic variants of deferlint's Go fixtures: programs with
// the same meaning as the fixture (its hazard kept, or its absence kept), written otherwise,
// so that the analyser must give them the fixture's verdict.
//
// It reads fixture paths as arguments, or one per line on stdin, and writes one JSON object
// per fixture and line to stdout:
//
//	{"path": "...", "rewrites": [{"rewrite": "outer-loop", "files": [{"path": "main.go", "text": "..."}]},
//	                             {"rewrite": "rename", "not_applicable": "why"}, ...]}
//
// with every rewrite in the order of the rewrites list. A fixture that does not type-check,
// or a rewrite that fails (which is a bug of this program), gives {"path": "...", "error":
// "..."} and the exit status 1 at the end.
//
// Every rewrite is written on text: edits at go/ast positions keep the comments and layout of
// the code they do not touch, and each `//~` marker follows the code it marks.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"go/build"
	"go/importer"
	"go/token"
	"go/types"
	"os"
	"runtime/debug"
	"strings"
)

// rewriteFunc is one rewrite: it records its edits in a rewriteCtx and says what it found
// nothing to apply to.
type rewriteFunc func(rw *rewriteCtx) (nothing string)

// rewrites, in the fixed order of the output.
var rewrites = []struct {
	name  string
	apply rewriteFunc
}{
	{"outer-loop", outerLoop},
	{"goroutine-body-to-func", goroutineBodyToFunc},
	{"goroutine-body-to-method", goroutineBodyToMethod},
	{"defer-body-to-func", deferBodyToFunc},
	{"defer-body-to-method", deferBodyToMethod},
	{"defer-call-to-literal", deferCallToLiteral},
	{"map-via-param", mapViaParam},
	{"map-via-field", mapViaField},
	{"map-via-alias", mapViaAlias},
	{"map-via-pointer", mapViaPointer},
	{"map-via-package-var", mapViaPackageVar},
	{"call-via-interface", callViaInterface},
	{"call-via-interface-2", callViaInterface2},
	{"call-via-method-value", callViaMethodValue},
	{"call-via-func-field", callViaFuncField},
	{"loop-via-callback", loopViaCallback},
	{"second-package", secondPackage},
	{"rename", rename},
}

type jsonRewrite struct {
	Rewrite       string    `json:"rewrite"`
	Files         []outFile `json:"files,omitempty"`
	NotApplicable string    `json:"not_applicable,omitempty"`
}

type jsonFixture struct {
	Path     string        `json:"path"`
	Rewrites []jsonRewrite `json:"rewrites,omitempty"`
	Error    string        `json:"error,omitempty"`
}

func main() {
	paths := os.Args[1:]
	if len(paths) == 0 {
		scanner := bufio.NewScanner(os.Stdin)
		for scanner.Scan() {
			if line := strings.TrimSpace(scanner.Text()); line != "" {
				paths = append(paths, line)
			}
		}
		if err := scanner.Err(); err != nil {
			fmt.Fprintln(os.Stderr, "go-rewriter: reading stdin:", err)
			os.Exit(2)
		}
	}
	// The standard library is type-checked from source, once for the whole run. Without cgo,
	// packages such as net use their pure Go files, which have the same API.
	build.Default.CgoEnabled = false
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "source", nil)

	out := bufio.NewWriter(os.Stdout)
	encoder := json.NewEncoder(out)
	failed := false
	for _, path := range paths {
		fixture := rewriteFixture(path, fset, imp)
		if fixture.Error != "" {
			failed = true
		}
		if err := encoder.Encode(fixture); err != nil {
			fmt.Fprintln(os.Stderr, "go-rewriter:", err)
			os.Exit(2)
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "go-rewriter:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

// rewriteFixture applies every rewrite to one fixture.
func rewriteFixture(path string, fset *token.FileSet, imp types.Importer) (fixture jsonFixture) {
	fixture.Path = path
	p, err := loadProgram(path, fset, imp)
	if err != nil {
		fixture.Error = "does not type-check: " + err.Error()
		return fixture
	}
	for _, rewrite := range rewrites {
		res, err := applyRewrite(p, rewrite.apply, imp)
		if err != nil {
			fixture.Rewrites = nil
			fixture.Error = fmt.Sprintf("rewrite %s failed: %v", rewrite.name, err)
			return fixture
		}
		fixture.Rewrites = append(fixture.Rewrites, jsonRewrite{
			Rewrite:       rewrite.name,
			Files:         res.files,
			NotApplicable: res.notApplicable,
		})
	}
	return fixture
}

// applyRewrite runs one rewrite; a panic inside it is a bug, reported as an error.
func applyRewrite(p *Program, apply rewriteFunc, imp types.Importer) (res result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	rw := p.newRewrite()
	nothing := apply(rw)
	return rw.finish(nothing, imp)
}
