//! `unsync-map-write-in-defer`: a map without synchronisation written by deferred code that
//! runs in several threads or goroutines at once. Rust: maps shared through `static mut`, a raw
//! pointer or an `UnsafeCell`. Go: any map shared by goroutines.

use deferlint_core::analysis::deferred::DeferredRoot;
use deferlint_core::analysis::slots::Content;
use deferlint_core::diagnostic::{Diagnostic, Label};
use deferlint_core::graph::alias::ClassId;
use deferlint_core::graph::calls::SpawnSiteId;
use deferlint_core::model::facts::{CallId, Callee, Event, Node, StaticKind, Value, ValueId};
use deferlint_core::model::modules::{FunctionId, ItemRef, Resolved};
use deferlint_core::model::types::{LibTy, MapFlavor, TyKind};
use deferlint_core::model::{CallTarget, LibCall, MapOpKind, Program};
use deferlint_core::source::Span;

use deferlint_core::analysis::go_races::Race;

use crate::wording::{registration_labels, spawn_labels, when_it_runs};
use crate::{Context, go_wording};

crate::declare_rule! {
    /// ### What it does
    /// Go: finds a write to a map (`m[k] = v`, `m[k]++`, `delete(m, k)`, `h.Set(..)` on an
    /// `http.Header`...) in deferred code — a `defer func() { .. }()`, a deferred call such as
    /// `defer delete(m, k)` or `defer s.forget(id)`, or a function it calls — when other
    /// goroutines use the same map at the same time and no `sync.Mutex` (not `RLock`) is held
    /// by both: goroutines of a `go` statement in a loop, of two `go` statements, or a
    /// goroutine and its spawner before `wg.Wait()`. Defers run last-in-first-out, so
    /// `defer mu.Unlock()` registered after the deferred write still covers it, and one
    /// registered before does not. It also flags a deferred write that runs after the
    /// goroutine's `wg.Done()` while the spawner reads the map after `wg.Wait()`.
    ///
    /// Rust: finds writes to a map with no synchronisation of its own (`HashMap`, `BTreeMap`,
    /// `HashSet`, `IndexMap`...) inside deferred code — a `Drop::drop` body, a `defer!` body or
    /// a scope guard's closure, or a function they call — when the map is shared between
    /// threads without a lock: through a `static mut`, a raw pointer sent to other threads
    /// (directly or inside a wrapper with `unsafe impl Send`/`Sync`), or an `UnsafeCell` in a
    /// type with `unsafe impl Sync`, and the deferred code runs in two or more threads (two
    /// spawns, a spawn in a loop, or a spawned thread while the spawner still uses the map).
    ///
    /// ### Why is this bad?
    /// Go maps are not safe for concurrent use: the runtime stops the whole program with
    /// `fatal error: concurrent map writes` when it catches two goroutines at it, and a
    /// deferred write is easy to miss because it runs at the return, after the code that looks
    /// protected — often after `wg.Done()` has already let `wg.Wait()` return.
    ///
    /// In Rust, two threads writing one map at the same time is a data race: undefined
    /// behaviour. In
    /// practice entries are lost, the table is corrupted, and lookups loop forever or crash.
    /// Deferred code makes it easy to miss: the write sits in a `Drop` that runs wherever and
    /// whenever a value dies, in whichever thread drops it.
    ///
    /// ### Example
    /// ```go
    /// m := make(map[string]int)
    /// for _, key := range keys {
    ///     wg.Add(1)
    ///     go func(key string) {
    ///         defer func() { m[key] = len(key) }() // runs after Done, in every goroutine
    ///         wg.Done()
    ///     }(key)
    /// }
    /// wg.Wait()
    /// ```
    ///
    /// ```rust
    /// static mut LIVE: BTreeMap<u64, &str> = BTreeMap::new();
    ///
    /// impl Drop for Conn {
    ///     fn drop(&mut self) {
    ///         unsafe { (*addr_of_mut!(LIVE)).remove(&self.id) };
    ///     }
    /// }
    /// // two threads create and drop `Conn`s
    /// ```
    ///
    /// ### Use instead
    /// Go: lock a `sync.Mutex` around the write inside the deferred function, use `sync.Map`,
    /// or give each goroutine its own map and merge them after `wg.Wait()`.
    ///
    /// Rust: put the map behind a lock (`static LIVE: Mutex<BTreeMap<..>>`), use a sharded concurrent
    /// map (`DashMap`) when many threads write, or confine the map to one owner thread and send
    /// it the keys to remove over a channel.
    ///
    /// ### Known limitations
    /// Go: goroutines must be visible as `go` statements, `time.AfterFunc`, `wg.Go`/`g.Go` or
    /// handlers registered with `http.HandleFunc`; a map made by a call and only returned or
    /// used there (not handed to a goroutine, a field or another call first) is its own and is
    /// not reported; locks held by every caller count, locks a caller might hold through an
    /// interface call do not, so a function reached only through unseen callers is not
    /// reported. In `defer f(x)()` the call `f(x)` runs at the defer statement, as Go runs it;
    /// the function it returns, which runs deferred, is not followed, so a write it makes is
    /// missed.
    ///
    /// Rust: safe Rust cannot race on a map, so only maps reached through `static mut`, raw pointers
    /// or `UnsafeCell` are considered. The threads must be visible as spawns in the same crate;
    /// a map shared with threads started by another crate (a thread pool, a runtime) is not
    /// reported. Accesses are not ordered against `join`: a spawned thread plus the spawning
    /// function counts as two parties only when the spawner touches the map after the spawn
    /// and before any `join` (in the order the spawning function's code is written; a join
    /// in a branch counts). Deferred code that runs in the spawning thread itself (a value
    /// dropped there) races the spawned threads that touch the map when it runs after the
    /// spawn and before the join.
    pub static UNSYNC_MAP_WRITE_IN_DEFER = {
        name: "unsync-map-write-in-defer",
        category: Correctness,
        languages: [Rust, Go],
        summary: "a map without synchronisation is written by deferred code running in several threads: a data race",
    };
}

