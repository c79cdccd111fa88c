//! Deferred code that takes again a lock, a `RefCell` borrow or a sharded map's shard that is
//! still held where it runs: what `lock-reentered-in-defer`, `refcell-map-borrow-in-defer` and
//! `sharded-map-ref-held-at-defer` share.

use std::collections::HashSet;

use deferlint_core::analysis::lock_state::{DeferredRun, Holder, RunKind};
use deferlint_core::analysis::locks::LockOp;
use deferlint_core::diagnostic::Edit;
use deferlint_core::model::facts::{FnKind, ReleaseReason, SelfKind, Slot, Value, ValueId};
use deferlint_core::model::modules::FunctionId;
use deferlint_core::model::types::TyKind;
use deferlint_core::model::{LockMode, Program};
use deferlint_core::source::Span;

use crate::Context;

/// Deferred code taking a lock (or borrow, or shard) that is held where the code runs.
pub(crate) struct Reentry<'a> {
    pub run: &'a DeferredRun,
    /// The acquisition in the deferred code.
    pub inner: &'a LockOp,
    /// The acquisition whose guard is held.
    pub held: &'a LockOp,
    pub holder: Holder,
}

/// Every deferred run that takes again what a guard held at that point holds: same object
/// (alias class), modes that conflict, not a lock of the dying value itself. `inner_ok` and
/// `held_ok` choose the kind of acquisition (locks, borrows, shards). One per deferred
/// acquisition and registration.
pub(crate) fn reentries<'a>(
    context: &Context<'a>,
    inner_ok: impl Fn(&LockOp) -> bool,
    held_ok: impl Fn(&LockOp) -> bool,
) -> Vec<Reentry<'a>> {
    let program = context.program;
    let analyses = context.analyses;
    let mut found = Vec::new();
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
                if !inner_ok(inner) || is_instance_lock(program, inner, &owned_types) {
                    continue;
                }
                for held in &run.held {
                    let held_op = analyses.locks.get(held.lock);
                    if held_op.class.is_none()
                        || held_op.class != inner.class
                        || !conflicts(held_op.mode, inner.mode)
                        || !held_ok(held_op)
                    {
                        continue;
                    }
                    if seen.insert((inner.span, registration_span(context, run))) {
                        found.push(Reentry {
                            run,
                            inner,
                            held: held_op,
                            holder: held.holder,
                        });
                    }
                }
            }
        }
    }
    found
}

/// Two acquisitions of one `RwLock` deadlock unless both read.
pub(crate) fn conflicts(held: LockMode, wanted: LockMode) -> bool {
    !(held == LockMode::Read && wanted == LockMode::Read)
}

pub(crate) fn registration_span(context: &Context<'_>, run: &DeferredRun) -> Span {
    match &run.kind {
        RunKind::DeferGuard(site) => context.analyses.calls.defer_sites[site.0 as usize].span,
        _ => run.origin,
    }
}

