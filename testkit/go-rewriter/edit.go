package main

import (
	"fmt"
	"sort"
	"strings"
)

// A piece of rewritten text: new text, or a range of the fixture's text (with the edits made
// inside that range), so that code can move while keeping its comments, its markers and the
// edits made inside it.
type piece struct {
	lit      string
	from, to int
	isOrig   bool
	// copy marks an orig piece as a second copy of code that stays elsewhere too: markers
	// follow the other one.
	copy bool
}

func lit(s string) piece { return piece{lit: s} }

func orig(from, to int) piece { return piece{from: from, to: to, isOrig: true} }

// origCopy is an orig piece that markers do not follow (see piece.copy).
func origCopy(from, to int) piece { return piece{from: from, to: to, isOrig: true, copy: true} }

// edit replaces [from, to) of the fixture's text (inserts, when from == to).
type edit struct {
	from, to int
	pieces   []piece
	seq      int
}

// editor collects edits against one text and renders them. Edits nest: an edit inside the
// range of another is applied where that range is rendered, through an orig piece of the
// outer edit, so code can move and still be edited. Edits that overlap without nesting are a
// bug of the rewrite.
type editor struct {
	src   []byte
	edits []*edit
	err   error
}

func newEditor(src []byte) *editor { return &editor{src: src} }

func (e *editor) replace(from, to int, pieces ...piece) {
	if from > to || to > len(e.src) {
		e.fail(fmt.Errorf("bad edit range [%d, %d)", from, to))
		return
	}
	e.edits = append(e.edits, &edit{from: from, to: to, pieces: pieces, seq: len(e.edits)})
}

func (e *editor) insert(at int, pieces ...piece) { e.replace(at, at, pieces...) }

func (e *editor) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// rendering is the text an editor made, and where the code at some offsets of the fixture
// ended up in it.
type rendering struct {
	text strings.Builder
	// exact maps a fixture offset to where the character at that offset was copied;
	// fallback to where an edit that starts at that offset put its replacement.
	exact, fallback map[int]int
	anchors         map[int]bool
}

// render applies the edits and returns the text, with where each anchor offset went.
func (e *editor) render(anchors map[int]bool) (*rendering, error) {
	r := &rendering{exact: map[int]int{}, fallback: map[int]int{}, anchors: anchors}
	claimed := map[*edit]bool{}
	sorted := append([]*edit(nil), e.edits...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.from != b.from {
			return a.from < b.from
		}
		// At one offset, insertions come first, in the order they were made.
		if (a.from == a.to) != (b.from == b.to) {
			return a.from == a.to
		}
		return a.seq < b.seq
	})
	for i, a := range sorted {
		for _, b := range sorted[i+1:] {
			if b.from >= a.to {
				break
			}
			if a.from < a.to && b.from < b.to && b.from < a.to && b.to > a.to {
				return nil, fmt.Errorf("overlapping edits [%d,%d) and [%d,%d)", a.from, a.to, b.from, b.to)
			}
			if a.from == b.from && a.to == b.to && a.from < a.to {
				return nil, fmt.Errorf("two edits of [%d,%d)", a.from, a.to)
			}
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	e.renderRange(r, sorted, claimed, 0, len(e.src), false, true)
	for _, ed := range sorted {
		if !claimed[ed] && !e.insideDropped(ed, sorted) {
			return nil, fmt.Errorf("edit [%d,%d) was never rendered", ed.from, ed.to)
		}
	}
	return r, nil
}

// insideDropped reports whether ed lies inside the range of another edit, which may drop
// the text (and so the edits) it replaces.
func (e *editor) insideDropped(ed *edit, all []*edit) bool {
	for _, other := range all {
		if other != ed && other.from < other.to && other.from <= ed.from && ed.to <= other.to &&
			!(other.from == ed.from && other.to == ed.to) {
			if ed.from == ed.to && (ed.from == other.from || ed.from == other.to) {
				continue
			}
			return true
		}
	}
	return false
}

// renderRange renders [from, to) with the edits inside it. For an orig piece (moved), an edit
// of exactly that range is not applied: the piece stands for the text that edit replaces, as
// when an edit wraps a node (`iface(` + the node + `)`) or binds it to a name on the line
// before.
func (e *editor) renderRange(r *rendering, sorted []*edit, claimed map[*edit]bool, from, to int, moved, anchoring bool) {
	// The outermost edits inside [from, to], not yet rendered.
	var outer []*edit
	for _, ed := range sorted {
		if claimed[ed] || ed.from < from || ed.to > to {
			continue
		}
		if moved && ed.from == from && ed.to == to && from < to {
			continue
		}
		if ed.from == ed.to && ed.from == to && to != len(e.src) && from != to {
			// An insertion at the end of a moved range belongs to the text after it.
			continue
		}
		inside := false
		for _, other := range sorted {
			if other == ed || claimed[other] || other.from < from || other.to > to || other.from == other.to {
				continue
			}
			if moved && other.from == from && other.to == to {
				continue
			}
			if ed.from == ed.to {
				if other.from < ed.from && ed.from < other.to {
					inside = true
				}
			} else if other.from <= ed.from && ed.to <= other.to && (other.to-other.from) > (ed.to-ed.from) {
				inside = true
			}
			if inside {
				break
			}
		}
		if !inside {
			outer = append(outer, ed)
		}
	}
	at := from
	for _, ed := range outer {
		if claimed[ed] {
			continue
		}
		e.copyOrig(r, at, ed.from, anchoring)
		claimed[ed] = true
		if ed.from < ed.to && anchoring {
			if _, ok := r.fallback[ed.from]; !ok && r.anchors[ed.from] {
				r.fallback[ed.from] = r.text.Len()
			}
		}
		for _, pc := range ed.pieces {
			if pc.isOrig {
				e.renderRange(r, sorted, claimed, pc.from, pc.to, true, anchoring && !pc.copy)
			} else {
				r.text.WriteString(pc.lit)
			}
		}
		if ed.to > at {
			at = ed.to
		}
		if ed.from > at {
			at = ed.from
		}
	}
	e.copyOrig(r, at, to, anchoring)
}

func (e *editor) copyOrig(r *rendering, from, to int, anchoring bool) {
	if from >= to {
		return
	}
	for off := from; off < to && anchoring; off++ {
		if r.anchors[off] {
			if _, ok := r.exact[off]; !ok {
				r.exact[off] = r.text.Len() + off - from
			}
		}
	}
	r.text.Write(e.src[from:to])
}