/// How the map is reached without a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UnsafeAccess {
    StaticMut,
    RawPointer,
    UnsafeCell,
}

/// Words one finding.
fn diagnostic(
    context: &Context<'_>,
    owner: FunctionId,
    call: CallId,
    map: ValueId,
    access: UnsafeAccess,
    root: DeferredRoot,
    sites: &[SpawnSiteId],
    spawner_races: Option<Span>,
) -> Diagnostic {
    let program = context.program;
    let analyses = context.analyses;
    let fact = program.body(owner).call(call);
    let map_name = program.value_text(owner, map);
    let method = match &fact.callee {
        Callee::Method { name, .. } => name.to_string(),
        _ => "write".to_string(),
    };
    let how = match access {
        UnsafeAccess::StaticMut => "a `static mut`",
        UnsafeAccess::RawPointer => "a raw pointer",
        UnsafeAccess::UnsafeCell => "an `UnsafeCell`",
    };
    let mut diagnostic = Diagnostic::new(
        UNSYNC_MAP_WRITE_IN_DEFER.name,
        context.severity,
        format!("deferred code writes `{map_name}` from several threads without synchronisation"),
        Label::new(
            fact.span,
            format!(
                "`{method}` on a map shared through {how}: this write races with the other threads"
            ),
        ),
    );
    for label in registration_labels(program, analyses, root) {
        diagnostic = diagnostic.with_label(label);
    }
    for label in spawn_labels(program, analyses, sites, &format!("`{map_name}`")) {
        diagnostic = diagnostic.with_label(label);
    }
    if let Some(span) = spawner_races {
        diagnostic = diagnostic.with_label(Label::new(
            span,
            "the spawning thread uses the map here, while the spawned thread runs",
        ));
    }
    diagnostic
        .with_note(format!(
            "{}, so it runs in every thread that drops the value or leaves the guard's scope; the map has no lock of its own, and concurrent writes are a data race (undefined behaviour: lost entries, a corrupted table)",
            when_it_runs(program, analyses, root)
        ))
        .with_help(
            "put the map behind a `Mutex` (a poison-tolerant one, or `parking_lot`), use a sharded map such as `DashMap` when many threads write it, or confine the map to one owner thread and send it the changes over a channel",
        )
}

/// Words one Go finding.
fn go_diagnostic(context: &Context<'_>, race: &Race) -> Diagnostic {
    let program = context.program;
    let analyses = context.analyses;
    let write = &analyses.go.accesses[race.write];
    let name = go_wording::map_name(program, write);
    let mut diagnostic = Diagnostic::new(
        UNSYNC_MAP_WRITE_IN_DEFER.name,
        context.severity,
        format!(
            "deferred code writes `{name}`, a map shared by several goroutines, without a lock"
        ),
        Label::new(
            write.span,
            format!("this write races with the other goroutines' accesses to `{name}`"),
        ),
    );
    if let Some(site) = write.deferred {
        diagnostic = diagnostic.with_label(go_wording::defer_label(analyses, site));
    }
    diagnostic = go_wording::add_conflicts(program, analyses, race, diagnostic);
    diagnostic
        .with_note("a deferred call runs when its function returns or panics, last-in-first-out, after the function's other code; Go maps are not safe for concurrent use: the runtime stops the program with `fatal error: concurrent map writes`")
        .with_help(go_wording::SHARED_MAP_HELP)
}

