//! `async-lock-in-defer`: an async lock (tokio, async-std, futures) taken in deferred code, where
//! nothing can `.await` it: `blocking_lock()` and `block_on(m.lock())` panic inside a runtime,
//! `try_lock()` skips the write whenever another task holds the lock.

use deferlint_core::analysis::deferred::DeferredRoot;
use deferlint_core::analysis::index::Consumer;
use deferlint_core::analysis::locks::{Handling, LockOp};
use deferlint_core::diagnostic::{Diagnostic, Label};
use deferlint_core::graph::calls::EdgeKind;
use deferlint_core::model::LockAttempt;
use deferlint_core::model::facts::{Callee, FnKind};
use deferlint_core::model::modules::FunctionId;

use crate::Context;
use crate::wording::{
    call_path_note, lock_method_name as method_name, registration_labels, spawn_labels,
    when_it_runs,
};

crate::declare_rule! {
    /// ### What it does
    /// Finds an async lock (`tokio::sync::Mutex`/`RwLock`, async-std's, futures') taken in
    /// deferred code — a `Drop::drop` body, a `defer!` body, a scope guard's closure and the
    /// functions they call — where it cannot be awaited:
    /// - `blocking_lock()`, `blocking_read()`, `blocking_write()`, or `block_on(m.lock())`, in
    ///   deferred code that runs inside async code (the value is dropped in an `async fn` or
    ///   an `async` block, or in a function they call);
    /// - `try_lock()` (`try_read`, `try_write`) on a lock of a map that other tasks share.
    ///
    /// ### Why is this bad?
    /// `Drop` cannot `.await`. tokio's `blocking_lock` panics when called from a runtime
    /// thread ("Cannot block the current thread from within a runtime"), and
    /// `Handle::block_on` panics the same way; `futures::executor::block_on` on a runtime
    /// thread can hang it. `try_lock` does not wait: whenever another task holds the lock,
    /// even for a moment, it fails and the cleanup is skipped without a trace — an entry that
    /// is never removed, a map that grows forever. `try_lock().unwrap()` panics instead.
    ///
    /// ### Example
    /// ```rust
    /// impl Drop for Lease {
    ///     fn drop(&mut self) {
    ///         if let Ok(mut active) = self.active.try_lock() {
    ///             active.remove(&self.id); // skipped whenever another task holds `active`
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// ### Use instead
    /// Hand the cleanup to async code that can wait for the lock: send the key over a channel
    /// to the task that owns the map (confinement), or spawn the cleanup as a task of its own
    /// when a runtime is there:
    /// ```rust
    /// impl Drop for Lease {
    ///     fn drop(&mut self) {
    ///         let (active, id) = (Arc::clone(&self.active), self.id);
    ///         tokio::spawn(async move { active.lock().await.remove(&id); });
    ///     }
    /// }
    /// ```
    /// A map whose critical sections never `.await` can use `std::sync::Mutex` instead, which
    /// `Drop` can lock. None of these is offered as an automatic edit: each needs an owned
    /// handle to the map, and the task or channel changes when the cleanup happens.
    ///
    /// ### Known limitations
    /// Whether deferred code runs inside async code is decided from where the crate's code is
    /// seen to drop the value (or, when no drop is seen, to hold it) and the functions that
    /// call those places: a value dropped by code of another crate (an executor dropping a
    /// future) is not seen. Code that checks for a runtime first (`Handle::try_current()` in the same
    /// function) or blocks inside `block_in_place` is not reported. A `try_lock` retried in a loop, or with a fallback that spawns a task in the same
    /// function, is not reported. Locks whose type cannot be seen are not recognised. A
    /// `try_lock` is reported when the lock protects a map, directly or in a field of the
    /// struct it protects, and a spawned task or a static shares the lock.
    pub static ASYNC_LOCK_IN_DEFER = {
        name: "async-lock-in-defer",
        category: Suspicious,
        languages: [Rust],
        summary: "an async lock in deferred code: `blocking_lock` panics inside a runtime, `try_lock` silently skips the write",
    };
}

/// What goes wrong with one acquisition.
enum Hazard {
    /// `blocking_*` or `block_on(lock())` in code that runs inside async code: `witness` is an
    /// async function on the way.
    BlocksInRuntime { witness: FunctionId, block_on: bool },
    /// `try_lock` on a shared lock: the write is skipped under contention (or, unwrapped, the
    /// drop panics).
    SkippedUnderContention { unwrapped: bool },
}

