//! `lock-reentered-in-defer`: deferred code locks a lock that is still held where it runs.

use std::collections::HashSet;

use deferlint_core::diagnostic::{Diagnostic, Label};

use crate::Context;
use crate::reentry::{Reentry, ReentryWording, holder_name, reentries, reentry_diagnostic};

crate::declare_rule! {
    /// ### What it does
    /// Finds deferred code that locks a mutex or `RwLock` which is still held at the moment
    /// the deferred code runs. Two shapes:
    /// - a defer guard (`defer!`, `scopeguard::guard`) declared *after* a lock guard: locals
    ///   drop in reverse declaration order, so the defer body runs while the guard still holds
    ///   the lock;
    /// - a value whose `Drop` locks the mutex, dropped inside the critical section: the
    ///   `Option<V>` returned by `remove`/`insert` and discarded, values dropped by `clear` or
    ///   `retain`, a temporary `Arc` from `Weak::upgrade()` that was the last strong reference,
    ///   `drop(v)` or a local declared after the guard.
    ///
    /// Go: a deferred function (or a function it calls) that locks a `sync.Mutex` or
    /// `sync.RWMutex` the function still holds when the deferred call runs — typically a
    /// `defer func() { mu.Lock(); .. }()` registered after `mu.Lock(); defer mu.Unlock()`, which
    /// runs first because defers run last-in-first-out, or a return path that leaves the mutex
    /// locked.
    ///
    /// ### Why is this bad?
    /// `std::sync::Mutex`, `parking_lot::Mutex` and the write side of an `RwLock` are not
    /// reentrant: locking them again on the thread that holds them never returns. The thread
    /// hangs forever, and every other thread that needs the lock hangs behind it. Go's
    /// `sync.Mutex` is not reentrant either: the goroutine blocks forever, and the runtime stops
    /// with `all goroutines are asleep - deadlock!` only when nothing else can run.
    ///
    /// ### Example
    /// ```rust
    /// let mut g = m.lock().unwrap();
    /// scopeguard::defer! { m.lock().unwrap().remove(&id); }
    /// g.insert(id, id);
    /// ```
    /// ```rust
    /// // `Session`'s `Drop` locks `sessions`: the old value dies while the temporary guard
    /// // still holds the lock.
    /// sessions.lock().unwrap().remove(&id);
    /// ```
    ///
    /// ```go
    /// mu.Lock()
    /// defer mu.Unlock()
    /// defer func() { mu.Lock(); delete(m, id); mu.Unlock() }() // runs before the unlock
    /// ```
    ///
    /// ### Use instead
    /// Go: register the deferred function before taking the lock, or drop the inner locking.
    ///
    /// Rust: declare the defer guard before the lock guard, or release the guard first with
    /// `drop(g)`. Move values out of the critical section and drop them after the guard:
    /// ```rust
    /// let old = sessions.lock().unwrap().remove(&id);
    /// drop(old);
    /// ```
    ///
    /// ### Known limitations
    /// The lock must be visibly the same object: the same local, a clone of the same `Arc`, a
    /// field of the same type, a static, or an argument of a call in the same crate. A lock
    /// held by a caller counts only when every caller in the crate holds it; a closure written
    /// as an argument of a function of the crate that calls it (itself, in a closure of its
    /// own, or through a function it hands the closure to, and does nothing else with it)
    /// holds what that function holds where it calls it. Values moved into functions of other
    /// crates are not followed. A guard returned by a helper that locks
    /// the lock it is handed (`fn lock<T>(m: &Mutex<T>)`) is followed into its caller only
    /// when the helper has a single caller. Go: deferred code is followed three calls
    /// deep. A lock taken on a field of the value being dropped itself is
    /// not reported: nobody else can hold it while the value dies. Read locks re-taken for
    /// reading, `try_lock` and async locks are not reported.
    pub static LOCK_REENTERED_IN_DEFER = {
        name: "lock-reentered-in-defer",
        category: Correctness,
        languages: [Rust, Go],
        summary: "deferred code locks a lock that is still held when it runs: the thread hangs forever",
    };
}

/// Words one finding.
fn diagnostic(context: &Context<'_>, reentry: &Reentry<'_>) -> Diagnostic {
    let program = context.program;
    let lock_name = program.value_text(reentry.held.owner, reentry.held.receiver);
    let guard_name = holder_name(program, reentry.run.owner, reentry.holder);
    let wording = ReentryWording {
        message: format!("deferred code locks `{lock_name}` while {guard_name} still holds it"),
        primary: format!(
            "this waits forever: {guard_name} still holds `{lock_name}` when this runs"
        ),
        held: format!("`{lock_name}` is locked here"),
        drop_does: format!("locks `{lock_name}`"),
        while_held: format!("inside the critical section of `{lock_name}`"),
        callee_does: "the lock is taken".to_string(),
        why: None,
        help_defer: format!(
            "declare the defer guard before taking the lock, or release {guard_name} with `drop(..)` before the scope ends"
        ),
        help_drop: format!(
            "move the value out of the critical section and drop it after {guard_name} is released"
        ),
    };
    reentry_diagnostic(context, LOCK_REENTERED_IN_DEFER.name, reentry, wording)
}

/// Words one Go finding: a deferred call locks a mutex its function still holds.
fn go_diagnostic(
    context: &Context<'_>,
    relock: &deferlint_core::analysis::go_state::DeferredRelock,
) -> Diagnostic {
    let program = context.program;
    let analyses = context.analyses;
    let inner = analyses.locks.get(relock.lock);
    let held = analyses.locks.get(relock.held);
    let name = program.value_text(held.owner, held.receiver);
    let site = &analyses.calls.defer_sites[relock.site.0 as usize];
    let mut diagnostic = Diagnostic::new(
        LOCK_REENTERED_IN_DEFER.name,
        context.severity,
        format!("deferred code locks `{name}` while the function still holds it"),
        Label::new(
            inner.span,
            format!("this waits forever: `{name}` is still locked when the deferred call runs"),
        ),
    );
    if held.span != inner.span {
        diagnostic =
            diagnostic.with_label(Label::new(held.span, format!("`{name}` is locked here")));
    }
    diagnostic = diagnostic.with_label(Label::new(
        site.span,
        "deferred here: deferred calls run last-in-first-out, so this one runs before the unlock",
    ));
    if relock.span != deferlint_core::source::Span::default() {
        diagnostic = diagnostic.with_label(Label::new(relock.span, "the deferred call runs here"));
    }
    diagnostic
        .with_note("deferred calls run when the function returns, in reverse order of their `defer` statements: one deferred after `defer mu.Unlock()` runs while `mu` is still locked; `sync.Mutex` is not reentrant, and the runtime stops with `fatal error: all goroutines are asleep - deadlock!` when nothing else runs")
        .with_help(format!("register this defer before taking `{name}`, or do not lock `{name}` again in it"))
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    if context.program.language == deferlint_core::source::Language::Go {
        let mut seen = HashSet::new();
        return context
            .analyses
            .go
            .relocks
            .iter()
            .filter(|relock| seen.insert((relock.lock, relock.site)))
            .filter(|relock| context.reports_in(context.analyses.locks.get(relock.lock).function))
            .map(|relock| go_diagnostic(context, relock))
            .collect();
    }
    reentries(
        context,
        |inner| inner.blocks() && !inner.flavor.is_async() && !inner.flavor.is_borrow(),
        |held| !held.flavor.is_async() && !held.flavor.is_borrow(),
    )
    .iter()
    .map(|reentry| diagnostic(context, reentry))
    .collect()
}