/// Go: deferred writes that race.
fn check_go(context: &Context<'_>) -> Vec<Diagnostic> {
    let analyses = context.analyses;
    analyses
        .go_races
        .races
        .iter()
        .filter(|race| {
            let write = &analyses.go.accesses[race.write];
            write.deferred.is_some()
                && !crate::rlock_map_write::only_read_locked(write)
                && context.reports_in(write.function)
        })
        .map(|race| go_diagnostic(context, race))
        .collect()
}

pub fn check(context: &Context<'_>) -> Vec<Diagnostic> {
    if context.program.language == deferlint_core::source::Language::Go {
        return check_go(context);
    }
    let program = context.program;
    let analyses = context.analyses;
    let mut diagnostics = Vec::new();
    for function in analyses.deferred.functions().collect::<Vec<_>>() {
        if !context.reports_in(function) {
            continue;
        }
        let owner = program.function(function).owner;
        let body = program.body(owner);
        let fact = program.fact(function);
        let mut calls = Vec::new();
        collect_calls(&fact.nodes, &mut calls);
        for call in calls {
            let CallTarget::Lib(LibCall::Map {
                kind,
                flavor: MapFlavor::Plain,
            }) = program.call_target(owner, call)
            else {
                continue;
            };
            if kind == MapOpKind::Read {
                continue;
            }
            let Callee::Method { receiver, .. } = &body.call(call).callee else {
                continue;
            };
            let Some(access) = unsafe_access(program, owner, *receiver, 0) else {
                continue;
            };
            let Some(class) = analyses.aliases.class_of(program, owner, *receiver) else {
                continue;
            };
            let Some(root) = context.deferred_reach(function).map(|reach| reach.root) else {
                continue;
            };
            // The threads that run this deferred write.
            let running: Vec<SpawnSiteId> = analyses.tasks.sites_running(function).to_vec();
            if running.is_empty() {
                // Run by the code that spawns the tasks touching the map: a race when it runs
                // after a spawn and before the join.
                let sharing = analyses.tasks.sites_touching(class);
                let Some(span) = sharing.iter().find_map(|&site| {
                    deferred_runs_in_spawner_before_join(program, analyses, site, function)
                }) else {
                    continue;
                };
                diagnostics.push(
                    diagnostic(context, owner, call, *receiver, access, root, &sharing, None)
                        .with_label(Label::new(
                            span,
                            "the deferred code runs here, in the spawning thread, while the spawned thread still runs",
                        )),
                );
                continue;
            }
            let instances: usize = running
                .iter()
                .map(|site| {
                    if analyses.calls.spawn_sites[site.0 as usize].in_loop {
                        2
                    } else {
                        1
                    }
                })
                .sum();
            let mut sharing: Vec<SpawnSiteId> = analyses.tasks.sites_touching(class);
            for site in &running {
                if !sharing.contains(site) {
                    sharing.push(*site);
                }
            }
            sharing.sort();
            let touched_instances: usize = sharing
                .iter()
                .map(|site| {
                    if analyses.calls.spawn_sites[site.0 as usize].in_loop {
                        2
                    } else {
                        1
                    }
                })
                .sum();
            let spawner_races = if instances >= 2 || touched_instances >= 2 {
                None
            } else {
                match spawner_touch_before_join(program, analyses, running[0], class) {
                    Some(span) => Some(span),
                    None => continue,
                }
            };
            diagnostics.push(diagnostic(
                context,
                owner,
                call,
                *receiver,
                access,
                root,
                &sharing,
                spawner_races,
            ));
        }
    }
    diagnostics
}

/// Whether the map is reached through `static mut`, a raw pointer or an `UnsafeCell`.
fn unsafe_access(
    program: &Program,
    owner: FunctionId,
    value: ValueId,
    depth: u32,
) -> Option<UnsafeAccess> {
    if depth > 10 {
        return None;
    }
    let body = program.body(owner);
    match body.value(value) {
        Value::Path(path) => {
            let module = program.function(owner).module;
            match program
                .tree
                .resolve(module, &path.segments, path.leading_colon)
            {
                Some(Resolved::Item(ItemRef::Static(id), extra)) if extra.is_empty() => {
                    (program.static_item(id).kind == StaticKind::StaticMut)
                        .then_some(UnsafeAccess::StaticMut)
                }
                _ => None,
            }
        }
        Value::Deref(inner) => {
            let inner_ty = program.value_ty(owner, *inner);
            if matches!(program.types.kind(inner_ty), TyKind::Ptr(..)) {
                return Some(
                    unsafe_access(program, owner, *inner, depth + 1)
                        .unwrap_or(UnsafeAccess::RawPointer),
                );
            }
            unsafe_access(program, owner, *inner, depth + 1)
        }
        Value::Field { base, .. } | Value::Index { base } => {
            unsafe_access(program, owner, *base, depth + 1)
        }
        Value::Ref { inner, .. }
        | Value::RawRef { inner, .. }
        | Value::Cast { inner, .. }
        | Value::Payload { of: inner, .. } => unsafe_access(program, owner, *inner, depth + 1),
        Value::Local(local) => {
            let init = body.local(*local).init?;
            unsafe_access(program, owner, init, depth + 1)
        }
        Value::Call(call) => match program.call_target(owner, *call) {
            CallTarget::Lib(LibCall::RawGet) => {
                let receiver = match &body.call(*call).callee {
                    Callee::Method { receiver, .. } => *receiver,
                    _ => return Some(UnsafeAccess::UnsafeCell),
                };
                let ty = program.value_ty(owner, receiver);
                let cell = program.types.autoderef(ty);
                matches!(program.types.as_lib(cell), Some(LibTy::UnsafeCell))
                    .then_some(UnsafeAccess::UnsafeCell)
            }
            CallTarget::Lib(LibCall::Access | LibCall::Unwrap | LibCall::Expect) => {
                match &body.call(*call).callee {
                    Callee::Method { receiver, .. } => {
                        unsafe_access(program, owner, *receiver, depth + 1)
                    }
                    _ => None,
                }
            }
            _ => None,
        },
        _ => None,
    }
}

