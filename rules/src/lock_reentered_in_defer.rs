//! `lock-reentered-in-defer`: deferred code locks a lock that is still held where it runs.

use std::collections::HashSet;

use deferlint_core::analysis::lock_state::{DeferredRun, Holder, RunKind};
use deferlint_core::analysis::locks::LockOp;
use deferlint_core::diagnostic::{Applicability, Diagnostic, Edit, Label};
use deferlint_core::graph::calls::DeferKind;
use deferlint_core::model::facts::{FnKind, ReleaseReason, SelfKind, Slot, Value, ValueId};
use deferlint_core::model::modules::FunctionId;
use deferlint_core::model::types::{LockFlavor, TyKind};
use deferlint_core::model::{LockMode, Program};
use deferlint_core::source::Span;

use crate::Context;

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
    /// held by a caller counts only when every caller in the crate holds it; values moved into
    /// functions of other crates are not followed. Go: deferred code is followed three calls
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
fn diagnostic(
    context: &Context<'_>,
    run: &DeferredRun,
    inner: &LockOp,
    held: &LockOp,
    holder: Holder,
) -> Diagnostic {
    let program = context.program;
    let analyses = context.analyses;
    let lock_name = program.value_text(held.owner, held.receiver);
    let guard_name = holder_name(program, run.owner, holder);
    let mut diagnostic = Diagnostic::new(
        LOCK_REENTERED_IN_DEFER.name,
        context.severity,
        format!("deferred code locks `{lock_name}` while {guard_name} still holds it"),
        Label::new(
            inner.span,
            format!("this waits forever: {guard_name} still holds `{lock_name}` when this runs"),
        ),
    );
    if held.span != inner.span {
        diagnostic = diagnostic.with_label(Label::new(
            held.span,
            format!("`{lock_name}` is locked here"),
        ));
    }
    let note;
    let help;
    match &run.kind {
        RunKind::DeferGuard(site) => {
            let site = &analyses.calls.defer_sites[site.0 as usize];
            let what = match site.kind {
                DeferKind::Macro => "this deferred body",
                DeferKind::Guard => "this scope guard",
            };
            diagnostic = diagnostic.with_label(Label::new(
                site.span,
                format!("{what} is declared after {guard_name}, so it runs first, while the lock is held"),
            ));
            note = format!(
                "locals are dropped in reverse declaration order: a defer guard declared after a lock guard runs before the lock guard releases the lock, {}",
                release_phrase(run.reason)
            );
            help = format!(
                "declare the defer guard before taking the lock, or release {guard_name} with `drop(..)` before the scope ends"
            );
        }
        RunKind::Drop { .. } | RunKind::MapValuesDropped => {
            let type_names = drop_types(program, &run.runs);
            if run.origin != Span::default() && run.origin != run.span {
                diagnostic = diagnostic.with_label(Label::new(
                    run.origin,
                    format!("this value's `Drop` ({type_names}) locks `{lock_name}`"),
                ));
            }
            let where_text = match (&run.kind, run.reason) {
                (RunKind::MapValuesDropped, _) => {
                    "the map drops its values here, while the lock is held".to_string()
                }
                (_, Some(ReleaseReason::StatementEnd)) => {
                    format!("the temporary is dropped here, before {guard_name}")
                }
                (_, Some(ReleaseReason::Explicit)) => {
                    "the value is dropped here, inside the critical section".to_string()
                }
                (_, Some(ReleaseReason::Overwritten)) => {
                    "the old value is dropped here, inside the critical section".to_string()
                }
                _ => format!("the value is dropped here, before {guard_name}"),
            };
            diagnostic = diagnostic.with_label(Label::new(run.span, where_text));
            note = format!(
                "`Drop` for {type_names} runs where the value dies; here that is inside the critical section of `{lock_name}`{}",
                if matches!(
                    run.kind,
                    RunKind::Drop {
                        may_be_last_owner: true
                    }
                ) {
                    " (a value taken out of a map or upgraded from a `Weak` may hold the last reference)"
                } else {
                    ""
                }
            );
            help = format!(
                "move the value out of the critical section and drop it after {guard_name} is released"
            );
        }
    }
    if inner.function != root_of(context, run, inner) {
        diagnostic = diagnostic.with_note(format!(
            "the lock is taken in `{}`, which the deferred code calls",
            program.function_name(inner.function)
        ));
    }
    if let Holder::Caller(caller) = holder {
        diagnostic = diagnostic.with_note(format!(
            "every call of `{}` is made while the lock is held, by `{}` among others",
            program.function_name(run.function),
            program.function_name(caller)
        ));
    }
    diagnostic = diagnostic.with_note(note);
    if let Some(edit) = bind_then_drop_edit(program, run) {
        return diagnostic.with_suggestion(
            "bind the removed value and drop it after the statement, when the guard is gone",
            edit,
            Applicability::MachineApplicable,
        );
    }
    diagnostic.with_help(help)
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
    let program = context.program;
    let analyses = context.analyses;
    let mut diagnostics = Vec::new();
    let mut seen: HashSet<(Span, Span)> = HashSet::new();
    for run in &analyses.lock_state.runs {
        if !context.reports_in(run.function) {
            continue;
        }
        let runs: Vec<FunctionId> = match &run.kind {
            RunKind::DeferGuard(site) => vec![analyses.calls.defer_sites[site.0 as usize].body],
            _ => run.runs.clone(),
        };
        let owned_types = if matches!(run.kind, RunKind::DeferGuard(_)) {
            Vec::new()
        } else {
            dropped_owner_types(program, &runs)
        };
        for root in runs {
            for &lock in analyses
                .locks_reached(root, crate::MAX_DEFERRED_DEPTH)
                .iter()
            {
                let inner = analyses.locks.get(lock);
                if !reentry_possible(inner) || is_instance_lock(program, inner, &owned_types) {
                    continue;
                }
                for held in &run.held {
                    let held_op = analyses.locks.get(held.lock);
                    if held_op.class.is_none()
                        || held_op.class != inner.class
                        || !conflicts(held_op.mode, inner.mode)
                    {
                        continue;
                    }
                    if held_op.flavor.is_async() {
                        continue;
                    }
                    let key = (inner.span, registration_span(context, run));
                    if seen.insert(key) {
                        diagnostics.push(diagnostic(context, run, inner, held_op, held.holder));
                    }
                }
            }
        }
    }
    diagnostics
}

