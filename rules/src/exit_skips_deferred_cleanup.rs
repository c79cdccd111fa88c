//! `exit-skips-deferred-cleanup`: the process exits while deferred cleanup that writes a map or
//! releases a lock is still pending.

use deferlint_core::analysis::go_state::{PendingExit, SkippedCleanup};
use deferlint_core::diagnostic::{Diagnostic, Label};

use crate::Context;

crate::declare_rule! {
    /// ### What it does
    /// Finds `os.Exit`, `log.Fatal`, `log.Fatalf` and `log.Fatalln` calls made while a `defer`
    /// of the function is still pending whose deferred code writes a map or unlocks a mutex.
    ///
    /// ### Why is this bad?
    /// `os.Exit` ends the process at once: deferred calls do not run. The registry entry is
    /// never removed, the lock never released, the state never flushed — and nothing says so.
    /// `log.Fatal` calls `os.Exit(1)` after printing.
    ///
    /// ### Example
    /// ```go
    /// func run() {
    ///     mu.Lock()
    ///     defer mu.Unlock()
    ///     if err := load(); err != nil {
    ///         log.Fatal(err)
    ///     }
    /// }
    /// ```
    ///
    /// ### Use instead
    /// Return the error to `main` and exit there, once every deferred call has run:
    /// ```go
    /// func run() error {
    ///     mu.Lock()
    ///     defer mu.Unlock()
    ///     return load()
    /// }
    /// ```
    ///
    /// ### Known limitations
    /// Defers pending in the function that exits are considered, and those of a caller when
    /// the exit is in the function it calls or one level further; deeper helpers are not
    /// followed. A helper that exits is reported once, for the first caller found.
    pub static EXIT_SKIPS_DEFERRED_CLEANUP = {
        name: "exit-skips-deferred-cleanup",
        category: Suspicious,
        languages: [Go],
        summary: "the process exits while deferred cleanup is pending: the cleanup never runs",
    };
}

/// Words one finding.
fn diagnostic(context: &Context<'_>, exit: &PendingExit) -> Diagnostic {
    let analyses = context.analyses;
    let mut diagnostic = Diagnostic::new(
        EXIT_SKIPS_DEFERRED_CLEANUP.name,
        context.severity,
        "the process exits here while deferred cleanup is pending",
        Label::new(
            exit.span,
            "exits at once: the pending deferred calls never run",
        ),
    );
    if let Some(via) = exit.via {
        diagnostic = diagnostic.with_label(Label::new(via, "called here, with the defers pending"));
    }
    for (site, cleanup) in &exit.skipped {
        let site = &analyses.calls.defer_sites[site.0 as usize];
        let (span, text) = match cleanup {
            SkippedCleanup::MapWrite(span) => (*span, "this map write never happens"),
            SkippedCleanup::Unlock(span) => (*span, "this unlock never happens"),
        };
        diagnostic = diagnostic
            .with_label(Label::new(site.span, "deferred here"))
            .with_label(Label::new(span, text));
    }
    diagnostic
        .with_note("`os.Exit` (and `log.Fatal`, which calls it) ends the process without running deferred calls")
        .with_help("return an error to `main` and exit there, after the deferred calls have run")
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    // A helper that exits is reported once, for the first caller with cleanup pending.
    let mut seen = std::collections::HashSet::new();
    context
        .analyses
        .go
        .exits
        .iter()
        .filter(|exit| context.reports_in(exit.function) && seen.insert(exit.span))
        .map(|exit| diagnostic(context, exit))
        .collect()
}
