//! Go's lock state and map accesses. Go locks are explicit (`mu.Lock()` … `mu.Unlock()`) and
//! deferred calls run last-in-first-out when the function returns or panics, after the inline
//! code (`wg.Done()` included) and never at `os.Exit`. Each function is walked in execution
//! order with the locks it definitely holds; a deferred call is walked where it runs, with
//! the state at that moment. Every map read and write is recorded with the locks held, its
//! position, and whether it runs in deferred code after the goroutine's `wg.Done()`.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::deferred::Deferred;
use super::locks::{LockIdentity, LockOpId, LockOps};
use crate::graph::alias::{Aliases, ClassId};
use crate::graph::calls::{CallGraph, DeferSiteId, EdgeKind};
use crate::graph::points_to::{Ctx, PointsTo};
use crate::model::facts::{
    Callee, Event, ExitKind, FnKind, LocalId, LocalOrigin, Node, Slot, Sym, Value, ValueId,
};
use crate::model::modules::{FunctionId, ItemRef, Resolved, StaticId};
use crate::model::types::{LockFlavor, TyKind};
use crate::model::{CallTarget, LibCall, LockMode, MapOpKind, Program};
use crate::source::Span;

/// How far a deferred call is followed into the functions it calls.
const INLINE_DEPTH: u32 = 3;

/// A lock held at some point: which object, in which mode, acquired where.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GoHeld {
    pub class: ClassId,
    pub mode: LockMode,
    pub lock: LockOpId,
}

/// `mu.Lock(); mu.Unlock()` with nothing in between: a critical section that protects nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmptySection {
    pub class: ClassId,
    /// The `Lock` call.
    pub lock: LockOpId,
    /// The `Unlock` call.
    pub unlock: Span,
}

/// A map read or write.
#[derive(Clone, Debug)]
pub struct MapAccess {
    /// The function whose code makes the access.
    pub function: FunctionId,
    /// The function whose walk recorded it (the spawner or goroutine body that runs it).
    pub walked: FunctionId,
    pub class: ClassId,
    pub write: bool,
    /// A write that panics on a nil map (`m[k] = v`; `delete` does not).
    pub panics_when_nil: bool,
    /// The map expression (`m`, `s.items`), in the arena of `function`'s owner.
    pub map: ValueId,
    pub span: Span,
    pub held: Vec<GoHeld>,
    /// Locks held on some paths to the access only (`if needLock { mu.Lock() }`), here or
    /// at the calls that lead to it: a conditional locking protocol, taken to protect it.
    pub maybe_held: Vec<GoHeld>,
    /// The defer that runs this access, if it is deferred code.
    pub deferred: Option<DeferSiteId>,
    /// Deferred code that runs after the goroutine's `wg.Done()`: `wg.Wait()` does not wait
    /// for it.
    pub after_done: bool,
    /// Order of the access in the walk of `walked`.
    pub order: u32,
    /// Joins (`wg.Wait()`, channel receives) of the walked function made on every path before
    /// the access, by order.
    pub joins_before: Vec<u32>,
    /// The object the map is reached from (`s` in `s.items`, `m` itself), for field maps whose
    /// class mixes the instances of one struct type.
    pub root: ValueId,
    /// The locks held when the function runs are known: it is spawned, exported, a closure,
    /// or called by code of the package. Otherwise a lock its unseen callers hold could
    /// protect the access.
    pub context_known: bool,
    /// A write made with no lock held after an empty critical section (`mu.Lock();
    /// mu.Unlock(); m[k] = v`), with no mutex locked in between.
    pub after_empty_section: Option<EmptySection>,
    /// The map is a field of a local struct value that this call filled with a new map on
    /// every path to the access (`c := *cfg; c.Meta = make(..); c.Meta[k] = v`).
    pub fresh_field: bool,
    /// The map is a local that holds a map this call made, assigned on every path to the
    /// access (`out = make(rc.Params); out["jobid"] = id`), whatever it holds elsewhere.
    pub fresh_local: bool,
    /// A nil-tracked map (a local, or a field of a local struct) known not to be nil here,
    /// on every path: made, or tested (`if p.Inline != nil { .. }`).
    pub known_non_nil: bool,
}

/// A deferred call that locks a mutex its function still holds.
#[derive(Clone, Debug)]
pub struct DeferredRelock {
    pub site: DeferSiteId,
    /// The lock call in the deferred code.
    pub lock: LockOpId,
    /// The acquisition that still holds it.
    pub held: LockOpId,
    /// Where the deferred code runs (the return, or the end of the function).
    pub span: Span,
}

/// `os.Exit` / `log.Fatal` with deferred cleanup pending.
#[derive(Clone, Debug)]
pub struct PendingExit {
    pub function: FunctionId,
    pub span: Span,
    /// Defers that will not run, with what they would have done.
    pub skipped: Vec<(DeferSiteId, SkippedCleanup)>,
    /// The call, in the function whose defers are skipped, that leads to an exit in a helper.
    pub via: Option<Span>,
}

/// What a skipped deferred call would have done outside the process's memory, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkippedCleanup {
    pub span: Span,
    pub effect: crate::analysis::effects::Effect,
}

/// A write to a map that is nil on every path.
#[derive(Clone, Debug)]
pub struct NilWrite {
    pub function: FunctionId,
    pub span: Span,
    /// Where the nil map was declared.
    pub declared: Span,
    pub map: ValueId,
    pub deferred: Option<DeferSiteId>,
    /// The call that hands the nil map to the function that writes it.
    pub via: Option<Span>,
}

/// A `go` statement (or other spawn) in the walk of its function.
#[derive(Clone, Debug)]
pub struct Spawn {
    pub call: crate::model::facts::CallId,
    pub order: u32,
    /// The joins made on every path before it.
    pub joins_before: Vec<u32>,
    /// In a loop whose body joins after it on every path: one goroutine at a time.
    pub joined_each_iteration: bool,
    /// Every path from the spawn to the function's end joins after it: the goroutine does
    /// not outlive the call that started it.
    pub joined_before_return: bool,
    /// How many loops of the function enclose the spawn.
    loop_depth: u32,
}

/// Positions in the walk of a function: its spawns, joins and calls.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    pub spawns: Vec<Spawn>,
    /// Orders of `wg.Wait()`, channel receives and other joins.
    pub joins: Vec<u32>,
    /// The joins that wait for a group of goroutines (`wg.Wait()`, `g.Wait()`).
    pub waits: Vec<u32>,
    /// The joins that receive from a channel: their order and the channel's value.
    pub receives: Vec<(u32, ValueId)>,
    /// Calls to program functions: the callee, the order of the call, and the joins made on
    /// every path before it.
    pub calls: Vec<(FunctionId, u32, Vec<u32>)>,
}

impl Timeline {
    /// The spawn made by a call.
    pub fn spawn(&self, call: crate::model::facts::CallId) -> Option<&Spawn> {
        self.spawns.iter().find(|spawn| spawn.call == call)
    }

    /// The function joins (on some path) after this position: it may wait for what it
    /// started before.
    pub fn joins_after(&self, order: u32) -> bool {
        self.joins.iter().any(|&join| join > order)
    }

    /// Among the joins made on every path before a position (`joins_before`), one waits for
    /// a group of goroutines: `close(s.quit); s.wg.Wait()` in a `Stop` before it reads what
    /// its goroutines wrote.
    pub fn waited_before(&self, joins_before: &[u32]) -> bool {
        joins_before.iter().any(|join| self.waits.contains(join))
    }
}

/// Everything the Go rules read.
#[derive(Debug, Default)]
pub struct GoState {
    pub accesses: Vec<MapAccess>,
    pub relocks: Vec<DeferredRelock>,
    /// Functions that some callers call with a lock held and others without: a call without.
    pub unlocked_calls: HashMap<FunctionId, Span>,
    pub exits: Vec<PendingExit>,
    pub nil_writes: Vec<NilWrite>,
    pub timelines: HashMap<FunctionId, Timeline>,
    /// The locks held at each call a function's own code makes (outside deferred code), on
    /// every path to it: what a callee analysed for that call site runs under.
    pub held_at_call: HashMap<(FunctionId, crate::model::facts::CallId), Vec<GoHeld>>,
    /// The locks held on some paths only at each call of a program function.
    pub maybe_at_call: HashMap<(FunctionId, crate::model::facts::CallId), Vec<GoHeld>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Maybe,
}

fn join_tri(a: Tri, b: Tri) -> Tri {
    if a == b { a } else { Tri::Maybe }
}

/// A nil-tracked map: a local, or a map field of a local struct value.
type NilKey = (LocalId, Option<Sym>);

#[derive(Clone, Default)]
struct State {
    held: BTreeMap<ClassId, GoHeld>,
    /// Locks held on some paths here but not all (`if needLock { mu.Lock() }`).
    maybe: BTreeMap<ClassId, GoHeld>,
    defers: BTreeMap<LocalId, Tri>,
    done: Option<bool>,
    nil: BTreeMap<NilKey, Tri>,
    /// Joins made on every path to here, by order.
    joins: BTreeSet<u32>,
    /// A mutex just locked, with nothing done since.
    quiet: Option<GoHeld>,
    /// The last critical section closed with nothing done in it, since no mutex was locked.
    emptied: Option<EmptySection>,
    /// Map fields of local struct values that hold a map made by this call on every path
    /// (`c.Meta = make(..)`).
    fresh: BTreeSet<(LocalId, Sym)>,
    /// Locals that hold a map this call made, assigned on every path (`out = make(..)`).
    fresh_locals: BTreeSet<LocalId>,
    /// Locals loaded from a field of a local (`todo := a.pending`) inside the current critical
    /// section, with the field: storing a new map in that field before the section ends swaps
    /// the old one out (`a.pending = make(..)`), and the local then holds it alone.
    swappable: BTreeSet<(LocalId, super::go_private::SwapPlace)>,
    /// Spawns made on some path to here, by order.
    spawned: BTreeSet<u32>,
}