fn diagnostic(context: &Context<'_>, op: &LockOp, hazard: Hazard) -> Option<Diagnostic> {
    let program = context.program;
    let analyses = context.analyses;
    let root = context.deferred_reach(op.function)?.root;
    let lock = program.value_text(op.owner, op.receiver);
    let method = method_name(op);
    let mut diagnostic = match hazard {
        Hazard::BlocksInRuntime { witness, block_on } => {
            let (what, panic) = if block_on {
                (
                    format!("`block_on({lock}.{method}())`"),
                    "\"Cannot start a runtime from within a runtime\", or the worker thread blocks",
                )
            } else {
                (
                    format!("`{method}()`"),
                    "\"Cannot block the current thread from within a runtime\"",
                )
            };
            Diagnostic::new(
                ASYNC_LOCK_IN_DEFER.name,
                context.severity,
                format!("{what} in deferred code that runs inside async code panics"),
                Label::new(op.span, format!("this panics on a runtime thread: {panic}")),
            )
            .with_label(Label::new(
                program.fact(witness).span,
                format!(
                    "the deferred code runs here, in async code: `{}`",
                    program.function_name(witness)
                ),
            ))
        }
        Hazard::SkippedUnderContention { unwrapped } => {
            let consequence = if unwrapped {
                "panics"
            } else {
                "fails and the write is skipped"
            };
            let mut diagnostic = Diagnostic::new(
                ASYNC_LOCK_IN_DEFER.name,
                context.severity,
                format!(
                    "`{method}()` in deferred code {} whenever another task holds `{lock}`",
                    if unwrapped {
                        "panics"
                    } else {
                        "skips the write"
                    }
                ),
                Label::new(
                    op.span,
                    format!("{consequence} if another task holds `{lock}` at this moment"),
                ),
            );
            let class = op.class?;
            let sites = analyses.tasks.sites_touching(class);
            for label in spawn_labels(program, analyses, &sites, &format!("`{lock}`")) {
                diagnostic = diagnostic.with_label(label);
            }
            if let Some(&first) = analyses.aliases.statics_of(class).first() {
                let item = program.static_item(first);
                diagnostic = diagnostic.with_label(Label::new(
                    item.span,
                    format!("`{}` is a static, shared by every task", item.name),
                ));
            }
            diagnostic
        }
    };
    for label in registration_labels(program, analyses, root) {
        diagnostic = diagnostic.with_label(label);
    }
    diagnostic = diagnostic.with_note(format!(
        "{}; it cannot `.await`, so an async lock can only be taken without waiting there",
        when_it_runs(program, analyses, root)
    ));
    if let Some(note) = call_path_note(program, analyses, op.function, root) {
        diagnostic = diagnostic.with_note(note);
    }
    Some(diagnostic
        .with_help(format!(
            "hand the cleanup to async code that can wait for `{lock}`: send the key over a channel to the task that owns the map, or spawn it as a task with an owned handle (`let map = Arc::clone(&{lock}); tokio::spawn(async move {{ map.lock().await.remove(&key); }});`); if no critical section of `{lock}` awaits, a `std::sync::Mutex` can be locked in `Drop`"
        ))
        .with_note("no automatic edit: moving the cleanup into a task or a channel needs an owned handle to the map and changes when the cleanup happens"))
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    let analyses = context.analyses;
    let mut diagnostics = Vec::new();
    for op in &analyses.locks.ops {
        if !op.flavor.is_async() || !context.reports_in(op.function) {
            continue;
        }
        let Some(reach) = context.deferred_reach(op.function) else {
            continue;
        };
        let hazard = match op.attempt {
            LockAttempt::BlockingInAsync if !guards_against_runtime(context, op) => {
                runs_in_async_code(context, reach.root).map(|witness| Hazard::BlocksInRuntime {
                    witness,
                    block_on: false,
                })
            }
            LockAttempt::Blocking
                if handed_to_block_on(context, op) && !guards_against_runtime(context, op) =>
            {
                runs_in_async_code(context, reach.root).map(|witness| Hazard::BlocksInRuntime {
                    witness,
                    block_on: true,
                })
            }
            LockAttempt::Try if contended(context, op) && !has_fallback(context, op) => {
                Some(Hazard::SkippedUnderContention {
                    unwrapped: matches!(op.handling, Handling::Unwrap(_) | Handling::Expect(_)),
                })
            }
            _ => None,
        };
        if let Some(hazard) = hazard {
            diagnostics.extend(diagnostic(context, op, hazard));
        }
    }
    diagnostics
}

/// The code checks for a runtime before blocking (`Handle::try_current()` in the function
/// that blocks), or blocks inside `block_in_place`, which leaves the runtime's context.
fn guards_against_runtime(context: &Context<'_>, op: &LockOp) -> bool {
    context.calls_path_named(op.function, "try_current")
        || handed_to_block_in_place(context, op.function)
}

/// A closure passed to `tokio::task::block_in_place`.
fn handed_to_block_in_place(context: &Context<'_>, function: FunctionId) -> bool {
    let program = context.program;
    let owner = program.function(function).owner;
    if owner == function {
        return false;
    }
    let body = program.body(owner);
    let file = program.function(owner).file;
    body.calls.iter().any(|call| {
        matches!(&call.callee, Callee::Path(path) if path.last() == "block_in_place")
            && call.args.iter().any(|&arg| {
                deferlint_core::graph::calls::closure_of(body, arg)
                    .is_some_and(|closure| program.function_id(file, closure) == function)
            })
    })
}

