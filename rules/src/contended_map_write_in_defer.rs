//! `contended-map-write-in-defer` (pedantic): every task spawned in a loop runs deferred code
//! that locks one map's lock.

use std::collections::HashSet;

use deferlint_core::analysis::deferred::DeferredRoot;
use deferlint_core::analysis::locks::LockOp;
use deferlint_core::diagnostic::{Diagnostic, Label};
use deferlint_core::graph::alias::{ClassId, Location};
use deferlint_core::graph::calls::{EdgeKind, SpawnSiteId};
use deferlint_core::model::facts::{LocalId, Value};
use deferlint_core::model::modules::FunctionId;
use deferlint_core::model::{CallTarget, LibCall, MapOpKind};
use deferlint_core::source::Language;

use crate::Context;
use crate::wording::{call_head, lock_method_name, registration_labels};

crate::declare_rule! {
    /// ### What it does
    /// Finds deferred code — a `Drop` body, a defer guard, a Go `defer`, and what they call —
    /// that locks a map's lock (a `Mutex` or `RwLock` whose type holds a map; in Go, a mutex
    /// under which the deferred code writes a map), when the code runs in every task of a
    /// spawn inside a loop and all those tasks lock the same lock: each task creates a guard
    /// (or defers a call) that cleans up one shared `Mutex<HashMap>`.
    ///
    /// ### Why is this bad?
    /// It is correct, but it does not scale: every task ends by queueing on one lock, so the
    /// cleanup of N tasks runs one at a time, and a slow critical section anywhere in the
    /// program stalls them all. At shutdown, when every task ends at once, the contention is
    /// at its worst.
    ///
    /// ### Example
    /// ```rust
    /// for id in 0..workers {
    ///     let active = Arc::clone(&active);
    ///     thread::spawn(move || {
    ///         let _slot = Slot { id, active }; // `Drop` locks `active` and removes `id`
    ///         work(id);
    ///     });
    /// }
    /// ```
    ///
    /// ### Use instead
    /// A sharded map (`DashMap`), whose writes to different keys mostly take different
    /// locks; or send the key to one owner task over a channel and let it do the removals.
    ///
    /// ### Known limitations
    /// This is a pedantic rule, allowed by default: contention matters only when there are
    /// many tasks. The tasks must be spawned in a loop (or by an iterator's closure) of the
    /// crate or package, and share the lock visibly: a variable they capture whose object
    /// the spawning function holds outside the loop, or a static. A lock made per iteration
    /// is not reported, nor a lock picked from an array of shards, nor a lock kept in a
    /// `thread_local!`, nor tasks joined (or awaited) in the iteration that spawns them. A
    /// join written inside a macro's arguments (`println!("{}", h.join()..)`) is not seen,
    /// and the number of iterations is not evaluated (`for _ in 0..1`).
    pub static CONTENDED_MAP_WRITE_IN_DEFER = {
        name: "contended-map-write-in-defer",
        category: Pedantic,
        languages: [Rust, Go],
        summary: "every task spawned in a loop locks one map's lock in deferred code: consider a sharded map",
    };
}