impl State {
    fn join(&self, other: &State) -> State {
        // Held on both paths in the same mode, whichever acquisition took it (a branch that
        // unlocks and locks again still holds it after).
        let held: BTreeMap<ClassId, GoHeld> = self
            .held
            .iter()
            .filter(|(class, held)| {
                other
                    .held
                    .get(class)
                    .is_some_and(|theirs| theirs.mode == held.mode)
            })
            .map(|(c, h)| (*c, *h))
            .collect();
        let maybe = self
            .maybe
            .iter()
            .chain(other.maybe.iter())
            .chain(self.held.iter())
            .chain(other.held.iter())
            .filter(|(class, _)| !held.contains_key(*class))
            .map(|(c, h)| (*c, *h))
            .collect();
        let mut defers = BTreeMap::new();
        for (local, state) in self.defers.iter().chain(other.defers.iter()) {
            let a = self.defers.get(local).copied().unwrap_or(Tri::No);
            let b = other.defers.get(local).copied().unwrap_or(Tri::No);
            let _ = state;
            defers.insert(*local, join_tri(a, b));
        }
        let done = match (self.done, other.done) {
            (Some(a), Some(b)) if a == b => Some(a),
            _ => None,
        };
        let mut nil = BTreeMap::new();
        for key in self.nil.keys().chain(other.nil.keys()) {
            let a = self.nil.get(key).copied().unwrap_or(Tri::Maybe);
            let b = other.nil.get(key).copied().unwrap_or(Tri::Maybe);
            nil.insert(key.clone(), join_tri(a, b));
        }
        State {
            held,
            maybe,
            defers,
            done,
            nil,
            joins: self.joins.intersection(&other.joins).copied().collect(),
            quiet: self.quiet.filter(|quiet| other.quiet == Some(*quiet)),
            emptied: self
                .emptied
                .filter(|emptied| other.emptied == Some(*emptied)),
            fresh: self.fresh.intersection(&other.fresh).cloned().collect(),
            fresh_locals: self
                .fresh_locals
                .intersection(&other.fresh_locals)
                .copied()
                .collect(),
            swappable: self
                .swappable
                .intersection(&other.swappable)
                .cloned()
                .collect(),
            spawned: self.spawned.union(&other.spawned).copied().collect(),
        }
    }
}

impl GoState {
    pub fn compute(
        program: &Program,
        points_to: &PointsTo,
        identity: &LockIdentity<'_>,
        aliases: &Aliases,
        calls: &CallGraph,
        locks: &LockOps,
        deferred: &Deferred,
    ) -> GoState {
        let mut go = GoState::default();
        let deferred_only: HashSet<FunctionId> = program
            .function_ids()
            .filter(|&function| {
                deferred.is_deferred(function)
                    && calls.edges_to(function).all(|(caller, kind)| {
                        matches!(kind, EdgeKind::Defer(_)) || deferred.is_deferred(caller)
                    })
            })
            .collect();
        let initialised_statics = initialised_statics(program);
        let spawn_bodies: HashSet<FunctionId> = calls
            .spawn_sites
            .iter()
            .flat_map(|site| site.bodies.iter().copied())
            .collect();
        // First pass: the locks held at each call of a program function, and where each closure
        // is created (a closure that is not spawned or deferred runs where it is created, as
        // `sort.Slice(.., func ..)` does).
        let mut sites: Vec<CallSite> = Vec::new();
        // Functions that join on every path before they return (`for item := range ch`,
        // `wg.Wait()` in a helper): a call of one is a join for its caller.
        let mut joins_always: HashSet<FunctionId> = HashSet::default();
        let effects = lock_effects(program, identity, locks, calls);
        for function in program.function_ids() {
            if deferred_only.contains(&function)
                || program.fact(function).kind == FnKind::StaticInit
            {
                continue;
            }
            let mut walker = Walker::new(
                program,
                points_to,
                identity,
                aliases,
                locks,
                calls,
                function,
                &[],
                &initialised_statics,
            );
            walker.record_sites = true;
            walker.effects = Some(&effects);
            walker.walk_function();
            // A constructor's calls before it starts its first goroutine work on an object
            // nobody else has yet: the locks they do not take say nothing about the callee.
            let first_spawn = walker
                .timeline
                .spawns
                .iter()
                .map(|spawn| spawn.order)
                .min()
                .unwrap_or(u32::MAX);
            if !walker.exit_joins.is_empty()
                && walker.exit_joins.iter().all(|(joins, _)| !joins.is_empty())
            {
                joins_always.insert(function);
            }
            let constructor = returns_new_object(program, function);
            walker
                .sites
                .retain(|site| !(constructor && site.order < first_spawn));
            sites.extend(
                walker
                    .sites
                    .into_iter()
                    .filter(|site| !spawn_bodies.contains(&site.callee)),
            );
        }
        // Calls made while the package initialises (variable initialisers, `init`) run before
        // any goroutine: the locks they do not take say nothing about the callee's other calls.
        let init_only = init_only(program, calls);
        sites.retain(|site| !init_only.contains(&site.caller));
        let mut by_callee: HashMap<FunctionId, Vec<&CallSite>> = HashMap::default();
        for site in &sites {
            by_callee.entry(site.callee).or_default().push(site);
        }
        // Closures handed to a call whose callee (or what it calls) is the only code that
        // calls them: they run during the call.
        let runs_within: HashSet<FunctionId> = calls
            .handed_closures()
            .filter(|(closure, (caller, call))| {
                let Some(sites) = by_callee.get(closure) else {
                    return false;
                };
                let receivers = calls.call_targets(program, *caller, *call);
                let mut invoked = sites.iter().filter(|site| site.call.is_some()).peekable();
                if invoked.peek().is_none() || !sites.iter().any(|site| site.call.is_none()) {
                    return false;
                }
                let reached: HashSet<FunctionId> =
                    calls.reachable_in_task(&receivers).into_iter().collect();
                invoked.all(|site| reached.contains(&site.caller))
            })
            .map(|(closure, _)| closure)
            .collect();
        // What runs as a new goroutine holds no lock when it starts, whatever its creator holds.
        let spawned = calls.spawn_bodies();
        let entry = entry_locks(
            program,
            &by_callee,
            &runs_within,
            &spawned,
            &|site, held| translate_held(program, identity, locks, site, held),
        );
        // A closure that runs where it is created sees the fields its creators filled.
        let closure_fresh: HashMap<FunctionId, BTreeSet<(LocalId, Sym)>> = by_callee
            .iter()
            .filter(|(callee, _)| program.fact(**callee).kind.parent().is_some())
            .filter_map(|(callee, sites)| {
                let mut sets = sites.iter().filter_map(|site| site.fresh.as_ref());
                let first = sets.next()?.clone();
                Some((
                    *callee,
                    sets.fold(first, |kept, other| {
                        kept.intersection(other).cloned().collect()
                    }),
                ))
            })
            .collect();
        go.unlocked_calls = unlocked_calls(&by_callee, &entry);
        let handed_over = handed_over_locks(program, locks, calls, deferred, &effects);
        let entry_maybe = entry_maybe_locks(program, &by_callee, &entry, &handed_over, &spawned);
        // Where the locks held on entry cannot be known: functions nothing in the package calls
        // (called through values or interfaces from unseen code), unless exported or spawned.
        let called: HashSet<FunctionId> = by_callee.keys().copied().collect();
        let context_known = |function: FunctionId| {
            let fact = program.fact(function);
            spawn_bodies.contains(&function)
                || exported_api(program, function)
                || (fact.kind == FnKind::Free && matches!(&*fact.name, "main" | "init"))
                || called.contains(&function)
                || fact.kind.parent().is_some()
        };
        for function in program.function_ids() {
            if deferred_only.contains(&function)
                || program.fact(function).kind == FnKind::StaticInit
            {
                continue;
            }
            let held = entry.get(&function).map(Vec::as_slice).unwrap_or(&[]);
            let mut walker = Walker::new(
                program,
                points_to,
                identity,
                aliases,
                locks,
                calls,
                function,
                held,
                &initialised_statics,
            );
            walker.context_known = context_known(function);
            walker.entry_fresh = closure_fresh.get(&function).cloned().unwrap_or_default();
            walker.entry_maybe = entry_maybe.get(&function).cloned().unwrap_or_default();
            union_held(
                &mut walker.entry_maybe,
                handed_over
                    .get(&function)
                    .into_iter()
                    .flatten()
                    .filter(|lock| !held_classes(held, lock.class))
                    .copied(),
            );
            walker.effects = Some(&effects);
            walker.joins_always = Some(&joins_always);
            walker.walk_function();
            go.accesses.extend(walker.accesses);
            go.relocks.extend(walker.relocks);
            go.exits.extend(walker.exits);
            go.nil_writes.extend(walker.nil_writes);
            go.timelines.insert(function, walker.timeline);
            // A function's calls walked in several walks (its own, and deferred code that
            // calls it) hold what every walk holds.
            for (key, held) in walker.held_at_call {
                go.held_at_call
                    .entry(key)
                    .and_modify(|previous| previous.retain(|kept| held_classes(&held, kept.class)))
                    .or_insert(held);
            }
            for (key, maybe) in walker.maybe_at_call {
                union_held(go.maybe_at_call.entry(key).or_default(), maybe);
            }
        }
        go
    }
}

/// What calling a function does to the caller's locks: helpers such as
/// `func (s *S) lock() { s.mu.Lock() }` leave a mutex locked, and `unlock()` helpers or a
/// `fail := func() { mu.Unlock(); .. }` closure release one.
#[derive(Debug, Default)]
pub(crate) struct LockEffect {
    /// Locked, and never unlocked in the function (nor by a defer of it).
    acquires: Vec<GoHeld>,
    /// Unlocked in the function, which never locks it.
    releases: Vec<ClassId>,
}

