//! `exit-skips-deferred-cleanup`: the process exits while deferred cleanup with an effect
//! outside the process's memory (a print, a flush, a removal) is still pending.

use deferlint_core::analysis::effects::{self, Effect};
use deferlint_core::analysis::go_state::PendingExit;
use deferlint_core::analysis::slots::Content;
use deferlint_core::diagnostic::{Diagnostic, Label};
use deferlint_core::model::facts::Slot;
use deferlint_core::model::modules::FunctionId;
use deferlint_core::source::Span;

use crate::Context;

crate::declare_rule! {
    /// ### What it does
    /// Go: finds `os.Exit`, `log.Fatal`, `log.Fatalf` and `log.Fatalln` calls (in the function,
    /// or in a function it calls) made while a `defer` is still pending whose deferred code has
    /// an effect outside the process's memory: it prints or logs, flushes a buffer, writes,
    /// removes or renames a file, or sends a message.
    ///
    /// Rust: finds `std::process::exit` and `std::process::abort` (directly, or through a
    /// function of the crate declared `-> !` that calls them) while a defer guard (`defer!`,
    /// `scopeguard::guard`) or a value whose `Drop` has such an effect is still alive.
    ///
    /// The message says what is lost.
    ///
    /// ### Why is this bad?
    /// `os.Exit` ends the process at once: deferred calls do not run. The buffered report is
    /// never flushed, the temporary file never removed, the last log line never written — and
    /// nothing says so. `log.Fatal` calls `os.Exit(1)` after printing. Rust's `process::exit`
    /// is the same: no destructor of the current stack runs.
    ///
    /// Deferred code that only updates memory (an unlock, a map write, a counter) is not
    /// reported: the process's memory is gone with it, and nobody can see the difference.
    ///
    /// ### Example
    /// ```go
    /// func writeReport(rows []int) {
    ///     out := bufio.NewWriter(os.Stdout)
    ///     defer out.Flush()
    ///     for _, r := range rows {
    ///         if r < 0 {
    ///             log.Fatalf("negative row %d", r) // the buffered rows are lost
    ///         }
    ///         fmt.Fprintln(out, r)
    ///     }
    /// }
    /// ```
    ///
    /// ```rust
    /// let _staged = Staged::new(&path); // its `Drop` removes the staged file
    /// if let Err(error) = upload() {
    ///     eprintln!("{error}");
    ///     std::process::exit(1); // the file stays on disk
    /// }
    /// ```
    ///
    /// ### Use instead
    /// Return the error to `main` and exit there, once every deferred call has run (in Rust,
    /// return an `ExitCode` or a `Result` from `main`, or drop the guards first):
    /// ```go
    /// func writeReport(rows []int) error {
    ///     out := bufio.NewWriter(os.Stdout)
    ///     defer out.Flush()
    ///     // ... return fmt.Errorf("negative row %d", r)
    /// }
    /// ```
    ///
    /// ### Known limitations
    /// What counts as an effect: calls of the program are followed (up to a few calls deep) and
    /// judged by what they do; library calls are known by name (`fmt.Print*`, `log.Print*`, a
    /// logging package's output functions, `os.Remove`, `os.Rename`, `os.WriteFile`,
    /// `std::fs::remove_file`, `std::fs::rename`, `println!`, `eprintln!`, `writeln!`, the
    /// `log`/`tracing` macros) and, on values of types from outside the program, methods whose
    /// name says it (`Flush`, `Write*`, `Send`, a logger's `Info`/`Warn`/`Error`/`Debug`). A
    /// `Close` of a file or a connection, an `fsync` and a database `Rollback` are not counted
    /// alone: the kernel keeps what was written to a descriptor and closes it at exit, and a
    /// database rolls back the transaction of a connection that went away. A `Close` that
    /// flushes (a gzip or zip writer's) is missed for the same reason. Rust library values
    /// whose drop writes are known by type or constructor: a `BufWriter` or `LineWriter`
    /// alive at the exit loses what it buffered, a `tempfile` file or folder stays on disk.
    /// Only a local declared with that type or bound straight from its constructor
    /// (`let out = BufWriter::new(..)`, through `?`/`unwrap`) is known: one moved into another
    /// local, an `Option`, a tuple, a struct field or out of a `match` or a block is not (the
    /// library types are not modelled as types yet).
    /// A print or log line that only some paths of the deferred code write (inside an `if` or
    /// `match` arm, or in a function called only there) is not counted, nor a write into
    /// memory (a `strings.Builder`, a `bytes.Buffer`).
    ///
    /// Go: defers pending in the function that exits are considered, and those of a caller
    /// when the exit is in the function it calls or one level further; deeper helpers are not
    /// followed. A helper that exits is reported once, for the first caller found; the exits
    /// that skip the same defers are one finding.
    ///
    /// Rust: guards owned by the function that exits count, those of a caller of a function
    /// declared `-> !` that exits itself, and those of the function that creates a closure
    /// that exits; guards of callers further up are not followed, nor an exit inside `Drop`
    /// code (the guards alive where that value dies).
    pub static EXIT_SKIPS_DEFERRED_CLEANUP = {
        name: "exit-skips-deferred-cleanup",
        category: Suspicious,
        languages: [Rust, Go],
        summary: "the process exits while deferred cleanup is pending: the cleanup never runs",
    };
}

