//! `poisoned-lock-unwrap-in-defer`: `lock().unwrap()` in deferred code, on a lock shared with a
//! spawned task or held in a static.

use deferlint_core::analysis::locks::{Handling, LockOp};
use deferlint_core::diagnostic::{Applicability, Diagnostic, Edit, Label};
use deferlint_core::model::types::LockFlavor;

use crate::Context;
use crate::wording::{
    call_path_note, lock_method_name as method_name, registration_labels, spawn_labels,
    when_it_runs,
};

crate::declare_rule! {
    /// ### What it does
    /// Finds `lock().unwrap()`, `read().unwrap()`, `write().unwrap()` and their `expect(..)`
    /// forms on a `std::sync` lock inside deferred code: a `Drop::drop` body, a `defer!` body
    /// or a scope guard's closure, and the functions they call. It reports only locks that are
    /// shared with a spawned thread or task, or that live in a `static`.
    ///
    /// ### Why is this bad?
    /// Deferred code also runs while a panic unwinds the stack. A `std` lock is poisoned when
    /// a thread panics while holding it; `unwrap` on a poisoned lock panics, and a panic while
    /// already panicking aborts the whole process ("panic in a destructor during cleanup"),
    /// skipping every other destructor and losing the error that started it. The cleanup the
    /// `Drop` was written for never happens either.
    ///
    /// ### Example
    /// ```rust
    /// impl Drop for Unregister {
    ///     fn drop(&mut self) {
    ///         self.registry.lock().unwrap().remove(&self.id);
    ///     }
    /// }
    /// ```
    ///
    /// ### Use instead
    /// Recover the guard: a poisoned lock still protects the data, and the cleanup still runs.
    /// ```rust
    /// impl Drop for Unregister {
    ///     fn drop(&mut self) {
    ///         self.registry
    ///             .lock()
    ///             .unwrap_or_else(std::sync::PoisonError::into_inner)
    ///             .remove(&self.id);
    ///     }
    /// }
    /// ```
    /// Do not skip the cleanup instead (`if let Ok(..)`): an entry that is never removed is a
    /// leak. `parking_lot` and `spin` locks do not poison.
    ///
    /// ### Known limitations
    /// Types come from declarations, not from the compiler: a lock whose type cannot be seen
    /// (returned by a function of another crate, or behind a trait object) is only recognised
    /// when its `lock()` result is unwrapped, and its sharing must still be visible through
    /// captures, `Arc` clones, struct fields, arguments or statics of the same crate. Locks
    /// shared only through code in other crates are not reported. Locks kept in a
    /// `thread_local!` (one per thread) and deferred code that checks
    /// `std::thread::panicking()` first are not reported. A lock is reported only when some
    /// critical section of it in the crate can panic (a call of code not seen, a function of
    /// the crate that may panic within four calls, `unwrap`/`expect`, indexing, assertions, a
    /// panicking macro; not assignments and the std methods that do not panic, such as
    /// `insert`, `remove`, `take`): a lock whose critical sections cannot panic is never
    /// poisoned. Indexing counts for the whole function that indexes, not only inside the
    /// critical section; arithmetic overflow is not taken as a panic, and neither is code of
    /// other crates that locks the same lock.
    pub static POISONED_LOCK_UNWRAP_IN_DEFER = {
        name: "poisoned-lock-unwrap-in-defer",
        category: Suspicious,
        languages: [Rust],
        summary: "`lock().unwrap()` in deferred code aborts the process when the lock is poisoned during unwinding",
    };
}

/// Words the finding for one lock acquisition.
fn diagnostic(
    context: &Context<'_>,
    op: &LockOp,
    handler: deferlint_core::model::facts::CallId,
) -> Option<Diagnostic> {
    let program = context.program;
    let analyses = context.analyses;
    let root = context.deferred_reach(op.function)?.root;
    let class = op.class?;
    if context.is_thread_local_object(class) || context.calls_path_named(op.function, "panicking") {
        return None;
    }
    let statics = analyses.aliases.statics_of(class);
    let sites = analyses.tasks.sites_touching(class);
    if statics.is_empty() && sites.is_empty() {
        return None;
    }
    // Only a lock held where something can panic is ever poisoned.
    if !analyses.lock_state.may_panic_under.contains(&class) {
        return None;
    }
    let body = program.body(op.owner);
    let handler_call = body.call(handler);
    let lock_name = program.value_text(op.owner, op.receiver);
    let method = method_name(op);
    let handler_name = if matches!(op.handling, Handling::Expect(_)) {
        "expect(..)"
    } else {
        "unwrap()"
    };
    let mut diagnostic = Diagnostic::new(
        POISONED_LOCK_UNWRAP_IN_DEFER.name,
        context.severity,
        format!(
            "`{method}().{handler_name}` in deferred code aborts the process if `{lock_name}` is poisoned"
        ),
        Label::new(
            handler_call.span,
            format!(
                "panics if `{lock_name}` is poisoned; during unwinding that aborts the process"
            ),
        ),
    );
    for label in registration_labels(program, analyses, root) {
        diagnostic = diagnostic.with_label(label);
    }
    if let Some(&first) = statics.first() {
        let item = program.static_item(first);
        diagnostic = diagnostic.with_label(Label::new(
            item.span,
            format!("`{}` is a static, shared by every thread", item.name),
        ));
    }
    for label in spawn_labels(program, analyses, &sites, &format!("`{lock_name}`")) {
        diagnostic = diagnostic.with_label(label);
    }
    diagnostic = diagnostic.with_note(format!(
        "{}; if any thread panicked while holding `{lock_name}`, the lock is poisoned and this `{handler_name}` panics again, and a panic during unwinding aborts the process (\"panic in a destructor during cleanup\")",
        when_it_runs(program, analyses, root)
    ));
    if let Some(note) = call_path_note(program, analyses, op.function, root) {
        diagnostic = diagnostic.with_note(note);
    }
    let applicability = if op.flavor == LockFlavor::Std {
        Applicability::MachineApplicable
    } else {
        Applicability::MaybeIncorrect
    };
    let replacement = "unwrap_or_else(std::sync::PoisonError::into_inner)".to_string();
    Some(diagnostic.with_suggestion(
        "recover the guard from a poisoned lock, so that the cleanup still runs",
        vec![Edit {
            span: handler_call.tail_span,
            replacement,
        }],
        applicability,
    ))
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for op in &context.analyses.locks.ops {
        if !op.poisons || !context.reports_in(op.function) {
            continue;
        }
        let handler = match op.handling {
            Handling::Unwrap(call) | Handling::Expect(call) => call,
            _ => continue,
        };
        diagnostics.extend(diagnostic(context, op, handler));
    }
    diagnostics
}