fn lock_effects(
    program: &Program,
    identity: &LockIdentity<'_>,
    locks: &LockOps,
    calls: &CallGraph,
) -> HashMap<FunctionId, LockEffect> {
    let mut effects = HashMap::default();
    for function in program.function_ids() {
        let owner = program.function(function).owner;
        let body = program.body(owner);
        let fact = program.fact(function);
        let mut events = Vec::new();
        crate::graph::calls::collect_events(&fact.nodes, &mut events);
        let mut locked = Vec::new();
        let mut unlocked = Vec::new();
        for event in &events {
            let Event::Call(call) = event else {
                continue;
            };
            match program.call_target(owner, *call) {
                CallTarget::Lib(LibCall::Lock { .. }) => {
                    if let Some(class) = locks
                        .at(owner, *call)
                        .and_then(|op| locks.get(op).lock_class)
                    {
                        locked.push(class);
                    }
                }
                CallTarget::Lib(LibCall::Unlock { .. }) => {
                    if let Callee::Method { receiver, .. } = &body.call(*call).callee {
                        unlocked.extend(identity.class_of(owner, *receiver));
                    }
                }
                _ => {}
            }
        }
        if locked.is_empty() && unlocked.is_empty() {
            continue;
        }
        let defers = calls
            .edges_from(function)
            .any(|(_, kind)| matches!(kind, EdgeKind::Defer(_)));
        let mut effect = LockEffect::default();
        if !defers {
            // Locks the function takes and leaves taken: unconditionally, or under a condition
            // such as `if needLock { mu.Lock() }` (whose caller holds the lock when it passes
            // `false`): either way the lock is held after the call.
            for event in &events {
                let Event::Call(call) = event else {
                    continue;
                };
                let Some(lock) = locks.at(owner, *call) else {
                    continue;
                };
                let op = locks.get(lock);
                if let (Some(class), true) =
                    (op.lock_class, op.attempt != crate::model::LockAttempt::Try)
                {
                    if !unlocked.contains(&class) {
                        effect.acquires.push(GoHeld {
                            class,
                            mode: op.mode,
                            lock,
                        });
                    }
                }
            }
        }
        for class in unlocked {
            if !locked.contains(&class) && !effect.releases.contains(&class) {
                effect.releases.push(class);
            }
        }
        if !effect.acquires.is_empty() || !effect.releases.is_empty() {
            effects.insert(function, effect);
        }
    }
    effects
}

/// A function other packages can call: exported, and a method only of an exported type
/// (exported methods of unexported types are reached through interfaces the package itself
/// uses, such as `heap.Interface`).
pub fn exported_api(program: &Program, function: FunctionId) -> bool {
    let fact = program.fact(function);
    if !fact.is_public || matches!(&*fact.name, "main" | "init") {
        return false;
    }
    match program.function(function).self_ty {
        Some(self_ty) => {
            let name = program.type_name(program.types.strip_refs(self_ty));
            let last = name.rsplit("::").next().unwrap_or(&name);
            last.starts_with(|c: char| c.is_ascii_uppercase())
        }
        None => true,
    }
}

/// The function returns a value of the type (alone or with an error): a constructor of it.
pub fn constructs(program: &Program, function: FunctionId, ty: crate::model::types::TyId) -> bool {
    if ty.is_unknown() {
        return false;
    }
    let ret = program.function(function).ret_ty;
    let returned = |candidate: crate::model::types::TyId| program.types.strip_refs(candidate) == ty;
    match program.types.kind(ret) {
        TyKind::Tuple(elements) => elements.iter().any(|&e| returned(e)),
        _ => returned(ret),
    }
}

/// A constructor: the function returns a struct (or a pointer to one) that it makes itself,
/// alone or with an error.
fn returns_new_object(program: &Program, function: FunctionId) -> bool {
    let ret = program.function(function).ret_ty;
    let makes = |ty: crate::model::types::TyId| {
        let ty = program.types.strip_refs(ty);
        program.types.adt(ty).is_some()
            && program
                .body(function)
                .values
                .iter()
                .any(|value| matches!(value, Value::Struct { .. }))
    };
    match program.types.kind(ret) {
        TyKind::Tuple(elements) => elements.iter().any(|&element| makes(element)),
        _ => makes(ret),
    }
}

