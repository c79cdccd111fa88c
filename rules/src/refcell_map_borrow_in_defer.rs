//! `refcell-map-borrow-in-defer`: deferred code borrows a `RefCell` that is still borrowed,
//! in a conflicting way, where the code runs.

use deferlint_core::analysis::deferred::DeferredRoot;
use deferlint_core::analysis::lock_state::Suspension;
use deferlint_core::analysis::locks::LockOp;
use deferlint_core::diagnostic::{Diagnostic, Label};
use deferlint_core::graph::calls::SpawnSiteId;
use deferlint_core::model::LockMode;
use deferlint_core::model::types::LockFlavor;

use crate::Context;
use crate::reentry::{ReentryWording, conflicts, holder_name, reentries, reentry_diagnostic};
use crate::wording::{registration_labels, spawn_labels, when_it_runs};

crate::declare_rule! {
    /// ### What it does
    /// Finds deferred code (a `Drop::drop` body, a `defer!` body, a scope guard's closure and
    /// the functions they call) that borrows a `RefCell` while a conflicting borrow of the same
    /// `RefCell` is alive where the deferred code runs: a value removed from a
    /// `RefCell<HashMap>` inside `borrow_mut()` whose own `Drop` borrows the map again, a defer
    /// guard declared after a `RefMut`, `drop(value)` while the map is still borrowed. Also
    /// the form with tasks: a `spawn_local` task keeps the `RefCell` borrowed across an
    /// `.await` while deferred code of another task (or of another task of the same spawn in
    /// a loop) borrows it.
    ///
    /// ### Why is this bad?
    /// A `RefCell` checks borrows at run time. A second `borrow_mut()` (or a `borrow()` while a
    /// `borrow_mut()` is alive) does not wait: it panics with `BorrowMutError` ("already
    /// borrowed"). Inside `Drop` this is worse: if the drop runs while a panic unwinds the
    /// stack, the second panic aborts the process.
    ///
    /// ### Example
    /// ```rust
    /// struct Session { id: u64, registry: Rc<RefCell<HashMap<u64, Session>>> }
    /// impl Drop for Session {
    ///     fn drop(&mut self) {
    ///         self.registry.borrow_mut().remove(&self.id);
    ///     }
    /// }
    /// // The removed `Session` dies at the `;`, while `borrow_mut()` is still alive.
    /// registry.borrow_mut().remove(&id);
    /// ```
    ///
    /// ### Use instead
    /// Bind the removed value and drop it after the borrow ends:
    /// ```rust
    /// let removed = registry.borrow_mut().remove(&id);
    /// drop(removed);
    /// ```
    /// Or use `try_borrow_mut()` in the deferred code and skip or postpone the work when the
    /// cell is busy.
    ///
    /// ### Known limitations
    /// The `RefCell` must be visibly the same object (the same local, a clone of the same
    /// `Rc`, a field of the same type, an argument of a call in the same crate). Borrows held
    /// across an `.await` by another `spawn_local` task, callbacks stored and called later,
    /// and a `RefMut` kept in a field of a struct (rather than a local) are not followed. A
    /// borrow of a field of the value being dropped itself is not reported. A trait object
    /// (`Box<dyn Widget>`) may be any of the crate's implementations of the trait, except
    /// where it is the old value an `insert` returns, or its `Drop` would be the one running;
    /// `dyn Any` and traits of other crates hide their `Drop`.
    pub static REFCELL_MAP_BORROW_IN_DEFER = {
        name: "refcell-map-borrow-in-defer",
        category: Suspicious,
        languages: [Rust],
        summary: "deferred code borrows a `RefCell` that is still borrowed when it runs: it panics with `BorrowMutError`",
    };
}

/// Words a finding of the explicit form: deferred code of one task borrows a `RefCell` that
/// another task keeps borrowed across an `.await`.
fn across_await_diagnostic(
    context: &Context<'_>,
    inner: &LockOp,
    root: DeferredRoot,
    suspension: &Suspension,
    held: &LockOp,
    sites: &[SpawnSiteId],
) -> Diagnostic {
    let program = context.program;
    let analyses = context.analyses;
    let cell = program.value_text(held.owner, held.receiver);
    let (how, error) = match inner.mode {
        LockMode::Read => ("", "BorrowError"),
        _ => (" mutably", "BorrowMutError"),
    };
    let mut diagnostic = Diagnostic::new(
        REFCELL_MAP_BORROW_IN_DEFER.name,
        context.severity,
        format!(
            "deferred code borrows `{cell}`{how} while another task may keep it borrowed across an `.await`"
        ),
        Label::new(
            inner.span,
            format!("panics with `{error}` if this runs while that task is suspended"),
        ),
    )
    .with_label(Label::new(held.span, format!("`{cell}` is borrowed here")))
    .with_label(Label::new(
        suspension.span,
        format!(
            "this task is suspended here with `{cell}` still borrowed; other tasks of the thread run meanwhile"
        ),
    ));
    for label in registration_labels(program, analyses, root) {
        diagnostic = diagnostic.with_label(label);
    }
    for label in spawn_labels(program, analyses, sites, &format!("`{cell}`")) {
        diagnostic = diagnostic.with_label(label);
    }
    diagnostic
        .with_note(format!(
            "{}; a task suspended at `.await` keeps its borrows, so deferred code that runs in another task meanwhile finds `{cell}` borrowed, and a `RefCell` panics instead of waiting",
            when_it_runs(program, analyses, root)
        ))
        .with_help(format!(
            "do not hold the borrow of `{cell}` across the `.await`: copy what you need out, or end the borrow in a block before it; or use `try_borrow_mut()` in the deferred code and postpone the work when it fails"
        ))
}