/// The headline of a finding: what the first skipped cleanup would have done.
fn message(effect: Effect) -> String {
    format!(
        "the process exits here while deferred code that {} is pending",
        effect.what()
    )
}

/// Words one Go finding.
fn diagnostic(context: &Context<'_>, exit: &PendingExit) -> Diagnostic {
    let analyses = context.analyses;
    let first = exit.skipped[0].1.effect;
    let mut diagnostic = Diagnostic::new(
        EXIT_SKIPS_DEFERRED_CLEANUP.name,
        context.severity,
        message(first),
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
        diagnostic = diagnostic
            .with_label(Label::new(site.span, "deferred here"))
            .with_label(Label::new(cleanup.span, cleanup.effect.lost()));
    }
    diagnostic
        .with_note("`os.Exit` (and `log.Fatal`, which calls it) ends the process without running deferred calls")
        .with_help("return an error to `main` and exit there, after the deferred calls have run")
}

/// The most telling effect outside the process's memory that deferred code starting at `root`
/// has, within [`crate::MAX_DEFERRED_DEPTH`] calls. In-memory work (map writes, locks) does
/// not count: it dies with the process.
fn cleanup_of(context: &Context<'_>, root: FunctionId) -> Option<(Span, Effect)> {
    effects::cleanup_effect(
        context.program,
        &context.analyses.calls,
        root,
        crate::MAX_DEFERRED_DEPTH,
    )
}

/// Words one Rust finding: the exit, and each guard whose cleanup it skips.
fn rust_diagnostic(
    context: &Context<'_>,
    exit: &deferlint_core::analysis::lock_state::PendingExit,
    skipped: &[(Slot, (Span, Effect))],
) -> Diagnostic {
    let program = context.program;
    let body = program.body(exit.owner);
    let primary = match exit.helper {
        Some(helper) => format!(
            "`{}` exits the process: the values alive here are never dropped",
            program.function_name(helper)
        ),
        None => "exits at once: the values alive here are never dropped".to_string(),
    };
    let mut diagnostic = Diagnostic::new(
        EXIT_SKIPS_DEFERRED_CLEANUP.name,
        context.severity,
        message(skipped[0].1.1),
        Label::new(exit.span, primary),
    );
    for (slot, (span, effect)) in skipped {
        let (slot_span, name) = match slot {
            Slot::Local(local) => {
                let fact = body.local(*local);
                (fact.span, format!("`{}`", fact.name))
            }
            Slot::Temp(temp) => (body.temps[temp.index()].span, "this value".to_string()),
        };
        diagnostic = if *span == slot_span {
            // The value's own drop: one label says both.
            diagnostic.with_label(Label::new(
                slot_span,
                format!(
                    "{name} is still alive: dropping it {}, and that never happens",
                    effect.what()
                ),
            ))
        } else {
            diagnostic
                .with_label(Label::new(
                    slot_span,
                    format!("{name} is still alive: its deferred cleanup never runs"),
                ))
                .with_label(Label::new(*span, effect.lost()))
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
            if let Some(cleanup) = roots.iter().find_map(|&root| cleanup_of(context, root)) {
                skipped.push((slot, cleanup));
            } else if let Slot::Local(local) = slot {
                // A library value whose drop flushes or removes (`BufWriter`, `NamedTempFile`).
                if let Some(effect) = effects::rust_drop_effect(context.program, exit.owner, local)
                {
                    let span = context.program.body(exit.owner).local(local).span;
                    skipped.push((slot, (span, effect)));
                }
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
    // A helper that exits is reported once, for the first caller with cleanup pending; the
    // exits that skip the same defers are one finding, the later ones as labels.
    let mut seen = std::collections::HashSet::new();
    let mut groups: Vec<(&PendingExit, Vec<Span>)> = Vec::new();
    let mut exits: Vec<&PendingExit> = context.analyses.go.exits.iter().collect();
    exits.sort_by_key(|exit| {
        let at = exit.via.unwrap_or(exit.span);
        (at.file, at.lo)
    });
    for exit in exits {
        if !context.reports_in(exit.function) || !seen.insert(exit.span) {
            continue;
        }
        let same = groups.iter_mut().find(|(first, _)| {
            first
                .skipped
                .iter()
                .map(|(site, _)| site)
                .eq(exit.skipped.iter().map(|(site, _)| site))
        });
        match same {
            Some((_, also)) => also.push(exit.via.unwrap_or(exit.span)),
            None => groups.push((exit, Vec::new())),
        }
    }
    groups
        .into_iter()
        .map(|(exit, also)| {
            also.into_iter()
                .fold(diagnostic(context, exit), |diagnostic, span| {
                    diagnostic.with_label(Label::new(
                        span,
                        "exits here too, with the same defers pending",
                    ))
                })
        })
        .collect()
}