fn diagnostic(
    context: &Context<'_>,
    op: &LockOp,
    root: DeferredRoot,
    site: SpawnSiteId,
) -> Diagnostic {
    let program = context.program;
    let analyses = context.analyses;
    let lock = program.value_text(op.owner, op.receiver);
    let data = &analyses.calls.spawn_sites[site.0 as usize];
    let (tasks, sharded) = match program.language {
        Language::Go => (
            "goroutine",
            "a sharded map (several maps, each with its own mutex, picked by key hash)",
        ),
        Language::Rust => ("task", "a sharded map such as `DashMap`"),
    };
    let method = match program.language {
        Language::Go => "Lock",
        Language::Rust => lock_method_name(op),
    };
    let mut diagnostic = Diagnostic::new(
        CONTENDED_MAP_WRITE_IN_DEFER.name,
        context.severity,
        format!(
            "every {tasks} spawned in this loop locks `{lock}` in deferred code: they contend for one lock"
        ),
        Label::new(
            op.span,
            format!("each {tasks} waits here for `{lock}` while the others clean up"),
        ),
    )
    .with_label(Label::new(
        call_head(program, data.spawner, data.call),
        format!("many {tasks}s are spawned here, each with its own deferred cleanup"),
    ));
    for label in registration_labels(program, analyses, root) {
        diagnostic = diagnostic.with_label(label);
    }
    diagnostic
        .with_note(format!(
            "the deferred code runs at the end of every {tasks}; each `{method}` of the shared `{lock}` waits for all the others, so the cleanups run one at a time, all at once at shutdown"
        ))
        .with_help(format!(
            "use {sharded}, so that cleanups of different keys take different locks, or send the keys to one owner {tasks} over a channel"
        ))
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    let analyses = context.analyses;
    let mut diagnostics = Vec::new();
    let mut seen = HashSet::new();
    for op in &analyses.locks.ops {
        if !op.blocks()
            || op.flavor.is_borrow()
            || op.flavor.is_async()
            || !context.reports_in(op.function)
            || context.deferred_reach(op.function).is_none()
            || !writes_map(context, op)
        {
            continue;
        }
        let Some(class) = op.class else { continue };
        if context.is_thread_local_object(class) {
            continue;
        }
        let sharing = analyses.tasks.sites_touching(class);
        for reach in analyses.deferred.reaches(op.function) {
            if reach.depth > crate::MAX_DEFERRED_DEPTH || !context.reports_in(reach.root.function())
            {
                continue;
            }
            let site = context
                .running_places(reach.root)
                .into_iter()
                .flat_map(|function| {
                    analyses
                        .tasks
                        .sites_running(function)
                        .iter()
                        .map(move |&site| (function, site))
                })
                .find(|&(function, site)| {
                    !joined_in_same_iteration(context, site)
                        && sharing.contains(&site)
                        && runs_once_per_task(context, function, site)
                        && (analyses.calls.spawn_sites[site.0 as usize].in_loop
                            && one_object_for_every_task(context, op, site)
                            || spawned_through_helper_in_loop(context, op, site))
                })
                .map(|(_, site)| site);
            if let Some(site) = site {
                if seen.insert(op.span) {
                    diagnostics.push(diagnostic(context, op, reach.root, site));
                }
                break;
            }
        }
    }
    diagnostics
}

/// The tasks of the loop lock one object, not one each: the lock is in a static, or the
/// tasks capture a variable holding it (or the object it is a field of) whose object the
/// spawning function already holds outside the loop — a parameter, or a `let` before the loop
/// (`let active = Arc::clone(&active)` in the loop is the same object as the one before it).
/// Fields and allocation sites stand for every object of their kind, so a lock made per
/// iteration would otherwise look shared.
fn one_object_for_every_task(context: &Context<'_>, op: &LockOp, site: SpawnSiteId) -> bool {
    let program = context.program;
    let analyses = context.analyses;
    let aliases = &analyses.aliases;
    let Some(class) = op.class else {
        return false;
    };
    if !aliases.statics_of(class).is_empty() {
        return true;
    }
    let chain = lock_chain(context, op, class);
    let wanted = |candidate: ClassId| chain.contains(&candidate);
    let data = &analyses.calls.spawn_sites[site.0 as usize];
    let spawner = program.function(data.spawner).owner;
    let captured: Vec<ClassId> = {
        let body_id = program.function(spawner).body;
        data.bodies
            .iter()
            .filter(|&&body| program.function(body).owner == spawner)
            .flat_map(|&body| program.fact(body).captures.iter().copied())
            .filter_map(|local| aliases.class_of_location(&Location::Local(body_id, local)))
            .filter(|&candidate| wanted(candidate))
            .collect()
    };
    !captured.is_empty() && held_outside_loops(context, spawner, &captured)
}

/// The classes of the lock and of every object on the way to it (`self.state.active`:
/// `self.state`, `self`).
fn lock_chain(context: &Context<'_>, op: &LockOp, class: ClassId) -> Vec<ClassId> {
    let program = context.program;
    let aliases = &context.analyses.aliases;
    let body = program.body(op.owner);
    let mut chain = vec![class];
    let mut place = op.receiver;
    for _ in 0..8 {
        place = match body.value(place) {
            Value::Field { base, .. }
            | Value::Ref { inner: base, .. }
            | Value::Deref(base)
            | Value::Index { base } => *base,
            _ => break,
        };
        chain.extend(aliases.class_of(program, op.owner, place));
    }
    chain
}

