//! `exit-skips-deferred-cleanup`: the process exits while deferred cleanup that writes a map or
//! releases a lock is still pending.

use deferlint_core::analysis::go_state::{PendingExit, SkippedCleanup};
use deferlint_core::analysis::slots::Content;
use deferlint_core::diagnostic::{Diagnostic, Label};
use deferlint_core::model::facts::{Callee, Slot};
use deferlint_core::model::modules::FunctionId;
use deferlint_core::model::types::AdtId;
use deferlint_core::model::{CallTarget, LibCall, MapOpKind};
use deferlint_core::source::Span;

use crate::Context;
use crate::reentry::{dropped_owner_types, is_instance_lock, is_instance_place};

crate::declare_rule! {
    /// ### What it does
    /// Go: finds `os.Exit`, `log.Fatal`, `log.Fatalf` and `log.Fatalln` calls made while a
    /// `defer` of the function is still pending whose deferred code writes a map or unlocks a
    /// mutex.
    ///
    /// Rust: finds `std::process::exit` and `std::process::abort` (directly, or through a
    /// function of the crate declared `-> !` that calls them) while a defer guard (`defer!`,
    /// `scopeguard::guard`) or a value whose `Drop` writes a map or takes a lock is still
    /// alive.
    ///
    /// ### Why is this bad?
    /// `os.Exit` ends the process at once: deferred calls do not run. The registry entry is
    /// never removed, the lock never released, the state never flushed — and nothing says so.
    /// `log.Fatal` calls `os.Exit(1)` after printing. Rust's `process::exit` is the same: no
    /// destructor of the current stack runs, so a guard's cleanup is skipped.
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
    /// ```rust
    /// let _registration = registry.register(id); // its `Drop` removes the entry
    /// if let Err(error) = serve() {
    ///     eprintln!("{error}");
    ///     std::process::exit(1);
    /// }
    /// ```
    ///
    /// ### Use instead
    /// Return the error to `main` and exit there, once every deferred call has run (in Rust,
    /// return an `ExitCode` or a `Result` from `main`, or drop the guards first):
    /// ```go
    /// func run() error {
    ///     mu.Lock()
    ///     defer mu.Unlock()
    ///     return load()
    /// }
    /// ```
    ///
    /// ### Known limitations
    /// Go: defers pending in the function that exits are considered, and those of a caller
    /// when the exit is in the function it calls or one level further; deeper helpers are not
    /// followed. A helper that exits is reported once, for the first caller found.
    ///
    /// Rust: guards owned by the function that exits count, those of a caller of a function
    /// declared `-> !` that exits itself, and those of the function that creates a closure
    /// that exits; guards of callers further up are not followed, nor an exit inside `Drop`
    /// code (the guards alive where that value dies). Plain lock guards are not reported: the
    /// lock dies with the process. Cleanup that writes files or sockets is not looked at, only
    /// map writes and locks; a value's `Drop` that only touches maps the value owns itself is
    /// not reported either.
    pub static EXIT_SKIPS_DEFERRED_CLEANUP = {
        name: "exit-skips-deferred-cleanup",
        category: Suspicious,
        languages: [Rust, Go],
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

/// What a skipped cleanup would have done.
enum Cleanup {
    MapWrite(Span),
    Lock(Span),
}

/// The first map write or lock that deferred code starting at `root` makes, within
/// [`crate::MAX_DEFERRED_DEPTH`] calls. Maps and locks that the dying value owns itself
/// (`self.entries.clear()` in its own `Drop`) do not count: they die with the process anyway,
/// and nobody else can see them.
fn cleanup_of(context: &Context<'_>, root: FunctionId, owned_types: &[AdtId]) -> Option<Cleanup> {
    let program = context.program;
    let analyses = context.analyses;
    for (function, depth, _) in analyses.calls.shortest_paths_in_task(root) {
        if depth > crate::MAX_DEFERRED_DEPTH {
            break;
        }
        let owner = program.function(function).owner;
        for (id, call) in program.own_calls(function) {
            if let CallTarget::Lib(LibCall::Map { kind, .. }) = program.call_target(owner, id) {
                let own_map = match &call.callee {
                    Callee::Method { receiver, .. } => {
                        is_instance_place(program, function, owner, *receiver, owned_types)
                    }
                    _ => false,
                };
                if kind != MapOpKind::Read && !own_map {
                    return Some(Cleanup::MapWrite(call.span));
                }
            }
        }
        if let Some(&lock) = analyses
            .locks
            .in_function(function)
            .iter()
            .find(|&&lock| !is_instance_lock(program, analyses.locks.get(lock), owned_types))
        {
            return Some(Cleanup::Lock(analyses.locks.get(lock).span));
        }
    }
    None
}

/// Words one Rust finding: the exit, and each guard whose cleanup it skips.
fn rust_diagnostic(
    context: &Context<'_>,
    exit: &deferlint_core::analysis::lock_state::PendingExit,
    skipped: &[(Slot, Cleanup)],
) -> Diagnostic {
    let program = context.program;
    let body = program.body(exit.owner);
    let primary = match exit.helper {
        Some(helper) => format!(
            "`{}` exits the process: the guards alive here are never dropped",
            program.function_name(helper)
        ),
        None => "exits at once: the guards alive here are never dropped".to_string(),
    };
    let mut diagnostic = Diagnostic::new(
        EXIT_SKIPS_DEFERRED_CLEANUP.name,
        context.severity,
        "the process exits here while deferred cleanup is pending",
        Label::new(exit.span, primary),
    );
    for (slot, cleanup) in skipped {
        let (span, name) = match slot {
            Slot::Local(local) => {
                let fact = body.local(*local);
                (fact.span, format!("`{}`", fact.name))
            }
            Slot::Temp(temp) => (body.temps[temp.index()].span, "this value".to_string()),
        };
        diagnostic = diagnostic.with_label(Label::new(
            span,
            format!("{name} is still alive: its deferred cleanup never runs"),
        ));
        diagnostic = match cleanup {
            Cleanup::MapWrite(span) => {
                diagnostic.with_label(Label::new(*span, "this map write never happens"))
            }
            Cleanup::Lock(span) => diagnostic.with_label(Label::new(
                *span,
                "this lock is never taken, nor the cleanup under it done",
            )),
        };
    }
    diagnostic
        .with_note("`std::process::exit` and `abort` end the process at once: no destructor of the current stack runs, so `Drop` code and defer guards are skipped")
        .with_help("return an `ExitCode` (or an error) to `main` and exit there, after the guards are dropped; or drop the guards before exiting")
}

fn check_rust(context: &Context<'_>) -> Vec<Diagnostic> {
    let analyses = context.analyses;
    let mut diagnostics = Vec::new();
    for exit in &analyses.lock_state.exits {
        if !context.reports_in(exit.function) {
            continue;
        }
        let mut skipped = Vec::new();
        for &slot in &exit.pending {
            let roots: Vec<FunctionId> = match analyses.slots.get(exit.owner, slot) {
                Some(Content::Defer(site)) => {
                    vec![analyses.calls.defer_sites[site.0 as usize].body]
                }
                Some(Content::Owned { drops, .. }) => drops.clone(),
                _ => Vec::new(),
            };
            let owned_types = dropped_owner_types(context.program, &roots);
            if let Some(cleanup) = roots
                .iter()
                .find_map(|&root| cleanup_of(context, root, &owned_types))
            {
                skipped.push((slot, cleanup));
            }
        }
        if !skipped.is_empty() {
            diagnostics.push(rust_diagnostic(context, exit, &skipped));
        }
    }
    diagnostics
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    if context.program.language == deferlint_core::source::Language::Rust {
        return check_rust(context);
    }
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