/// A blocking acquisition of a lock that is not reentrant.
fn reentry_possible(op: &LockOp) -> bool {
    op.blocks() && !op.flavor.is_async() && op.flavor != LockFlavor::Tokio
}

/// Two acquisitions of one `RwLock` deadlock unless both read.
fn conflicts(held: LockMode, wanted: LockMode) -> bool {
    !(held == LockMode::Read && wanted == LockMode::Read)
}

fn registration_span(context: &Context<'_>, run: &DeferredRun) -> Span {
    match &run.kind {
        RunKind::DeferGuard(site) => context.analyses.calls.defer_sites[site.0 as usize].span,
        _ => run.origin,
    }
}

fn root_of(context: &Context<'_>, run: &DeferredRun, inner: &LockOp) -> FunctionId {
    match &run.kind {
        RunKind::DeferGuard(site) => {
            let body = context.analyses.calls.defer_sites[site.0 as usize].body;
            // A closure inside the defer body still counts as the body.
            if context.program.function(inner.function).owner
                == context.program.function(body).owner
            {
                inner.function
            } else {
                body
            }
        }
        _ => *run
            .runs
            .iter()
            .find(|&&root| root == inner.function)
            .unwrap_or(&inner.function),
    }
}

/// The types whose `Drop` runs, for messages.
fn drop_types(program: &Program, runs: &[FunctionId]) -> String {
    let mut names: Vec<String> = runs
        .iter()
        .filter_map(|&function| {
            program
                .function(function)
                .drop_for
                .map(|adt| format!("`{}`", program.adt(adt).name))
        })
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        "the value".to_string()
    } else {
        names.join(", ")
    }
}

/// The types whose `Drop` runs: a lock reached only through their own fields belongs to the
/// dying value, which nobody else can hold.
fn dropped_owner_types(
    program: &Program,
    runs: &[FunctionId],
) -> Vec<deferlint_core::model::types::AdtId> {
    runs.iter()
        .filter_map(|&function| program.function(function).drop_for)
        .collect()
}