/// The explicit form: a task holds a borrow across an `.await` while deferred code of another
/// task (or another task of the same spawn in a loop) borrows the same `RefCell`.
fn across_await(context: &Context<'_>) -> Vec<Diagnostic> {
    let analyses = context.analyses;
    let mut diagnostics = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for suspension in &analyses.lock_state.suspensions {
        if !context.reports_in(suspension.function) {
            continue;
        }
        let suspended_sites = analyses.tasks.sites_running(suspension.function);
        if suspended_sites.is_empty() {
            continue;
        }
        for held in &suspension.held {
            let held_op = analyses.locks.get(held.lock);
            let Some(class) = held_op.class else { continue };
            if held_op.flavor != LockFlavor::RefCell {
                continue;
            }
            for inner in &analyses.locks.ops {
                if inner.flavor != LockFlavor::RefCell
                    || !inner.blocks()
                    || inner.class != Some(class)
                    || !conflicts(held_op.mode, inner.mode)
                {
                    continue;
                }
                let Some(reach) = context.deferred_reach(inner.function) else {
                    continue;
                };
                // The deferred code runs in a task that can run while the suspended one waits:
                // another spawn, or another task of the same spawn in a loop.
                let mut sites: Vec<SpawnSiteId> = context
                    .running_places(reach.root)
                    .into_iter()
                    .flat_map(|place| analyses.tasks.sites_running(place).to_vec())
                    .filter(|site| {
                        !suspended_sites.contains(site)
                            || analyses.calls.spawn_sites[site.0 as usize].in_loop
                    })
                    .collect();
                sites.sort();
                sites.dedup();
                if sites.is_empty() || !seen.insert((inner.span, suspension.span)) {
                    continue;
                }
                let mut all_sites = sites.clone();
                all_sites.extend_from_slice(suspended_sites);
                all_sites.sort();
                all_sites.dedup();
                diagnostics.push(across_await_diagnostic(
                    context, inner, reach.root, suspension, held_op, &all_sites,
                ));
            }
        }
    }
    diagnostics
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    let mut diagnostics = across_await(context);
    let is_borrow = |op: &deferlint_core::analysis::locks::LockOp| op.flavor == LockFlavor::RefCell;
    diagnostics.extend(reentries(context, |inner| is_borrow(inner) && inner.blocks(), is_borrow)
        .into_iter()
        .map(|reentry| {
            let program = context.program;
            let cell = program.value_text(reentry.held.owner, reentry.held.receiver);
            let guard = holder_name(program, reentry.run.owner, reentry.holder);
            let (how, error) = match reentry.inner.mode {
                LockMode::Read => ("", "BorrowError"),
                _ => (" mutably", "BorrowMutError"),
            };
            let held_how = match reentry.held.mode {
                LockMode::Read => "borrowed",
                _ => "mutably borrowed",
            };
            let wording = ReentryWording {
                message: format!(
                    "deferred code borrows `{cell}`{how} while {guard} still borrows it"
                ),
                primary: format!(
                    "this panics with `{error}`: `{cell}` is still {held_how} when this runs"
                ),
                held: format!("`{cell}` is {held_how} here"),
                drop_does: format!("borrows `{cell}`"),
                while_held: format!("while {guard} still borrows `{cell}`"),
                callee_does: "the borrow is made".to_string(),
                why: Some(format!(
                    "a `RefCell` allows one mutable borrow or many shared ones at a time; a conflicting borrow does not wait, it panics (`{error}`), and a panic in `Drop` while the stack unwinds aborts the process"
                )),
                help_defer: format!(
                    "declare the defer guard before borrowing `{cell}`, or end the borrow with `drop(..)` first; or use `try_borrow_mut()` in the deferred code and skip or postpone the work when it fails"
                ),
                help_drop: format!(
                    "move the value out of the borrow and drop it after {guard} is gone, or use `try_borrow_mut()` in the deferred code and skip or postpone the work when it fails"
                ),
            };
            reentry_diagnostic(
                context,
                REFCELL_MAP_BORROW_IN_DEFER.name,
                &reentry,
                wording,
            )
        }));
    diagnostics
}