pub(crate) fn root_of(context: &Context<'_>, run: &DeferredRun, inner: &LockOp) -> FunctionId {
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
pub(crate) fn drop_types(program: &Program, runs: &[FunctionId]) -> String {
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
pub(crate) fn dropped_owner_types(
    program: &Program,
    runs: &[FunctionId],
) -> Vec<deferlint_core::model::types::AdtId> {
    runs.iter()
        .filter_map(|&function| program.function(function).drop_for)
        .collect()
}

/// A lock on `self.a.b` (fields owned inline, no `Arc` or reference on the way) in a method of
/// one of the dying types.
pub(crate) fn is_instance_lock(
    program: &Program,
    op: &LockOp,
    owned_types: &[deferlint_core::model::types::AdtId],
) -> bool {
    is_instance_place(program, op.function, op.owner, op.receiver, owned_types)
}

/// A place `self.a.b` (fields owned inline) in a method of one of the dying types: part of the
/// dying value itself.
pub(crate) fn is_instance_place(
    program: &Program,
    function_id: FunctionId,
    owner: FunctionId,
    place: ValueId,
    owned_types: &[deferlint_core::model::types::AdtId],
) -> bool {
    if owned_types.is_empty() {
        return false;
    }
    let function = program.function(function_id);
    let is_method_with_self = matches!(
        program.fact(function_id).kind,
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
    owned_path_from_self(program, owner, place, 0)
}

pub(crate) fn owned_path_from_self(
    program: &Program,
    owner: FunctionId,
    value: ValueId,
    depth: u32,
) -> bool {
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

pub(crate) fn holder_name(program: &Program, owner: FunctionId, holder: Holder) -> String {
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
        Holder::Returned(_) => "the return value".to_string(),
        Holder::Within(_) => "the call that drops the values".to_string(),
    }
}

pub(crate) fn release_phrase(reason: Option<ReleaseReason>) -> &'static str {
    match reason {
        Some(ReleaseReason::EarlyExit) => "here on an early exit",
        Some(ReleaseReason::Explicit) => "here where it is dropped",
        _ => "here at the end of the scope",
    }
}

/// `m.lock().unwrap().remove(&k);` → `let removed = m.lock().unwrap().remove(&k); drop(removed);`
/// when the dying value is the discarded result of the whole statement.
pub(crate) fn bind_then_drop_edit(program: &Program, run: &DeferredRun) -> Option<Vec<Edit>> {
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

/// What a rule says about one reentry; the rest (where the deferred code runs, who holds the
/// guard, the bind-then-drop edit) is shared.
pub(crate) struct ReentryWording {
    pub message: String,
    /// On the acquisition in the deferred code.
    pub primary: String,
    /// On the acquisition whose guard is held.
    pub held: String,
    /// What the dying value's `Drop` does, after "this value's `Drop` (`T`)": `locks `m``.
    pub drop_does: String,
    /// Where the deferred code runs, after "here that is": `inside the critical section of
    /// `m``.
    pub while_held: String,
    /// What the callee does, before "in `f`, which the deferred code calls": `the lock is
    /// taken`.
    pub callee_does: String,
    /// Why the reentry fails, when that is not already said.
    pub why: Option<String>,
    /// The fix for a defer guard declared too late.
    pub help_defer: String,
    /// The fix for a value dropped too early, when no mechanical edit applies.
    pub help_drop: String,
}

/// A finding for one reentry, labelled like every other: the held acquisition, where the
/// deferred code was registered or the dying value made, where it runs, and the callee that
/// takes the lock; with the bind-then-drop edit when the dying value is a statement's result.
pub(crate) fn reentry_diagnostic(
    context: &Context<'_>,
    rule: &'static str,
    reentry: &Reentry<'_>,
    wording: ReentryWording,
) -> deferlint_core::diagnostic::Diagnostic {
    use deferlint_core::diagnostic::{Applicability, Diagnostic, Label};
    let program = context.program;
    let analyses = context.analyses;
    let run = reentry.run;
    let guard_name = holder_name(program, run.owner, reentry.holder);
    let mut diagnostic = Diagnostic::new(
        rule,
        context.severity,
        wording.message,
        Label::new(reentry.inner.span, wording.primary),
    );
    let returned = matches!(reentry.holder, Holder::Returned(_));
    let within = matches!(reentry.holder, Holder::Within(_));
    if reentry.held.span != reentry.inner.span && !returned && !within {
        diagnostic = diagnostic.with_label(Label::new(reentry.held.span, wording.held.clone()));
    }
    let when = match &run.kind {
        RunKind::DeferGuard(site) => {
            let site = &analyses.calls.defer_sites[site.0 as usize];
            let what = match site.kind {
                deferlint_core::graph::calls::DeferKind::Macro => "this deferred body",
                deferlint_core::graph::calls::DeferKind::Guard => "this scope guard",
            };
            diagnostic = diagnostic.with_label(Label::new(
                site.span,
                format!(
                    "{what} is declared after {guard_name}, so it runs first, {}",
                    wording.while_held
                ),
            ));
            format!(
                "locals are dropped in reverse declaration order: a defer guard declared after {guard_name} runs before {guard_name} is dropped, {}",
                release_phrase(run.reason)
            )
        }
        RunKind::Drop { .. } | RunKind::MapValuesDropped | RunKind::AwaitedFuture => {
            let type_names = drop_types(program, &run.runs);
            if run.origin != Span::default() && run.origin != run.span {
                diagnostic = diagnostic.with_label(Label::new(
                    run.origin,
                    format!("this value's `Drop` ({type_names}) {}", wording.drop_does),
                ));
            }
            let where_text = match (&run.kind, run.reason) {
                (RunKind::AwaitedFuture, _) => format!(
                    "the future is dropped as its `.await` completes, while {} holds its output",
                    guard_name
                ),
                (RunKind::MapValuesDropped, _) if within => {
                    "the map drops its values here, inside the call, with their shard locked"
                        .to_string()
                }
                (RunKind::MapValuesDropped, _) => {
                    format!("the map drops its values here, {}", wording.while_held)
                }
                (_, Some(ReleaseReason::StatementEnd)) => {
                    format!("the temporary is dropped here, before {guard_name}")
                }
                (_, Some(ReleaseReason::Explicit)) => {
                    format!("the value is dropped here, {}", wording.while_held)
                }
                (_, Some(ReleaseReason::Overwritten)) => {
                    format!("the old value is dropped here, {}", wording.while_held)
                }
                _ if returned => {
                    format!("the value is dropped here, after {guard_name} was made")
                }
                _ => format!("the value is dropped here, before {guard_name}"),
            };
            diagnostic = diagnostic.with_label(Label::new(run.span, where_text));
            format!(
                "`Drop` for {type_names} runs where the value dies; here that is {}{}",
                wording.while_held,
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
            )
        }
    };
    if reentry.inner.function != root_of(context, run, reentry.inner) {
        diagnostic = diagnostic.with_note(format!(
            "{} in `{}`, which the deferred code calls",
            wording.callee_does,
            program.function_name(reentry.inner.function)
        ));
    }
    match reentry.holder {
        Holder::Caller(caller) => {
            diagnostic = diagnostic.with_note(format!(
                "every call of `{}` is made {}, by `{}` among others",
                program.function_name(run.function),
                wording.while_held,
                program.function_name(caller)
            ));
        }
        Holder::Returned(span) => {
            diagnostic = diagnostic.with_label(Label::new(
                span,
                format!(
                    "{} and is returned: it is still alive when the function's locals are dropped",
                    wording.held
                ),
            ));
        }
        Holder::Within(_) => {}
        Holder::Slot(_) => {}
    }
    if within {
        if let Some(why) = wording.why {
            diagnostic = diagnostic.with_note(why);
        }
        return diagnostic.with_help("take the values out before they die: collect the keys, `remove` each one and drop the returned values after the loop, instead of letting `retain` or `clear` drop them while the shard is locked");
    }
    diagnostic = diagnostic.with_note(when);
    if let Some(why) = wording.why {
        diagnostic = diagnostic.with_note(why);
    }
    if let Some(edit) = bind_then_drop_edit(program, run) {
        return diagnostic.with_suggestion(
            "bind the removed value and drop it after the statement, when the guard is gone",
            edit,
            Applicability::MachineApplicable,
        );
    }
    match run.kind {
        RunKind::DeferGuard(_) => diagnostic.with_help(wording.help_defer),
        _ => diagnostic.with_help(wording.help_drop),
    }
}