/// The lock call's future is handed to a `block_on`.
fn handed_to_block_on(context: &Context<'_>, op: &LockOp) -> bool {
    let program = context.program;
    let body = program.body(op.owner);
    let index = &context.analyses.indexes[program.function(op.owner).body.0 as usize];
    let Some(value) = index.call_value[op.call.index()] else {
        return false;
    };
    index.consumers[value.index()]
        .iter()
        .any(|consumer| match consumer {
            Consumer::Argument(call, _) => match &body.call(*call).callee {
                Callee::Method { name, .. } => &**name == "block_on",
                Callee::Path(path) => path.last() == "block_on",
                Callee::Dynamic(_) => false,
            },
            _ => false,
        })
}

/// A lock of a map that another task or a static shares: `try_lock` meets contention.
fn contended(context: &Context<'_>, op: &LockOp) -> bool {
    let program = context.program;
    let analyses = context.analyses;
    let Some(class) = op.class else {
        return false;
    };
    if context.is_thread_local_object(class) {
        return false;
    }
    let receiver_ty = program.value_ty(op.owner, op.receiver);
    let protects_map = program
        .types
        .lock(receiver_ty)
        .is_some_and(|(_, _, inner)| program.holds_map(inner));
    protects_map
        && (!analyses.aliases.statics_of(class).is_empty()
            || !analyses.tasks.sites_touching(class).is_empty())
}

/// The function that tries the lock also spawns a task or sends on a channel (the usual
/// fallbacks: do it later, asynchronously, or let the owner do it), or tries inside a loop (a
/// retry).
fn has_fallback(context: &Context<'_>, op: &LockOp) -> bool {
    let program = context.program;
    let spawns = context
        .analyses
        .calls
        .edges_from(op.function)
        .any(|(_, kind)| matches!(kind, EdgeKind::Spawn(_)));
    let sends = program.own_calls(op.function).any(|(_, call)| {
        matches!(&call.callee, Callee::Method { name, .. }
            if matches!(&**name, "send" | "try_send" | "unbounded_send" | "blocking_send" | "send_replace"))
    });
    spawns || sends || in_loop(&program.fact(op.function).nodes, op)
}

fn in_loop(nodes: &[deferlint_core::model::facts::Node], op: &LockOp) -> bool {
    use deferlint_core::model::facts::{Event, Node};
    fn contains(nodes: &[Node], op: &LockOp) -> bool {
        nodes.iter().any(|node| match node {
            Node::Event(Event::Call(call)) => *call == op.call,
            Node::Event(_) => false,
            Node::Branch(arms) => arms.iter().any(|arm| contains(arm, op)),
            Node::Loop(body) => contains(body, op),
        })
    }
    nodes.iter().any(|node| match node {
        Node::Event(_) => false,
        Node::Branch(arms) => arms.iter().any(|arm| in_loop(arm, op)),
        Node::Loop(body) => contains(body, op),
    })
}

/// How many callers up the deferred code's running place is searched for async code.
const ASYNC_SEARCH_DEPTH: u32 = 4;

/// An async function or block in which the deferred code runs: where the guard is registered
/// (a defer), or where a value of the type is dropped (a `Drop`), or a function that calls
/// those, up to [`ASYNC_SEARCH_DEPTH`] calls.
fn runs_in_async_code(context: &Context<'_>, root: DeferredRoot) -> Option<FunctionId> {
    let analyses = context.analyses;
    let mut starts: Vec<FunctionId> = context.running_places(root);
    // `Drop::drop` called by name from a function of the crate.
    if let DeferredRoot::Drop(_, drop_fn) = root {
        starts.extend(
            analyses
                .calls
                .edges_to(drop_fn)
                .filter(|(_, kind)| matches!(kind, EdgeKind::Call(_)))
                .map(|(caller, _)| caller),
        );
    }
    let mut seen = std::collections::HashSet::new();
    let mut frontier = starts;
    for _ in 0..=ASYNC_SEARCH_DEPTH {
        let mut next = Vec::new();
        for function in frontier {
            if !seen.insert(function) {
                continue;
            }
            if is_async_code(context, function) {
                return Some(function);
            }
            // A spawned closure runs on a task of its own: its spawner's context is not its;
            // a closure given to `block_in_place` runs outside the runtime's context.
            if analyses
                .calls
                .spawn_sites
                .iter()
                .any(|site| site.bodies.contains(&function))
                || handed_to_block_in_place(context, function)
            {
                continue;
            }
            next.extend(
                analyses
                    .calls
                    .edges_to(function)
                    .filter(|(_, kind)| {
                        matches!(
                            kind,
                            EdgeKind::Call(_) | EdgeKind::ImplicitDrop | EdgeKind::Closure
                        )
                    })
                    .map(|(caller, _)| caller),
            );
        }
        frontier = next;
    }
    None
}

fn is_async_code(context: &Context<'_>, function: FunctionId) -> bool {
    let fact = context.program.fact(function);
    fact.is_async || matches!(fact.kind, FnKind::AsyncBlock { .. })
}