/// A lock on `self.a.b` (fields owned inline, no `Arc` or reference on the way) in a method of
/// one of the dying types.
fn is_instance_lock(
    program: &Program,
    op: &LockOp,
    owned_types: &[deferlint_core::model::types::AdtId],
) -> bool {
    if owned_types.is_empty() {
        return false;
    }
    let function = program.function(op.function);
    let is_method_with_self = matches!(
        program.fact(op.function).kind,
        FnKind::Method {
            self_kind: Some(SelfKind::Ref | SelfKind::RefMut | SelfKind::Value),
            ..
        }
    );
    let Some(self_ty) = function.self_ty else {
        return false;
    };
    let Some(self_adt) = program.types.adt(self_ty) else {
        return false;
    };
    if !is_method_with_self || !owned_types.contains(&self_adt) {
        return false;
    }
    owned_path_from_self(program, op.owner, op.receiver, 0)
}

fn owned_path_from_self(program: &Program, owner: FunctionId, value: ValueId, depth: u32) -> bool {
    if depth > 8 {
        return false;
    }
    let body = program.body(owner);
    match body.value(value) {
        Value::Local(local) => &*body.local(*local).name == "self",
        Value::Field { base, .. } => {
            let ty = program.value_ty(owner, value);
            let shared = matches!(program.types.kind(ty), TyKind::Ref(..) | TyKind::Ptr(..))
                || program.types.is_shared_pointer(ty)
                || matches!(
                    program.types.as_lib(ty),
                    Some(deferlint_core::model::types::LibTy::Lazy)
                );
            !shared && owned_path_from_self(program, owner, *base, depth + 1)
        }
        Value::Ref { inner, .. } | Value::Deref(inner) => {
            owned_path_from_self(program, owner, *inner, depth + 1)
        }
        _ => false,
    }
}

fn holder_name(program: &Program, owner: FunctionId, holder: Holder) -> String {
    match holder {
        Holder::Slot(Slot::Local(local)) => {
            let name = &program.body(owner).local(local).name;
            if name.starts_with('<') {
                "a guard".to_string()
            } else {
                format!("`{name}`")
            }
        }
        Holder::Slot(Slot::Temp(_)) => "the temporary guard".to_string(),
        Holder::Caller(caller) => format!("the guard in `{}`", program.function_name(caller)),
    }
}

fn release_phrase(reason: Option<ReleaseReason>) -> &'static str {
    match reason {
        Some(ReleaseReason::EarlyExit) => "here on an early exit",
        Some(ReleaseReason::Explicit) => "here where it is dropped",
        _ => "here at the end of the scope",
    }
}

/// `m.lock().unwrap().remove(&k);` → `let removed = m.lock().unwrap().remove(&k); drop(removed);`
/// when the dying value is the discarded result of the whole statement.
fn bind_then_drop_edit(program: &Program, run: &DeferredRun) -> Option<Vec<Edit>> {
    let Some(Slot::Temp(temp)) = run.slot else {
        return None;
    };
    // Binding the value helps only when every guard held is a temporary of the same
    // statement, gone at its `;`.
    let only_temporary_guards = run
        .held
        .iter()
        .all(|held| matches!(held.holder, Holder::Slot(Slot::Temp(_))));
    if run.reason != Some(ReleaseReason::StatementEnd)
        || !matches!(run.kind, RunKind::Drop { .. })
        || !only_temporary_guards
    {
        return None;
    }
    let body = program.body(run.owner);
    let temp = &body.temps[temp.index()];
    let Value::Call(call) = body.value(temp.value) else {
        return None;
    };
    let call = body.call(*call);
    // The dying value is the statement's own value, and the release point is its `;`.
    if !temp.statement_value
        || run.span.hi != run.span.lo + 1
        || run.span.lo != call.span.hi
        || run.span.file != call.span.file
    {
        return None;
    }
    let start = Span::new(call.span.file, call.span.lo, call.span.lo);
    Some(vec![
        Edit {
            span: start,
            replacement: "let removed = ".to_string(),
        },
        Edit {
            span: run.span,
            replacement: "; drop(removed);".to_string(),
        },
    ])
}