/// Statics that some code assigns, or whose address it takes: not nil for certain.
fn initialised_statics(program: &Program) -> HashSet<StaticId> {
    let mut initialised = HashSet::default();
    for function in program.function_ids() {
        let owner = program.function(function).owner;
        if owner != function {
            continue;
        }
        let body = program.body(owner);
        let module = program.function(owner).module;
        let resolve = |value: ValueId| match body.value(value) {
            Value::Path(path) => {
                match program
                    .tree
                    .resolve(module, &path.segments, path.leading_colon)
                {
                    Some(Resolved::Item(ItemRef::Static(id), extra)) if extra.is_empty() => {
                        Some(id)
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        for value in &body.values {
            if let Value::Ref { inner, .. } = value {
                if let Some(id) = resolve(*inner) {
                    initialised.insert(id);
                }
            }
        }
        for id in program
            .function_ids()
            .filter(|&f| program.function(f).owner == owner)
        {
            let mut events = Vec::new();
            crate::graph::calls::collect_events(&program.fact(id).nodes, &mut events);
            for event in events {
                if let Event::Assign { target, .. } = event {
                    if let Some(id) = resolve(*target) {
                        initialised.insert(id);
                    }
                }
            }
        }
    }
    initialised
}

/// Functions that only run while the package initialises: variable initialisers, `init`
/// functions, and what only they call.
fn init_only(program: &Program, calls: &CallGraph) -> HashSet<FunctionId> {
    let init: HashSet<FunctionId> = program
        .function_ids()
        .filter(|&function| {
            let fact = program.fact(function);
            fact.kind == FnKind::StaticInit || (fact.kind == FnKind::Free && &*fact.name == "init")
        })
        .collect();
    calls.only_called_from(&init)
}

/// A function name that says, by Go's convention, that its caller holds the lock it needs:
/// `addLocked`, `ClearSharesLocked`, `flush_locked`.
pub(crate) fn caller_holds_lock(name: &str) -> bool {
    name.len() > "Locked".len() && (name.ends_with("Locked") || name.ends_with("_locked"))
}

/// The locks every caller holds when calling each function (must, to a fixed point). Exported
/// functions and functions used as values have unseen callers and start with nothing.
fn entry_locks(
    program: &Program,
    by_callee: &HashMap<FunctionId, Vec<&CallSite>>,
    runs_within: &HashSet<FunctionId>,
    spawned: &HashSet<FunctionId>,
    translate: &dyn Fn(&CallSite, &GoHeld) -> Option<GoHeld>,
) -> HashMap<FunctionId, Vec<GoHeld>> {
    let mut entry: HashMap<FunctionId, Option<Vec<GoHeld>>> = HashMap::default();
    for &callee in by_callee.keys() {
        let fact = program.fact(callee);
        // An exported function whose name says its caller holds the lock (`AddShareLocked`,
        // Go's convention for "call with the mutex held") is taken to be called by unseen
        // callers as by the seen ones.
        let unseen_callers = (exported_api(program, callee) && !caller_holds_lock(&fact.name))
            || &*fact.name == "main";
        if !unseen_callers
            && !spawned.contains(&callee)
            && !matches!(fact.kind, FnKind::DeferBody { .. })
        {
            entry.insert(callee, None);
        }
    }
    // Each site's locks with those named in the callee's terms, once: they do not change
    // between rounds.
    let own: HashMap<FunctionId, Vec<Vec<GoHeld>>> = entry
        .keys()
        .map(|callee| {
            let sites = by_callee[callee].iter().map(|site| {
                let mut held = site.held.clone();
                held.extend(site.held.iter().filter_map(|lock| translate(site, lock)));
                held
            });
            (*callee, sites.collect())
        })
        .collect();
    let mut changed = true;
    let mut rounds = 0;
    while changed && rounds < 32 {
        changed = false;
        rounds += 1;
        let callees: Vec<FunctionId> = entry.keys().copied().collect();
        for callee in callees {
            let sites = &by_callee[&callee];
            // What each site holds: its own locks and its caller's on entry (not known yet:
            // left out of the intersection).
            let intersect = |creations: Option<bool>| {
                let mut result: Option<Vec<GoHeld>> = None;
                for (site, own) in sites.iter().zip(&own[&callee]) {
                    if site.caller == callee
                        || creations.is_some_and(|creation| creation != site.call.is_none())
                    {
                        continue;
                    }
                    let mut held = own.clone();
                    match entry.get(&site.caller) {
                        Some(None) => continue,
                        Some(Some(caller_entry)) => held.extend(caller_entry.iter().copied()),
                        None => {}
                    }
                    result = Some(match result {
                        None => held,
                        Some(previous) => intersect_held(previous, &held),
                    });
                }
                result
            };
            // A closure handed to a function of the program that calls it itself (not stored
            // for later) runs during that call: it holds what its creator holds at the call,
            // and what the function holds where it calls it.
            let result = if runs_within.contains(&callee) {
                let (created, invoked) = (intersect(Some(true)), intersect(Some(false)));
                match (created, invoked) {
                    (Some(mut created), Some(invoked)) => {
                        created.extend(invoked);
                        Some(created)
                    }
                    (created, None) => created,
                    (None, invoked) => invoked,
                }
            } else {
                intersect(None)
            };
            let Some(mut result) = result else { continue };
            result.sort_by_key(|held| held.class);
            result.dedup_by_key(|held| held.class);
            if entry.get(&callee) != Some(&Some(result.clone())) {
                entry.insert(callee, Some(result));
                changed = true;
            }
        }
    }
    entry
        .into_iter()
        .filter_map(|(function, held)| Some((function, held?)))
        .collect()
}

/// A lock held at a call, in the callee's terms: `x.mu.Lock(); x.helper()` or `e.db.Lock();
/// e.db.change()` hand the callee the object whose lock is held, which the callee reaches as
/// `p.mu` or `p` through its parameter `p`. Callers that reach one object by different roots
/// (a field of a handler, a receiver) then agree on the lock the callee holds.
fn translate_held(
    program: &Program,
    identity: &LockIdentity<'_>,
    locks: &LockOps,
    site: &CallSite,
    held: &GoHeld,
) -> Option<GoHeld> {
    let call = site.call?;
    let op = locks.get(held.lock);
    let caller_owner = program.function(site.caller).owner;
    if op.owner != caller_owner {
        return None;
    }
    let caller_body = program.body(caller_owner);
    let (lock_root, lock_fields) = place_path(caller_body, op.receiver)?;
    let fact = caller_body.call(call);
    let operands: Vec<ValueId> = fact.positional_operands();
    let callee = site.callee;
    let callee_owner = program.function(callee).owner;
    if callee_owner != callee {
        return None;
    }
    let params = &program.fact(callee).params;
    for (position, &operand) in operands.iter().enumerate() {
        let Some((root, fields)) = place_path(caller_body, operand) else {
            continue;
        };
        if root != lock_root || !lock_fields.starts_with(&fields) {
            continue;
        }
        let Some(&param) = params.get(position) else {
            continue;
        };
        let suffix = &lock_fields[fields.len()..];
        let callee_body = program.body(callee);
        let place = (0..callee_body.values.len())
            .map(ValueId::from_index)
            .find(|&value| {
                place_path(callee_body, value)
                    .is_some_and(|(local, path)| local == param && path == suffix)
            })?;
        let class = identity.class_of(callee, place)?;
        return Some(GoHeld { class, ..*held });
    }
    None
}

/// A place as a local and the fields taken from it (`s.db.mu` → `s`, [db, mu]); pointer
/// dereferences and address-taking do not change the place.
fn place_path(body: &crate::model::facts::Body, value: ValueId) -> Option<(LocalId, Vec<Sym>)> {
    match body.value(value) {
        Value::Local(local) => Some((*local, Vec::new())),
        Value::Ref { inner, .. } | Value::Deref(inner) => place_path(body, *inner),
        Value::Field { base, name } => {
            let (local, mut fields) = place_path(body, *base)?;
            fields.push(name.clone());
            Some((local, fields))
        }
        _ => None,
    }
}

/// Locks a function releases without taking them (in its code or its deferred calls): Go stops
/// the program at the unlock of an unlocked mutex, so whoever runs the function holds them when
/// it starts (`mu.Lock(); go func() { defer mu.Unlock(); .. }()` hands the lock to the
/// goroutine). Taken as held on some paths: they protect, they are never reported held twice.
fn handed_over_locks(
    program: &Program,
    locks: &LockOps,
    calls: &CallGraph,
    deferred: &Deferred,
    effects: &HashMap<FunctionId, LockEffect>,
) -> HashMap<FunctionId, Vec<GoHeld>> {
    // An acquisition of each lock, to name it.
    let mut acquisition: HashMap<ClassId, LockOpId> = HashMap::default();
    for index in 0..locks.ops.len() {
        let op = LockOpId(index as u32);
        if let Some(class) = locks.get(op).lock_class {
            acquisition.entry(class).or_insert(op);
        }
    }
    let mut handed: HashMap<FunctionId, Vec<GoHeld>> = HashMap::default();
    for (&function, effect) in effects {
        if effect.releases.is_empty() {
            continue;
        }
        // A deferred call's unlock is its function's (`defer mu.Unlock()`, `defer func() {
        // mu.Unlock() }()`): the callers of deferred code, then the function whose `defer`
        // statement runs it.
        let mut targets: Vec<FunctionId> = Vec::new();
        if deferred.is_deferred(function) {
            targets.extend(
                calls
                    .edges_to(function)
                    .filter(|(_, kind)| !matches!(kind, EdgeKind::Spawn(_)))
                    .map(|(caller, _)| caller),
            );
        }
        if targets.is_empty() {
            targets.push(function);
        }
        for target in &mut targets {
            if let FnKind::DeferBody { parent, .. } = program.fact(*target).kind {
                *target = program.function_id(program.function(*target).file, parent);
            }
        }
        targets.sort();
        targets.dedup();
        let held: Vec<GoHeld> = effect
            .releases
            .iter()
            .filter_map(|&class| {
                let lock = *acquisition.get(&class)?;
                Some(GoHeld {
                    class,
                    mode: locks.get(lock).mode,
                    lock,
                })
            })
            .collect();
        for &target in &targets {
            union_held(handed.entry(target).or_default(), held.iter().copied());
        }
    }
    handed
}

fn held_classes(list: &[GoHeld], class: ClassId) -> bool {
    list.iter().any(|held| held.class == class)
}

/// The locks of `kept` whose class `other` holds too.
fn intersect_held(kept: Vec<GoHeld>, other: &[GoHeld]) -> Vec<GoHeld> {
    kept.into_iter()
        .filter(|held| held_classes(other, held.class))
        .collect()
}

/// Adds the locks of `more` whose class `list` does not hold yet.
fn union_held(list: &mut Vec<GoHeld>, more: impl IntoIterator<Item = GoHeld>) {
    for held in more {
        if !held_classes(list, held.class) {
            list.push(held);
        }
    }
}

/// The locks held on some paths only when each function starts: a lock that every caller holds
/// at the call, on all paths or on some (a conditional locking protocol: `if lock {
/// mu.Lock() }; t.cleanup()`), or started with, and not every caller on all paths. A lock
/// some callers hold and others not at all is not one: that is a caller that forgot it.
fn entry_maybe_locks(
    program: &Program,
    by_callee: &HashMap<FunctionId, Vec<&CallSite>>,
    entry: &HashMap<FunctionId, Vec<GoHeld>>,
    handed_over: &HashMap<FunctionId, Vec<GoHeld>>,
    spawned: &HashSet<FunctionId>,
) -> HashMap<FunctionId, Vec<GoHeld>> {
    // What protects each function on entry (held on all paths or some), to a fixed point of
    // the intersection over its callers; functions with callers outside, and goroutine
    // bodies, start with nothing.
    let mut protecting: HashMap<FunctionId, Option<Vec<GoHeld>>> = HashMap::default();
    for &callee in by_callee.keys() {
        let fact = program.fact(callee);
        if !(exported_api(program, callee) || &*fact.name == "main" || spawned.contains(&callee)) {
            protecting.insert(callee, None);
        }
    }
    let known = |protecting: &HashMap<FunctionId, Option<Vec<GoHeld>>>, function: FunctionId| {
        let mut list: Vec<GoHeld> = entry.get(&function).cloned().unwrap_or_default();
        list.extend(handed_over.get(&function).into_iter().flatten().copied());
        match protecting.get(&function) {
            Some(Some(more)) => list.extend(more.iter().copied()),
            Some(None) => return None,
            None => {}
        }
        Some(list)
    };
    for _ in 0..16 {
        let mut changed = false;
        let callees: Vec<FunctionId> = protecting.keys().copied().collect();
        for callee in callees {
            let mut result: Option<Vec<GoHeld>> = None;
            for site in &by_callee[&callee] {
                if site.caller == callee {
                    continue;
                }
                let Some(mut held) = known(&protecting, site.caller) else {
                    continue;
                };
                held.extend(site.held.iter().chain(&site.maybe).copied());
                result = Some(match result {
                    None => held,
                    Some(previous) => intersect_held(previous, &held),
                });
            }
            let Some(mut result) = result else { continue };
            result.sort_by_key(|held| held.class);
            result.dedup_by_key(|held| held.class);
            if protecting.get(&callee) != Some(&Some(result.clone())) {
                protecting.insert(callee, Some(result));
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    protecting
        .into_iter()
        .filter_map(|(function, list)| {
            let must = entry.get(&function).map(Vec::as_slice).unwrap_or(&[]);
            let maybe: Vec<GoHeld> = list?
                .into_iter()
                .filter(|held| !must.iter().any(|kept| kept.class == held.class))
                .collect();
            (!maybe.is_empty()).then_some((function, maybe))
        })
        .collect()
}

/// For each function that some callers call with a lock held and others without, the first
/// call without it: what explains an unlocked access inside.
fn unlocked_calls(
    by_callee: &HashMap<FunctionId, Vec<&CallSite>>,
    entry: &HashMap<FunctionId, Vec<GoHeld>>,
) -> HashMap<FunctionId, Span> {
    let mut unlocked = HashMap::default();
    for (callee, sites) in by_callee {
        let holds: Vec<Vec<ClassId>> = sites
            .iter()
            .map(|site| {
                site.held
                    .iter()
                    .chain(entry.get(&site.caller).into_iter().flatten())
                    .map(|held| held.class)
                    .collect()
            })
            .collect();
        let all: HashSet<ClassId> = holds.iter().flatten().copied().collect();
        if let Some(position) = holds
            .iter()
            .position(|mine| all.iter().any(|class| !mine.contains(class)))
        {
            unlocked.insert(*callee, sites[position].span);
        }
    }
    unlocked
}

/// A call of a program function, or the creation of a closure that runs where it is created,
/// with the locks held there.
struct CallSite {
    caller: FunctionId,
    callee: FunctionId,
    held: Vec<GoHeld>,
    /// The call, or the closure's header.
    span: Span,
    /// Its order in the caller's walk.
    order: u32,
    /// For a closure's creation (not a call of it): the fields of the caller's struct values that hold a map the
    /// call made ([`State::fresh`]); the closure sees the same locals.
    fresh: Option<BTreeSet<(LocalId, Sym)>>,
    /// The call (none for a closure's creation).
    call: Option<crate::model::facts::CallId>,
    /// Locks held on some paths only.
    maybe: Vec<GoHeld>,
}

/// A deferred call being walked: where it was deferred, where it runs, and the locks its
/// function held when it started.
struct DeferEntry {
    site: DeferSiteId,
    span: Span,
    held: Vec<LockOpId>,
}

struct Walker<'a> {
    program: &'a Program,
    points_to: &'a PointsTo,
    identity: &'a LockIdentity<'a>,
    aliases: &'a Aliases,
    locks: &'a LockOps,
    calls: &'a CallGraph,
    function: FunctionId,
    entry: &'a [GoHeld],
    initialised_statics: &'a HashSet<StaticId>,
    order: u32,
    record_sites: bool,
    sites: Vec<CallSite>,
    accesses: Vec<MapAccess>,
    relocks: Vec<DeferredRelock>,
    exits: Vec<PendingExit>,
    nil_writes: Vec<NilWrite>,
    timeline: Timeline,
    /// Deferred code being walked inline: its site, and the functions on the way (no cycles).
    deferred_stack: Vec<(Option<DeferSiteId>, FunctionId)>,
    /// The deferred calls being walked, innermost last.
    defer_entries: Vec<DeferEntry>,
    /// Walking a callee for the nil maps its callers hand it: the callers, outermost first.
    nil_chain: Vec<FunctionId>,
    /// Where the nil maps seeded into the parameters were declared, in the caller.
    declared_for: HashMap<LocalId, Span>,
    /// The caller's call that hands the nil maps over.
    via: Option<Span>,
    /// What calls to lock and unlock helpers do to the held locks.
    effects: Option<&'a HashMap<FunctionId, LockEffect>>,
    /// The locks held when this function is called are known (see [`MapAccess::context_known`]).
    context_known: bool,
    /// Fields filled with a new map when the function starts (a closure: by its creator).
    entry_fresh: BTreeSet<(LocalId, Sym)>,
    /// How many loops enclose the node being walked, in the walked function.
    loop_depth: u32,
    /// The locks held at each call of the walked function's own code, on every path.
    held_at_call: HashMap<(FunctionId, crate::model::facts::CallId), Vec<GoHeld>>,
    maybe_at_call: HashMap<(FunctionId, crate::model::facts::CallId), Vec<GoHeld>>,
    /// Locks held on some paths only when the function starts.
    entry_maybe: Vec<GoHeld>,
    /// The joins made on every path to each way out of the walked function.
    exit_joins: Vec<(BTreeSet<u32>, BTreeSet<u32>)>,
    /// Functions whose every path joins before returning.
    joins_always: Option<&'a HashSet<FunctionId>>,
}

impl<'a> Walker<'a> {
    fn new(
        program: &'a Program,
        points_to: &'a PointsTo,
        identity: &'a LockIdentity<'a>,
        aliases: &'a Aliases,
        locks: &'a LockOps,
        calls: &'a CallGraph,
        function: FunctionId,
        entry: &'a [GoHeld],
        initialised_statics: &'a HashSet<StaticId>,
    ) -> Walker<'a> {
        Walker {
            program,
            points_to,
            identity,
            aliases,
            locks,
            calls,
            function,
            entry,
            initialised_statics,
            order: 0,
            record_sites: false,
            sites: Vec::new(),
            accesses: Vec::new(),
            relocks: Vec::new(),
            exits: Vec::new(),
            nil_writes: Vec::new(),
            timeline: Timeline::default(),
            deferred_stack: Vec::new(),
            defer_entries: Vec::new(),
            nil_chain: Vec::new(),
            declared_for: HashMap::default(),
            via: None,
            effects: None,
            context_known: true,
            entry_fresh: BTreeSet::new(),
            loop_depth: 0,
            held_at_call: HashMap::default(),
            maybe_at_call: HashMap::default(),
            entry_maybe: Vec::new(),
            exit_joins: Vec::new(),
            joins_always: None,
        }
    }

    fn walk_function(&mut self) {
        let mut state = State {
            fresh: std::mem::take(&mut self.entry_fresh),
            ..State::default()
        };
        for held in self.entry {
            state.held.insert(held.class, *held);
        }
        for held in &self.entry_maybe {
            if !state.held.contains_key(&held.class) {
                state.maybe.insert(held.class, *held);
            }
        }
        self.seed_nil_locals(self.function, &mut state);
        let nodes = &self.program.fact(self.function).nodes;
        if self.walk(self.function, nodes, &mut state) {
            self.exit_joins
                .push((state.joins.clone(), state.spawned.clone()));
        }
        // A spawn every way out of the function that passes it joins after (a return taken
        // before the spawn, `if err != nil { return err }`, does not count).
        for spawn in &mut self.timeline.spawns {
            let mut passing = self
                .exit_joins
                .iter()
                .filter(|(_, spawned)| spawned.contains(&spawn.order))
                .peekable();
            spawn.joined_before_return = passing.peek().is_some()
                && passing.all(|(joins, _)| joins.iter().any(|&join| join > spawn.order));
        }
    }

    /// Map locals declared without a value, and map fields of struct locals built without
    /// them, start nil.
    fn seed_nil_locals(&self, function: FunctionId, state: &mut State) {
        let owner = self.program.function(function).owner;
        let body = self.program.body(owner);
        let file = self.program.function(function).file;
        for (index, local) in body.locals.iter().enumerate() {
            let id = LocalId::from_index(index);
            if local.origin != LocalOrigin::Let {
                continue;
            }
            // Only locals of this function's own code.
            let declared_here = match local.init {
                Some(init) => self.program.function_id(file, body.value_fn(init)) == function,
                None => owner == function,
            };
            if !declared_here {
                continue;
            }
            let ty = self.program.local_ty(owner, id);
            match local.init {
                None if self.program.types.map(ty).is_some() => {
                    state.nil.insert((id, None), Tri::Yes);
                }
                // A struct value declared without a value; a nil pointer has no fields to write.
                None if !matches!(self.program.types.kind(ty), TyKind::Ref(..)) => {
                    if let Some(adt) = self.program.types.adt(ty) {
                        for (name, field_ty) in &self.program.adt(adt).fields {
                            if self.program.types.map(*field_ty).is_some() {
                                state.nil.insert((id, Some(name.clone())), Tri::Yes);
                            }
                        }
                    }
                }
                None => {}
                Some(init) => {
                    if let Value::Struct { fields, .. } = body.value(init) {
                        if let Some(adt) = self.program.types.adt(ty) {
                            for (name, field_ty) in &self.program.adt(adt).fields {
                                if self.program.types.map(*field_ty).is_some()
                                    && !sets_field(fields, name)
                                {
                                    state.nil.insert((id, Some(name.clone())), Tri::Yes);
                                }
                            }
                        }
                    } else if let Value::Ref { inner, .. } = body.value(init) {
                        if let Value::Struct { fields, .. } = body.value(*inner) {
                            if let Some(adt) = self.program.types.adt(ty) {
                                for (name, field_ty) in &self.program.adt(adt).fields {
                                    if self.program.types.map(*field_ty).is_some()
                                        && !sets_field(fields, name)
                                    {
                                        state.nil.insert((id, Some(name.clone())), Tri::Yes);
                                    }
                                }
                            }
                        }
                    } else if self.is_new(owner, init) {
                        // `new(T)`: a zeroed `T`, its map fields nil.
                        if let Some(adt) = self.program.types.adt(ty) {
                            for (name, field_ty) in &self.program.adt(adt).fields {
                                if self.program.types.map(*field_ty).is_some() {
                                    state.nil.insert((id, Some(name.clone())), Tri::Yes);
                                }
                            }
                        }
                    } else if matches!(body.value(init), Value::Path(path) if path.last() == "nil")
                        && self.program.types.map(ty).is_some()
                    {
                        state.nil.insert((id, None), Tri::Yes);
                    }
                }
            }
        }
    }

    /// A nil map (or a struct with nil map fields) handed to a function of the package: walks
    /// the callee with its parameters nil, for the writes it makes before any `make`.
    fn nil_through_call(
        &mut self,
        owner: FunctionId,
        fact: &crate::model::facts::CallFact,
        callee: FunctionId,
        state: &State,
    ) {
        const MAX_NIL_DEPTH: usize = 2;
        if state.nil.values().all(|value| *value != Tri::Yes)
            || self.nil_chain.len() >= MAX_NIL_DEPTH
            || callee == self.function
            || self.nil_chain.contains(&callee)
        {
            return;
        }
        let body = self.program.body(owner);
        let arguments: Vec<ValueId> = fact.positional_operands();
        let params = &self.program.fact(callee).params;
        let mut seeds = Vec::new();
        // A closure of this function (`func() { .. }()`) shares its locals: every nil one is
        // nil in it too.
        if self.owner(callee) == owner {
            for ((local, field), value) in &state.nil {
                if *value == Tri::Yes {
                    let declared = self
                        .declared_for
                        .get(local)
                        .copied()
                        .unwrap_or_else(|| body.local(*local).span);
                    seeds.push(((*local, field.clone()), declared));
                }
            }
        }
        for (&argument, &param) in arguments.iter().zip(params) {
            let local = match body.value(argument) {
                Value::Local(local) => *local,
                Value::Ref { inner, .. } => match body.value(*inner) {
                    Value::Local(local) => *local,
                    _ => continue,
                },
                _ => continue,
            };
            for ((key_local, field), value) in &state.nil {
                if *key_local == local && *value == Tri::Yes {
                    let declared = self
                        .declared_for
                        .get(&local)
                        .copied()
                        .unwrap_or_else(|| body.local(local).span);
                    seeds.push(((param, field.clone()), declared));
                }
            }
        }
        if seeds.is_empty() {
            return;
        }
        let mut walker = Walker::new(
            self.program,
            self.points_to,
            self.identity,
            self.aliases,
            self.locks,
            self.calls,
            callee,
            &[],
            self.initialised_statics,
        );
        walker.nil_chain = self.nil_chain.clone();
        walker.nil_chain.push(self.function);
        walker.via = Some(self.via.unwrap_or(fact.span));
        let mut inner = State::default();
        for ((param, field), declared) in seeds {
            inner.nil.insert((param, field), Tri::Yes);
            walker.declared_for.insert(param, declared);
        }
        let nodes = &self.program.fact(callee).nodes;
        walker.walk(callee, nodes, &mut inner);
        // Only the nil writes: the callee's own walk records everything else.
        self.nil_writes.extend(
            walker
                .nil_writes
                .into_iter()
                .filter(|write| write.via.is_some()),
        );
    }

    /// The value is `new(T)`.
    fn is_new(&self, owner: FunctionId, value: ValueId) -> bool {
        let Value::Call(call) = self.program.body(owner).value(value) else {
            return false;
        };
        matches!(&self.program.body(owner).call(*call).callee, Callee::Path(path) if path.segments.len() == 1 && path.last() == "new")
            && matches!(
                self.program.call_target(owner, *call),
                CallTarget::Lib(LibCall::Construct(_))
            )
    }

    fn next_order(&mut self) -> u32 {
        self.order += 1;
        self.order
    }

    /// Walks `function`'s nodes; false when every path ended.
    fn walk(&mut self, function: FunctionId, nodes: &[Node], state: &mut State) -> bool {
        for node in nodes {
            match node {
                Node::Event(event) => {
                    if !self.event(function, event, state) {
                        return false;
                    }
                }
                Node::Branch(arms) => {
                    // A condition decided under a lock is a use of it.
                    state.quiet = None;
                    let mut joined: Option<State> = None;
                    for arm in arms {
                        let mut arm_state = state.clone();
                        if self.walk(function, arm, &mut arm_state) {
                            joined = Some(match joined {
                                None => arm_state,
                                Some(previous) => previous.join(&arm_state),
                            });
                        }
                    }
                    match joined {
                        Some(joined) => *state = joined,
                        None if arms.is_empty() => {}
                        None => return false,
                    }
                }
                Node::Loop(body) => {
                    state.quiet = None;
                    // A field filled before the loop and assigned again in it is not known to
                    // hold the new map at the top of a later iteration.
                    if !state.fresh.is_empty() {
                        let mut events = Vec::new();
                        crate::graph::calls::collect_events(body, &mut events);
                        let arena = self.program.body(self.owner(function));
                        let assigned: HashSet<LocalId> = events
                            .iter()
                            .filter_map(|event| match event {
                                Event::Assign { target, .. }
                                    if !matches!(arena.value(*target), Value::Index { .. }) =>
                                {
                                    root_local(arena, *target)
                                }
                                _ => None,
                            })
                            .collect();
                        state.fresh.retain(|(local, _)| !assigned.contains(local));
                    }
                    // A later iteration sees what earlier ones assigned: a map assigned
                    // anywhere in the loop is not nil for certain at its top. (A call that may
                    // make it weakens it where the call is: the first iteration writes before.)
                    if state.nil.values().any(|value| *value == Tri::Yes) {
                        let mut events = Vec::new();
                        crate::graph::calls::collect_events(body, &mut events);
                        let arena = self.program.body(self.owner(function));
                        let mut touched = HashSet::default();
                        for event in events {
                            // The variable itself or one of its fields, not an element.
                            if let Event::Assign { target, .. } = event {
                                if !matches!(arena.value(*target), Value::Index { .. }) {
                                    touched.extend(root_local(arena, *target));
                                }
                            }
                        }
                        for (key, value) in state.nil.iter_mut() {
                            if touched.contains(&key.0) && *value == Tri::Yes {
                                *value = Tri::Maybe;
                            }
                        }
                    }
                    let mut body_state = state.clone();
                    let spawns_before = self.timeline.spawns.len();
                    self.loop_depth += 1;
                    let completes = self.walk(function, body, &mut body_state);
                    self.loop_depth -= 1;
                    if completes {
                        // `for .. { go f(); wg.Wait() }`: each iteration waits for its
                        // goroutine before starting the next. Only for the spawns of this
                        // loop's own body: a join after an inner loop waits for the tasks of
                        // the whole inner loop, which still run together.
                        for spawn in &mut self.timeline.spawns[spawns_before..] {
                            if spawn.loop_depth == self.loop_depth + 1
                                && body_state.joins.iter().any(|&join| join > spawn.order)
                            {
                                spawn.joined_each_iteration = true;
                            }
                        }
                        *state = state.join(&body_state);
                    }
                }
            }
        }
        true
    }

    fn owner(&self, function: FunctionId) -> FunctionId {
        self.program.function(function).owner
    }

    fn held_list(state: &State) -> Vec<GoHeld> {
        state.held.values().copied().collect()
    }

    /// Locals declared from the place (`todo := a.pending`, `batch := *p`) after the latest
    /// lock still held was taken, and before `at`: loaded in the current critical section.
    fn declared_from_place_in_section(
        &self,
        owner: FunctionId,
        place: &super::go_private::SwapPlace,
        at: Span,
        state: &State,
    ) -> Vec<LocalId> {
        let Some(section_start) = state
            .held
            .values()
            .map(|held| self.locks.get(held.lock).span)
            .filter(|lock| lock.file == at.file && lock.hi <= at.lo)
            .map(|lock| lock.hi)
            .max()
        else {
            return Vec::new();
        };
        let body = self.program.body(owner);
        body.locals
            .iter()
            .enumerate()
            .filter(|(_, fact)| {
                fact.span.file == at.file
                    && fact.span.lo >= section_start
                    && fact.span.hi <= at.lo
                    && fact
                        .init
                        .and_then(|init| super::go_private::swap_place(body, init))
                        .is_some_and(|loaded| loaded == *place)
            })
            .map(|(index, _)| LocalId::from_index(index))
            .collect()
    }

    fn current_defer(&self) -> Option<DeferSiteId> {
        self.deferred_stack.iter().find_map(|(site, _)| *site)
    }

    fn event(&mut self, function: FunctionId, event: &Event, state: &mut State) -> bool {
        let owner = self.owner(function);
        // A critical section with anything in it (a binding, a read, an exit) is not empty;
        // registering `defer mu.Unlock()` is not something done in it.
        match event {
            Event::Call(_) => {}
            Event::Bind(Slot::Local(local)) if self.is_defer_slot(owner, *local) => {}
            _ => state.quiet = None,
        }
        match event {
            Event::Call(call) => return self.call(function, *call, state),
            Event::Assign {
                target,
                value,
                span,
            } => {
                let body = self.program.body(owner);
                // A swap: a new map stored where a local of the current critical section
                // loaded the old one from (`todo := a.pending; a.pending = make(..)`); the old
                // map is out of the place now, held by the local alone.
                if !state.held.is_empty()
                    && super::go_private::fresh_value(self.program, owner, *value)
                    && let Some(place) = super::go_private::swap_place(body, *target)
                {
                    let mut swapped: Vec<LocalId> = state
                        .swappable
                        .iter()
                        .filter(|(_, loaded)| *loaded == place)
                        .map(|(swapped, _)| *swapped)
                        .collect();
                    swapped
                        .extend(self.declared_from_place_in_section(owner, &place, *span, state));
                    state.fresh_locals.extend(swapped);
                }
                match body.value(*target) {
                    Value::Index { base } => {
                        self.map_access(function, *base, true, true, *span, state);
                    }
                    Value::Local(local) => {
                        state.fresh.retain(|(fresh, _)| fresh != local);
                        if super::go_private::fresh_value(self.program, owner, *value) {
                            state.fresh_locals.insert(*local);
                        } else {
                            state.fresh_locals.remove(local);
                        }
                        state.swappable.retain(|(swapped, _)| swapped != local);
                        if !state.held.is_empty()
                            && let Some(place) = super::go_private::swap_place(body, *value)
                        {
                            state.swappable.insert((*local, place));
                        }
                        let nil =
                            matches!(body.value(*value), Value::Path(path) if path.last() == "nil");
                        if state.nil.contains_key(&(*local, None)) {
                            state
                                .nil
                                .insert((*local, None), if nil { Tri::Yes } else { Tri::No });
                        }
                        // A new struct value: its map fields are nil unless the literal sets
                        // them; any other value is not known to have nil maps.
                        let literal = match body.value(*value) {
                            Value::Struct { fields, .. } => Some(fields),
                            Value::Ref { inner, .. } => match body.value(*inner) {
                                Value::Struct { fields, .. } => Some(fields),
                                _ => None,
                            },
                            _ => None,
                        };
                        for (key, tri) in state.nil.iter_mut() {
                            if let (true, Some(field)) = (key.0 == *local, &key.1) {
                                *tri = match literal {
                                    Some(fields) if !sets_field(fields, field) => Tri::Yes,
                                    _ => Tri::No,
                                };
                            }
                        }
                    }
                    Value::Field { base, name } => {
                        if let Value::Local(local) = body.value(*base) {
                            let key = (*local, Some(name.clone()));
                            if state.nil.contains_key(&key) {
                                state.nil.insert(key, Tri::No);
                            }
                            let fresh = (*local, name.clone());
                            if super::go_private::fresh_value(self.program, owner, *value) {
                                state.fresh.insert(fresh);
                            } else {
                                state.fresh.remove(&fresh);
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::NonNil { value } => {
                let body = self.program.body(owner);
                let key = match body.value(*value) {
                    Value::Local(local) => Some((*local, None)),
                    Value::Field { base, name } => match body.value(*base) {
                        Value::Local(local) => Some((*local, Some(name.clone()))),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(key) = key {
                    if state.nil.contains_key(&key) {
                        state.nil.insert(key, Tri::No);
                    }
                }
            }
            Event::Read { value, span } => {
                let body = self.program.body(owner);
                let map = match body.value(*value) {
                    Value::Index { base } => *base,
                    _ => *value,
                };
                self.map_access(function, map, false, false, *span, state);
            }
            Event::Bind(Slot::Local(local)) if self.is_defer_slot(owner, *local) => {
                state.defers.insert(*local, Tri::Yes);
            }
            Event::Release {
                slot: Slot::Local(local),
                span,
                ..
            } => {
                if state.defers.get(local) == Some(&Tri::Yes) {
                    state.defers.insert(*local, Tri::No);
                    self.run_defer(function, *local, *span, state);
                } else if state.defers.contains_key(local) {
                    state.defers.insert(*local, Tri::No);
                }
            }
            Event::Closure(closure) if self.record_sites && self.deferred_stack.is_empty() => {
                let closure = self
                    .program
                    .function_id(self.program.function(owner).file, *closure);
                if !matches!(self.program.fact(closure).kind, FnKind::DeferBody { .. }) {
                    let order = self.next_order();
                    self.sites.push(CallSite {
                        caller: self.function,
                        callee: closure,
                        held: Self::held_list(state),
                        span: self.program.fact(closure).span,
                        order,
                        fresh: Some(state.fresh.clone()),
                        call: None,
                        maybe: state.maybe.values().copied().collect(),
                    });
                }
            }
            Event::Exit { kind, .. } => {
                if self.deferred_stack.is_empty()
                    && function == self.function
                    && *kind == ExitKind::Function
                {
                    self.exit_joins
                        .push((state.joins.clone(), state.spawned.clone()));
                }
                return false;
            }
            _ => {}
        }
        true
    }

    fn is_defer_slot(&self, owner: FunctionId, local: LocalId) -> bool {
        self.program.body(owner).local(local).origin == LocalOrigin::DeferGuard
    }

    /// The deferred function a defer slot runs, and its site.
    fn defer_target(
        &self,
        function: FunctionId,
        local: LocalId,
    ) -> Option<(DeferSiteId, FunctionId)> {
        let owner = self.owner(function);
        // Deferred code walked where it runs carries the defers of the function that runs it
        // (another arena): a local of that arena is not one of this one.
        let init = self.program.body(owner).locals.get(local.index())?.init?;
        let Value::Closure(closure) = self.program.body(owner).value(init) else {
            return None;
        };
        let body_fn = self
            .program
            .function_id(self.program.function(owner).file, *closure);
        let site = self
            .calls
            .defer_sites
            .iter()
            .position(|site| site.body == body_fn)?;
        Some((DeferSiteId(site as u32), body_fn))
    }

    /// Runs a deferred call where it runs, with the current state.
    fn run_defer(&mut self, function: FunctionId, local: LocalId, span: Span, state: &mut State) {
        let Some((site, body_fn)) = self.defer_target(function, local) else {
            return;
        };
        if self.deferred_stack.len() as u32 > INLINE_DEPTH {
            return;
        }
        // The locks its function holds when the deferred code starts: taking one of them again
        // (before the deferred code releases it) is a relock.
        self.defer_entries.push(DeferEntry {
            site,
            span,
            held: state.held.values().map(|held| held.lock).collect(),
        });
        self.deferred_stack.push((Some(site), body_fn));
        let nodes = &self.program.fact(body_fn).nodes;
        let mut inner = state.clone();
        // A deferred call runs as a whole: its own defers run when it returns.
        if self.walk(body_fn, nodes, &mut inner) {
            *state = State {
                defers: state.defers.clone(),
                ..inner
            };
        }
        self.deferred_stack.pop();
        self.defer_entries.pop();
    }

    /// A lock taken in deferred code: a relock when the function that deferred it still holds
    /// the mutex since before the deferred code started.
    fn check_relock(&mut self, lock: LockOpId, state: &State) {
        let Some(entry) = self.defer_entries.last() else {
            return;
        };
        let op = self.locks.get(lock);
        if !op.blocks() || op.flavor != LockFlavor::Go {
            return;
        }
        let Some(held) = op.lock_class.and_then(|class| state.held.get(&class)) else {
            return;
        };
        if !entry.held.contains(&held.lock)
            || (held.mode == LockMode::Read && op.mode == LockMode::Read)
        {
            return;
        }
        let relock = DeferredRelock {
            site: entry.site,
            lock,
            held: held.lock,
            span: entry.span,
        };
        if !self
            .relocks
            .iter()
            .any(|known| known.site == relock.site && known.lock == relock.lock)
        {
            self.relocks.push(relock);
        }
    }

    fn call(
        &mut self,
        function: FunctionId,
        call: crate::model::facts::CallId,
        state: &mut State,
    ) -> bool {
        let owner = self.owner(function);
        let body = self.program.body(owner);
        let fact = body.call(call);
        let target = self.program.call_target(owner, call);
        let order = self.next_order();
        // Recorded in deferred code too: a function only deferred code calls is walked there
        // and nowhere else.
        {
            let held = Self::held_list(state);
            self.held_at_call
                .entry((function, call))
                .and_modify(|previous| {
                    previous.retain(|kept| held.iter().any(|other| other.class == kept.class))
                })
                .or_insert(held);
            let maybe = self.maybe_at_call.entry((function, call)).or_default();
            for held in state.maybe.values() {
                if !maybe.iter().any(|kept| kept.class == held.class) {
                    maybe.push(*held);
                }
            }
        }
        if let CallTarget::Function(callee) = target {
            self.nil_through_call(owner, fact, callee, state);
        }
        // Passing a nil-tracked map or struct by address, or calling a method on it, may make
        // it; a map operation (`delete(m, k)`, `len(m)`) does not, and nothing makes a map
        // that is there nil again.
        let map_operation = matches!(target, CallTarget::Lib(LibCall::Map { .. }));
        for &arg in fact.args.iter().chain(match &fact.callee {
            Callee::Method { receiver, .. } => Some(receiver),
            _ => None,
        }) {
            if map_operation {
                break;
            }
            if let Some(local) = root_local(body, arg) {
                for (key, value) in state.nil.iter_mut() {
                    if key.0 == local && *value == Tri::Yes {
                        *value = Tri::Maybe;
                    }
                }
            }
        }
        // Anything but the unlock that closes it makes a critical section not empty.
        let quiet = state.quiet.take();
        match target {
            CallTarget::Lib(LibCall::Lock { mode, attempt, .. })
                if attempt != crate::model::LockAttempt::Try =>
            {
                state.emptied = None;
                if let Some(lock) = self.locks.at(owner, call) {
                    self.check_relock(lock, state);
                    if let Some(class) = self.locks.get(lock).lock_class {
                        let held = GoHeld { class, mode, lock };
                        state.held.insert(class, held);
                        state.maybe.remove(&class);
                        state.quiet = Some(held);
                    }
                }
            }
            CallTarget::Lib(LibCall::Unlock { .. }) => {
                state.swappable.clear();
                if let Callee::Method { receiver, .. } = &fact.callee {
                    if let Some(class) = self.identity.class_of(owner, *receiver) {
                        state.held.remove(&class);
                        state.maybe.remove(&class);
                        // A declaration between the two (`n := s.count`) makes no event:
                        // the locals declared there say the section is not empty.
                        let declares = |quiet: &GoHeld| {
                            let lock_end = self.locks.get(quiet.lock).span.hi;
                            self.program.body(owner).locals.iter().any(|local| {
                                local.span.file == fact.span.file
                                    && local.span.lo >= lock_end
                                    && local.span.hi <= fact.span.lo
                            })
                        };
                        if let Some(quiet) =
                            quiet.filter(|quiet| quiet.class == class && !declares(quiet))
                        {
                            state.emptied = Some(EmptySection {
                                class,
                                lock: quiet.lock,
                                unlock: fact.span,
                            });
                        }
                    }
                }
            }
            CallTarget::Lib(LibCall::Done) => {
                state.done = Some(true);
            }
            CallTarget::Lib(LibCall::Join) => {
                self.timeline.joins.push(order);
                if matches!(&fact.callee, Callee::Method { name, .. } if &**name == "Wait") {
                    self.timeline.waits.push(order);
                }
                if let (Callee::Path(path), [channel]) = (&fact.callee, fact.args.as_slice()) {
                    if path.last() == "<recv>" {
                        self.timeline.receives.push((order, *channel));
                    }
                }
                state.joins.insert(order);
            }
            CallTarget::Lib(LibCall::Spawn(_)) if self.deferred_stack.is_empty() => {
                state.spawned.insert(order);
                self.timeline.spawns.push(Spawn {
                    call,
                    order,
                    joins_before: state.joins.iter().copied().collect(),
                    joined_each_iteration: false,
                    joined_before_return: false,
                    loop_depth: self.loop_depth,
                });
            }
            CallTarget::Lib(LibCall::Map { kind, .. }) => {
                let map = match &fact.callee {
                    Callee::Method { receiver, .. } => Some(*receiver),
                    _ => fact.args.first().copied(),
                };
                if let Some(map) = map {
                    let write = kind != MapOpKind::Read;
                    // Removing from a nil map is a no-op: `delete`, `clear`, `Header.Del`.
                    let removes_only = match &fact.callee {
                        Callee::Path(path) => {
                            matches!(path.last(), "delete" | "clear" | "DeleteFunc")
                        }
                        Callee::Method { name, .. } => &**name == "Del",
                        Callee::Dynamic(_) => false,
                    };
                    self.map_access(function, map, write, !removes_only, fact.span, state);
                }
            }
            CallTarget::Lib(LibCall::Exit) => {
                self.pending_exit(function, fact.span, None, state);
                return false;
            }
            CallTarget::Function(callee) => {
                self.call_function((function, call), callee, fact, order, state)
            }
            // A call through a value, an interface or a method value: each function the
            // points-to analysis found it may go to.
            CallTarget::Unknown => {
                for callee in self.calls.call_targets(self.program, function, call) {
                    self.call_function((function, call), callee, fact, order, state);
                }
            }
            _ => {}
        }
        true
    }

    /// A call of a function of the program.
    fn call_function(
        &mut self,
        (function, call): (FunctionId, crate::model::facts::CallId),
        callee: FunctionId,
        fact: &crate::model::facts::CallFact,
        order: u32,
        state: &mut State,
    ) {
        if self.deferred_stack.is_empty()
            && self
                .joins_always
                .is_some_and(|joins| joins.contains(&callee))
        {
            self.timeline.joins.push(order);
            state.joins.insert(order);
        }
        if self.deferred_stack.is_empty() {
            // A helper that may exit the process (`must(err)`) skips this function's pending
            // defers too.
            if state.defers.values().any(|pending| *pending == Tri::Yes) {
                if let Some((exiting, span)) = self.exit_in(function, call, callee) {
                    self.pending_exit(exiting, span, Some(fact.span), state);
                }
            }
            self.timeline
                .calls
                .push((callee, order, state.joins.iter().copied().collect()));
            if self.record_sites {
                self.sites.push(CallSite {
                    caller: self.function,
                    callee,
                    held: Self::held_list(state),
                    span: fact.span,
                    order,
                    fresh: None,
                    call: Some(call),
                    maybe: state.maybe.values().copied().collect(),
                });
            }
            if let Some(effect) = self.effects.and_then(|effects| effects.get(&callee)) {
                for class in &effect.releases {
                    state.held.remove(class);
                    state.maybe.remove(class);
                }
                for held in &effect.acquires {
                    state.held.insert(held.class, *held);
                }
            }
        } else if (self.deferred_stack.len() as u32) <= INLINE_DEPTH
            && !self
                .deferred_stack
                .iter()
                .any(|(_, on_stack)| *on_stack == callee)
        {
            // Deferred code: follow the call where it runs.
            self.deferred_stack.push((None, callee));
            let nodes = &self.program.fact(callee).nodes;
            let mut inner = state.clone();
            // A closure of this function shares its locals: what is nil here is nil there.
            if self.owner(callee) != self.owner(function) {
                inner.nil.clear();
            }
            if self.walk(callee, nodes, &mut inner) {
                state.held = inner.held;
                state.maybe = inner.maybe;
                state.done = inner.done;
            }
            self.deferred_stack.pop();
        } else if let Some(effect) = self.effects.and_then(|effects| effects.get(&callee)) {
            // Too deep to follow: what it does to the locks still counts.
            for class in &effect.releases {
                state.held.remove(class);
                state.maybe.remove(class);
            }
            for held in &effect.acquires {
                state.held.insert(held.class, *held);
            }
        }
    }

    fn map_access(
        &mut self,
        function: FunctionId,
        map: ValueId,
        write: bool,
        panics_when_nil: bool,
        span: Span,
        state: &State,
    ) {
        let owner = self.owner(function);
        let ty = self.program.value_ty(owner, map);
        if self.program.types.map(ty).is_none() {
            return;
        }
        if write && panics_when_nil {
            self.check_nil_write(function, map, span, state);
        }
        let Some(class) = self.aliases.class_of(self.program, owner, map) else {
            return;
        };
        let order = self.next_order();
        self.accesses.push(MapAccess {
            function,
            walked: self.function,
            class,
            write,
            panics_when_nil: write && panics_when_nil,
            map,
            span,
            held: Self::held_list(state),
            maybe_held: state.maybe.values().copied().collect(),
            deferred: self.current_defer(),
            after_done: !self.deferred_stack.is_empty() && state.done == Some(true),
            order,
            joins_before: state.joins.iter().copied().collect(),
            root: root_object(self.program.body(owner), map),
            context_known: self.context_known,
            after_empty_section: state.emptied.filter(|_| write && state.held.is_empty()),
            known_non_nil: nil_key(self.program.body(owner), map)
                .is_some_and(|key| state.nil.get(&key) == Some(&Tri::No)),
            fresh_local: matches!(self.program.body(owner).value(map),
                Value::Local(local) if state.fresh_locals.contains(local)),
            fresh_field: match self.program.body(owner).value(map) {
                Value::Field { base, name } => match self.program.body(owner).value(*base) {
                    Value::Local(local) => state.fresh.contains(&(*local, name.clone())),
                    _ => false,
                },
                _ => false,
            },
        });
    }

    fn check_nil_write(&mut self, function: FunctionId, map: ValueId, span: Span, state: &State) {
        let owner = self.owner(function);
        let body = self.program.body(owner);
        let key = match body.value(map) {
            Value::Local(local) => Some((*local, None)),
            Value::Field { base, name } => match body.value(*base) {
                Value::Local(local) => Some((*local, Some(name.clone()))),
                Value::Deref(inner) => match body.value(*inner) {
                    Value::Local(local) => Some((*local, Some(name.clone()))),
                    _ => None,
                },
                _ => None,
            },
            Value::Path(path) => {
                let module = self.program.function(owner).module;
                if let Some(Resolved::Item(ItemRef::Static(id), extra)) =
                    self.program
                        .tree
                        .resolve(module, &path.segments, path.leading_colon)
                {
                    let declared_without_value = extra.is_empty()
                        && self
                            .program
                            .files
                            .iter()
                            .flat_map(|file| file.facts.statics.iter())
                            .filter(|item| item.name == self.program.static_item(id).name)
                            .all(|item| item.init.is_none());
                    if declared_without_value && !self.initialised_statics.contains(&id) {
                        self.nil_writes.push(NilWrite {
                            function,
                            span,
                            declared: self.program.static_item(id).span,
                            map,
                            deferred: self.current_defer(),
                            via: None,
                        });
                    }
                }
                None
            }
            _ => None,
        };
        if let Some(key) = key {
            if state.nil.get(&key) == Some(&Tri::Yes) {
                let declared = self
                    .declared_for
                    .get(&key.0)
                    .copied()
                    .unwrap_or_else(|| body.local(key.0).span);
                self.nil_writes.push(NilWrite {
                    function,
                    span,
                    declared,
                    map,
                    deferred: self.current_defer(),
                    via: self.via,
                });
            }
        }
    }

    /// At `os.Exit`: every defer still pending is skipped.
    fn pending_exit(&mut self, function: FunctionId, span: Span, via: Option<Span>, state: &State) {
        let pending: Vec<LocalId> = state
            .defers
            .iter()
            .filter(|(_, state)| **state == Tri::Yes)
            .map(|(local, _)| *local)
            .collect();
        let mut skipped = Vec::new();
        for local in pending {
            let Some((site, body_fn)) = self
                .defer_target(self.function, local)
                .or_else(|| self.defer_target(function, local))
            else {
                continue;
            };
            if let Some(cleanup) = self.cleanup_of(body_fn) {
                skipped.push((site, cleanup));
            }
        }
        if !skipped.is_empty() {
            self.exits.push(PendingExit {
                function,
                span,
                skipped,
                via,
            });
        }
    }

    /// An `os.Exit` / `log.Fatal` call in the function a call of `caller` goes to, or in a
    /// function that one calls directly, made outside deferred and spawned code. The calls are
    /// followed in the contexts of this call (a helper calling the closure it is handed calls
    /// the one handed here, not every closure handed to it anywhere).
    fn exit_in(
        &self,
        caller: FunctionId,
        call: crate::model::facts::CallId,
        callee: FunctionId,
    ) -> Option<(FunctionId, Span)> {
        let caller_body = self.program.function(caller).body;
        let mut level: Vec<(FunctionId, Option<Ctx>)> = self
            .points_to
            .contexts_of(caller_body)
            .iter()
            .flat_map(|&ctx| self.points_to.targets_in(caller_body, ctx, call).iter())
            .filter(|(target, _)| *target == callee)
            .map(|&(target, ctx)| (target, Some(ctx)))
            .collect();
        if level.is_empty() {
            level.push((callee, None));
        }
        let mut seen: HashSet<(FunctionId, Option<Ctx>)> = level.iter().copied().collect();
        for _ in 0..2 {
            let mut next = Vec::new();
            for &(current, ctx) in &level {
                let owner = self.owner(current);
                let body = self.program.function(current).body;
                for (own_call, _) in self.program.own_calls(current) {
                    if self.program.call_target(owner, own_call) == CallTarget::Lib(LibCall::Exit) {
                        return Some((current, self.program.body(owner).call(own_call).span));
                    }
                    match ctx {
                        Some(ctx) => {
                            for &(target, target_ctx) in
                                self.points_to.targets_in(body, ctx, own_call)
                            {
                                if seen.insert((target, Some(target_ctx))) {
                                    next.push((target, Some(target_ctx)));
                                }
                            }
                        }
                        None => {
                            for target in self.calls.call_targets(self.program, current, own_call) {
                                if seen.insert((target, None)) {
                                    next.push((target, None));
                                }
                            }
                        }
                    }
                }
            }
            level = next;
        }
        None
    }

    /// What a deferred function does that is lost when it is skipped: an effect outside the
    /// process's memory (a print, a flush, a removal), in its own code or in what it calls.
    /// Unlocks and map writes are not: the process's memory is gone with it.
    fn cleanup_of(&self, function: FunctionId) -> Option<SkippedCleanup> {
        crate::analysis::effects::cleanup_effect(self.program, self.calls, function, INLINE_DEPTH)
            .map(|(span, effect)| SkippedCleanup { span, effect })
    }
}

/// A struct literal sets a field: by name, or by position (`Form{a, b}` sets every field).
fn sets_field(fields: &[(Sym, ValueId)], name: &Sym) -> bool {
    fields
        .iter()
        .any(|(given, _)| given == name || given.starts_with(|c: char| c.is_ascii_digit()))
}

/// The object a place is reached from: the base of its field, index and dereference chain.
pub fn root_object(body: &crate::model::facts::Body, value: ValueId) -> ValueId {
    match body.value(value) {
        Value::Ref { inner, .. }
        | Value::Deref(inner)
        | Value::Field { base: inner, .. }
        | Value::Index { base: inner } => root_object(body, *inner),
        _ => value,
    }
}

/// The nil-tracked place a map expression is: a local, or a field of a local struct (or of
/// what a local points to).
fn nil_key(body: &crate::model::facts::Body, map: ValueId) -> Option<NilKey> {
    match body.value(map) {
        Value::Local(local) => Some((*local, None)),
        Value::Field { base, name } => match body.value(*base) {
            Value::Local(local) => Some((*local, Some(name.clone()))),
            Value::Deref(inner) => match body.value(*inner) {
                Value::Local(local) => Some((*local, Some(name.clone()))),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// The local a value starts from (`&s`, `s.items`, `s`).
fn root_local(body: &crate::model::facts::Body, value: ValueId) -> Option<LocalId> {
    match body.value(value) {
        Value::Local(local) => Some(*local),
        Value::Ref { inner, .. } | Value::Deref(inner) | Value::Field { base: inner, .. } => {
            root_local(body, *inner)
        }
        _ => None,
    }
}