/// A local of the function's arena, declared outside any loop, holds one of the objects.
fn held_outside_loops(context: &Context<'_>, owner: FunctionId, classes: &[ClassId]) -> bool {
    let program = context.program;
    let aliases = &context.analyses.aliases;
    let body_id = program.function(owner).body;
    program
        .body(owner)
        .locals
        .iter()
        .enumerate()
        .filter(|(_, local)| !local.in_loop)
        .filter_map(|(index, _)| {
            aliases.class_of_location(&Location::Local(body_id, LocalId::from_index(index)))
        })
        .any(|candidate| classes.contains(&candidate))
}

/// The spawn sits in a helper of the crate (`fn spawn_worker(active: ..)`) that a loop calls,
/// handing it the lock's object held outside that loop: every call starts a task.
fn spawned_through_helper_in_loop(context: &Context<'_>, op: &LockOp, site: SpawnSiteId) -> bool {
    let program = context.program;
    let analyses = context.analyses;
    let aliases = &analyses.aliases;
    let Some(class) = op.class else {
        return false;
    };
    let chain = lock_chain(context, op, class);
    let spawner = analyses.calls.spawn_sites[site.0 as usize].spawner;
    analyses.calls.edges_to(spawner).any(|(caller, kind)| {
        let EdgeKind::Call(call) = kind else {
            return false;
        };
        let caller_owner = program.function(caller).owner;
        let fact = program.body(caller_owner).call(call);
        if !fact.in_loop {
            return false;
        }
        let handed: Vec<ClassId> = fact
            .args
            .iter()
            .filter_map(|&arg| aliases.class_of(program, caller_owner, arg))
            .filter(|candidate| chain.contains(candidate))
            .collect();
        !handed.is_empty() && held_outside_loops(context, caller_owner, &handed)
    })
}

/// `thread::spawn(..).join()`, `tokio::spawn(..).await`, or a handle bound in the loop and
/// joined there: each iteration waits for its task, so the tasks run one after another.
fn joined_in_same_iteration(context: &Context<'_>, site: SpawnSiteId) -> bool {
    use deferlint_core::analysis::index::Consumer;
    let program = context.program;
    let data = &context.analyses.calls.spawn_sites[site.0 as usize];
    let owner = program.function(data.spawner).owner;
    let body = program.body(owner);
    let index = &context.analyses.indexes[program.function(owner).body.0 as usize];
    let Some(value) = index.call_value[data.call.index()] else {
        return false;
    };
    let joins =
        |value: deferlint_core::model::facts::ValueId| {
            index.consumers[value.index()].iter().any(|consumer| match consumer {
            Consumer::Await(_) => true,
            Consumer::Receiver(call) => matches!(
                &body.call(*call).callee,
                deferlint_core::model::facts::Callee::Method { name, .. } if &**name == "join"
            ),
            _ => false,
        })
        };
    joins(value)
        || index.consumers[value.index()]
            .iter()
            .any(|consumer| match consumer {
                Consumer::Init(local) => {
                    body.local(*local).in_loop
                        && index.local_uses[local.index()]
                            .iter()
                            .any(|&used| joins(used))
                }
                _ => false,
            })
}

/// The deferred code is registered (or its value dies) in the task's own body, or in a
/// function that body calls directly: it runs once per task.
fn runs_once_per_task(context: &Context<'_>, place: FunctionId, site: SpawnSiteId) -> bool {
    let calls = &context.analyses.calls;
    let bodies = &calls.spawn_sites[site.0 as usize].bodies;
    bodies.contains(&place)
        || calls
            .edges_to(place)
            .any(|(caller, kind)| matches!(kind, EdgeKind::Call(_)) && bodies.contains(&caller))
}

/// The lock guards a map: its type says so (Rust), or the function that takes it writes a map
/// (Go, where a mutex does not name what it guards).
fn writes_map(context: &Context<'_>, op: &LockOp) -> bool {
    let program = context.program;
    let protects_map = program
        .types
        .lock(program.value_ty(op.owner, op.receiver))
        .is_some_and(|(_, _, inner)| program.types.map(inner).is_some());
    if protects_map {
        return true;
    }
    program.own_calls(op.function).any(|(call, _)| {
        matches!(
            program.call_target(op.owner, call),
            CallTarget::Lib(LibCall::Map { kind, .. }) if kind != MapOpKind::Read
        )
    })
}