/// A map use in the spawning function after the spawn and before any `join`: the spawner and
/// the task run at the same time.
fn spawner_touch_before_join(
    program: &Program,
    analyses: &deferlint_core::analysis::Analyses,
    site: SpawnSiteId,
    class: ClassId,
) -> Option<Span> {
    let site = &analyses.calls.spawn_sites[site.0 as usize];
    let spawner = site.spawner;
    let owner = program.function(spawner).owner;
    let body = program.body(owner);
    let touches = |functions: &[FunctionId]| {
        analyses
            .calls
            .reachable_in_task(functions)
            .into_iter()
            .any(|function| analyses.tasks.functions_touching(class).contains(&function))
    };
    let mut events = Vec::new();
    deferlint_core::graph::calls::collect_events(&program.fact(spawner).nodes, &mut events);
    let position = events
        .iter()
        .position(|event| matches!(event, Event::Call(call) if *call == site.call))?;
    for event in &events[position + 1..] {
        match event {
            Event::Call(call) => {
                let span = body.call(*call).span;
                match program.call_target(owner, *call) {
                    CallTarget::Lib(LibCall::Join) => return None,
                    CallTarget::Lib(LibCall::Map { .. }) => {
                        if let Callee::Method { receiver, .. } = &body.call(*call).callee {
                            if analyses.aliases.class_of(program, owner, *receiver) == Some(class) {
                                return Some(span);
                            }
                        }
                    }
                    CallTarget::Function(function) if touches(&[function]) => return Some(span),
                    _ => {}
                }
            }
            Event::Bind(slot) => {
                if let Some(Content::Owned { drops, origin, .. }) = analyses.slots.get(owner, *slot)
                {
                    if touches(drops) {
                        return Some(*origin);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// Where the spawning function runs `deferred` after the spawn and before any join: it drops
/// a value whose `Drop` reaches it, or calls code that does.
fn deferred_runs_in_spawner_before_join(
    program: &Program,
    analyses: &deferlint_core::analysis::Analyses,
    site: SpawnSiteId,
    deferred: FunctionId,
) -> Option<Span> {
    let site = &analyses.calls.spawn_sites[site.0 as usize];
    let spawner = site.spawner;
    let owner = program.function(spawner).owner;
    let body = program.body(owner);
    let runs = |functions: &[FunctionId]| {
        analyses
            .calls
            .reachable_in_task(functions)
            .contains(&deferred)
    };
    let mut events = Vec::new();
    deferlint_core::graph::calls::collect_events(&program.fact(spawner).nodes, &mut events);
    let position = events
        .iter()
        .position(|event| matches!(event, Event::Call(call) if *call == site.call))?;
    for event in &events[position + 1..] {
        match event {
            Event::Call(call) => match program.call_target(owner, *call) {
                CallTarget::Lib(LibCall::Join) => return None,
                CallTarget::Function(function) if runs(&[function]) => {
                    return Some(body.call(*call).span);
                }
                _ => {}
            },
            Event::Release { slot, span, .. } => {
                if let Some(Content::Owned { drops, .. }) = analyses.slots.get(owner, *slot) {
                    if runs(drops) {
                        return Some(*span);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

fn collect_calls(nodes: &[Node], out: &mut Vec<CallId>) {
    for node in nodes {
        match node {
            Node::Event(Event::Call(call)) => out.push(*call),
            Node::Event(_) => {}
            Node::Branch(arms) => {
                for arm in arms {
                    collect_calls(arm, out);
                }
            }
            Node::Loop(body) => collect_calls(body, out),
        }
    }
}
