//! `nil-map-write` (Go): a write to a map that was never made.

use deferlint_core::analysis::go_state::NilWrite;
use deferlint_core::diagnostic::{Diagnostic, Label};

use crate::Context;

crate::declare_rule! {
    /// ### What it does
    /// Finds writes to a Go map that is nil on every path to the write: a local declared with
    /// `var m map[K]V` and never assigned, a named result, a map field of a struct value built
    /// without it (`S{}`, `&S{}`, `new(S)`, `var s S`), or a package-level `var` map that no
    /// code ever assigns. A nil map or such a struct handed to a function of the package (as
    /// an argument or the receiver of a method) is followed into it, two calls deep.
    ///
    /// ### Why is this bad?
    /// Reading a nil map returns zero values, but writing one panics:
    /// `assignment to entry in nil map`. In deferred code the panic happens while the function
    /// returns, and replaces any panic already under way.
    ///
    /// ### Example
    /// ```go
    /// var seen map[string]bool
    /// for _, id := range ids {
    ///     seen[id] = true
    /// }
    /// ```
    ///
    /// ### Use instead
    /// ```go
    /// seen := make(map[string]bool)
    /// ```
    ///
    /// ### Known limitations
    /// Only locals and fields of local struct values are followed. After a call that is given
    /// the value (which may make the map), or anywhere in a loop that assigns it, the map is
    /// no longer nil for certain (a map operation such as `delete` or `len` does not count).
    /// A map made on some paths and not others is not reported, nor a map that only a function
    /// of another package would have made, nor a write under a test that rules nil out (`if
    /// p.m != nil`), nor a struct field whose address some call is given (`fill(&p.m)`) for
    /// a struct of that type.
    pub static NIL_MAP_WRITE = {
        name: "nil-map-write",
        category: Correctness,
        languages: [Go],
        summary: "a map that was never made is written: the program panics",
    };
}

/// Words one finding.
fn diagnostic(context: &Context<'_>, write: &NilWrite) -> Diagnostic {
    let program = context.program;
    let name = program.value_text(program.function(write.function).owner, write.map);
    let mut diagnostic = Diagnostic::new(
        NIL_MAP_WRITE.name,
        context.severity,
        format!("`{name}` is nil here: writing it panics"),
        Label::new(write.span, "panics with `assignment to entry in nil map`"),
    )
    .with_label(Label::new(
        write.declared,
        match write.via {
            None => format!("`{name}` is declared here without `make`"),
            Some(_) => "declared here without making the map".to_string(),
        },
    ));
    if let Some(via) = write.via {
        diagnostic = diagnostic.with_label(Label::new(via, "the nil map is handed over here"));
    }
    if let Some(site) = write.deferred {
        diagnostic = diagnostic.with_label(crate::go_wording::defer_label(context.analyses, site));
    }
    diagnostic
        .with_note("the zero value of a map is nil: it can be read, but not written")
        .with_help(match write.via {
            None => format!("make the map before writing it: `{name} = make(map[..]..)`, or declare it with a map literal"),
            Some(_) => "make the map where the value is created (a constructor, or a map literal in the struct literal) before handing it over".to_string(),
        })
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    let mut seen = std::collections::HashSet::new();
    context
        .analyses
        .go
        .nil_writes
        .iter()
        .filter(|write| context.reports_in(write.function) && seen.insert(write.span))
        .map(|write| diagnostic(context, write))
        .collect()
}
