//! Go map races: pairs of accesses to one map object, at least one a write, by parties that can
//! run at the same time (two goroutines, a goroutine spawned in a loop and its siblings, a
//! goroutine and its spawner between the spawn and the join), not ordered by a common lock.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use std::collections::BTreeMap;
use std::rc::Rc;

use super::go_private::PrivateLocals;
use super::go_state::{GoHeld, GoState, MapAccess, constructs, exported_api};
use super::loops::Loops;
use super::sharing::{Sharing, SharingQueries, TaskId};
use super::tasks::Tasks;
use crate::graph::calls::{CallGraph, SpawnSiteId};
use crate::graph::points_to::{Ctx, MAX_CONTEXT, ObjId, ObjKind, PointsTo};
use crate::model::facts::Value;
use crate::model::modules::FunctionId;
use crate::model::{LockMode, Program};

/// How many access instances (of different accesses, parties or locks) one object may have for
/// them to be paired.
const MAX_INSTANCES_PER_OBJECT: usize = 16_384;

/// What decides how an access instance meets the others on one object: all but the other
/// objects it touches.
type InstanceKind<'a> = (
    usize,
    &'a [Party],
    &'a [GoHeld],
    &'a [GoHeld],
    bool,
    Option<(FunctionId, FunctionId)>,
);

/// An access in one context of its arena.
struct AccessInstance {
    /// Index in [`GoState::accesses`].
    access: usize,
    objects: Vec<ObjId>,
    parties: Vec<Party>,
    /// The locks held: in the function, and by the callers at the calls of the context.
    held: Vec<GoHeld>,
    /// Of the locks not in `held`, those held on some paths ([`MapAccess::maybe_held`]).
    maybe: Vec<GoHeld>,
    /// The innermost call of the context hands the function an object its caller still
    /// keeps to itself.
    private: bool,
    /// For an instance split by callers: the function that makes the call and the function it
    /// calls (the outermost of the context), whose place in the caller orders the access.
    entry: Option<(FunctionId, FunctionId)>,
}

/// The argument a call hands to the parameter an access is rooted at (`m` in `put(m, k)`
/// for an access through `put`'s parameter), in the caller's arena, with the call's place.
fn argument_for_root(
    program: &Program,
    access: &MapAccess,
    caller: FunctionId,
    call: crate::model::facts::CallId,
) -> Option<(
    FunctionId,
    crate::model::facts::ValueId,
    crate::source::Span,
)> {
    let owner = program.function(access.function).owner;
    let Value::Local(local) = program.body(owner).value(access.root) else {
        return None;
    };
    let position = program
        .fact(access.function)
        .params
        .iter()
        .position(|param| param == local)?;
    let argument = argument_at(program, access.function, caller, call, position)?;
    let caller_owner = program.function(caller).owner;
    let fact = program.body(caller_owner).call(call);
    let root = super::go_state::root_object(program.body(caller_owner), argument);
    Some((caller_owner, root, fact.span))
}

/// Whether an access reaches its map from a package variable as written: `cache[k]`,
/// `srv.sessions[k]` with `srv` a package variable, or a local taken from one.
fn rooted_at_static(program: &Program, access: &MapAccess) -> bool {
    let owner = program.function(access.function).owner;
    let body = program.body(owner);
    let module = program.function(owner).module;
    let mut value = access.root;
    for _ in 0..6 {
        match body.value(value) {
            Value::Path(path) => {
                return matches!(
                    program
                        .tree
                        .resolve(module, &path.segments, path.leading_colon),
                    Some(crate::model::Resolved::Item(
                        crate::model::ItemRef::Static(_),
                        _
                    ))
                );
            }
            Value::Local(local) => match body.local(*local).init {
                Some(init) => value = super::go_state::root_object(body, init),
                None => return false,
            },
            _ => return false,
        }
    }
    false
}

/// A struct type with a lock among its fields (or in a field's struct, `depth` levels down).
fn holds_lock(program: &Program, ty: crate::model::types::TyId, depth: u32) -> bool {
    let Some(adt) = program.types.adt(ty) else {
        return false;
    };
    program.adt(adt).fields.iter().any(|&(_, field)| {
        program.types.lock(field).is_some() || (depth > 0 && holds_lock(program, field, depth - 1))
    })
}

/// Whether the code a call runs starts goroutines (which may take what it is handed).
fn starts_goroutines(
    queries: &SharingQueries<'_>,
    calls: &CallGraph,
    program: &Program,
    caller: FunctionId,
    call: crate::model::facts::CallId,
) -> bool {
    let targets = calls.call_targets(program, caller, call);
    if targets.is_empty() {
        return true;
    }
    let reached = queries.reached(&targets);
    calls
        .spawn_sites
        .iter()
        .any(|site| reached.contains(&site.spawner))
}

/// The parameter of the context's outermost function (the receiver first) that the map of an
/// access is reached from, through the calls of the context: `args` of `sendEvent` for
/// `delete(metadata, k)` in `RemoveSensitiveEntries(args.Object.UserDefined)`. `None` when
/// some call of the context hands over what its caller made itself (the context tells the
/// objects apart already) or starts a task.
fn outermost_parameter(
    program: &Program,
    access: &MapAccess,
    sites: &[crate::graph::points_to::CallSite],
    spawn_site_of: &HashMap<(FunctionId, crate::model::facts::CallId), SpawnSiteId>,
    calls: &CallGraph,
) -> Option<Bound> {
    let mut function = access.function;
    let (mut position, mut steps) = parameter_position(program, function, access.map)?;
    for &(caller, call) in sites.iter().rev() {
        if spawn_site_of.contains_key(&(caller, call)) || calls.is_spawned_call(caller, call) {
            return None;
        }
        let argument = argument_at(program, function, caller, call, position)?;
        let (outer, more) = parameter_position(program, caller, argument)?;
        position = outer;
        steps += more;
        function = caller;
    }
    Some(Bound {
        function,
        position,
        steps,
    })
}

/// A function, the position of its parameter (the receiver first) a map is reached from, and
/// how many fields and elements below that parameter the map is.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Bound {
    function: FunctionId,
    position: usize,
    steps: u32,
}

/// The position among a named function's parameters (the receiver first) of the parameter a
/// value is reached from: `m`, `s.items`, `args.Object.UserDefined`, or a local alias of one
/// (`v := s.m`).
///
/// With the position, how many fields and elements down from the parameter the value is.
fn parameter_position(
    program: &Program,
    function: FunctionId,
    value: crate::model::facts::ValueId,
) -> Option<(usize, u32)> {
    if program.function(function).owner != function {
        return None;
    }
    let body = program.body(function);
    // Down to the object a place starts from, counting the fields and elements on the way.
    let root_of = |mut value: crate::model::facts::ValueId, steps: &mut u32| loop {
        match body.value(value) {
            Value::Ref { inner, .. } | Value::Deref(inner) => value = *inner,
            Value::Field { base, .. } | Value::Index { base } => {
                *steps += 1;
                value = *base;
            }
            _ => return value,
        }
    };
    let mut steps = 0;
    let mut root = root_of(value, &mut steps);
    for _ in 0..3 {
        let Value::Local(local) = body.value(root) else {
            return None;
        };
        if let Some(position) = program
            .fact(function)
            .params
            .iter()
            .position(|param| param == local)
        {
            return Some((position, steps));
        }
        root = root_of(body.local(*local).init?, &mut steps);
    }
    None
}

/// The value a call hands to `callee`'s parameter at `position` (the receiver first for a
/// method called as one), in the caller's arena.
fn argument_at(
    program: &Program,
    callee: FunctionId,
    caller: FunctionId,
    call: crate::model::facts::CallId,
    position: usize,
) -> Option<crate::model::facts::ValueId> {
    let fact = program.body(program.function(caller).owner).call(call);
    let method = matches!(
        program.fact(callee).kind,
        crate::model::facts::FnKind::Method {
            self_kind: Some(_),
            ..
        }
    );
    match (&fact.callee, method) {
        (crate::model::facts::Callee::Method { receiver, .. }, true) => {
            if position == 0 {
                Some(*receiver)
            } else {
                fact.args.get(position - 1).copied()
            }
        }
        (_, true) => None,
        (_, false) => fact.args.get(position).copied(),
    }
}

/// One call of a function: the caller, the call, and the objects the argument of the bound
/// parameter reaches as far down as the map is below the parameter.
struct CallerObjects {
    caller: FunctionId,
    call: crate::model::facts::CallId,
    reached: HashSet<ObjId>,
    private: bool,
}

/// What splitting an instance by callers reads.
struct SplitCx<'a, 'b> {
    program: &'a Program,
    points_to: &'a PointsTo,
    calls: &'a CallGraph,
    go: &'a GoState,
    queries: &'a SharingQueries<'b>,
    parties_of: &'a dyn Fn(FunctionId) -> Vec<Party>,
}

/// How many calls of one function are told apart; a function called from more places keeps
/// one instance for all of them.
const MAX_SPLIT_CALLERS: usize = 256;

/// Splits an instance that stands for every caller of `bound`'s function into one instance
/// per call site, with the objects that call's argument reaches, the parties that make the
/// call, and the locks held at it; the objects no call site accounts for (handed in by callers
/// outside the program, or through calls not seen) keep the instance as it was.
fn split_by_callers(
    cx: &SplitCx<'_, '_>,
    memo: &mut HashMap<Bound, Rc<Vec<CallerObjects>>>,
    private: &mut PrivateLocals<'_>,
    bound: Bound,
    instance: AccessInstance,
    out: &mut Vec<AccessInstance>,
) {
    let program = cx.program;
    let callers = match memo.get(&bound) {
        Some(found) => found.clone(),
        None => {
            let Bound {
                function,
                position,
                steps,
            } = bound;
            let mut found = Vec::new();
            let edges: Vec<(FunctionId, crate::model::facts::CallId)> = cx
                .calls
                .edges_to(function)
                .filter_map(|(caller, kind)| match kind {
                    crate::graph::calls::EdgeKind::Call(call) => Some((caller, call)),
                    _ => None,
                })
                .collect();
            if edges.len() <= MAX_SPLIT_CALLERS {
                for (caller, call) in edges {
                    let Some(argument) = argument_at(program, function, caller, call, position)
                    else {
                        continue;
                    };
                    let caller_owner = program.function(caller).owner;
                    let roots = cx.points_to.pts(program, caller_owner, argument);
                    let root = super::go_state::root_object(program.body(caller_owner), argument);
                    let span = program.body(caller_owner).call(call).span;
                    found.push(CallerObjects {
                        caller,
                        call,
                        reached: cx.queries.within_depth(roots, steps.min(MAX_SPLIT_DEPTH)),
                        private: private.is_private(caller_owner, root, span),
                    });
                }
            }
            let found = Rc::new(found);
            memo.insert(bound, found.clone());
            found
        }
    };
    if callers.is_empty() {
        out.push(instance);
        return;
    }
    let accounted = |object: ObjId, reached: &HashSet<ObjId>| {
        let mut current = object;
        for _ in 0..=MAX_SPLIT_DEPTH {
            if reached.contains(&current) {
                return true;
            }
            match cx.points_to.object(current).kind {
                ObjKind::Sub { parent, .. } => current = parent,
                _ => return false,
            }
        }
        false
    };
    let mut residual: Vec<ObjId> = instance.objects.clone();
    for site in callers.iter() {
        let objects: Vec<ObjId> = instance
            .objects
            .iter()
            .copied()
            .filter(|&object| accounted(object, &site.reached))
            .collect();
        if objects.is_empty() {
            continue;
        }
        residual.retain(|object| !objects.contains(object));
        let of_caller = (cx.parties_of)(site.caller);
        let parties: Vec<Party> = instance
            .parties
            .iter()
            .copied()
            .filter(|party| of_caller.contains(party))
            .collect();
        let mut held = instance.held.clone();
        add_locks(&mut held, cx.go.held_at_call.get(&(site.caller, site.call)));
        let mut maybe = instance.maybe.clone();
        add_locks(
            &mut maybe,
            cx.go.maybe_at_call.get(&(site.caller, site.call)),
        );
        maybe.retain(|lock| !held.iter().any(|kept| kept.class == lock.class));
        out.push(AccessInstance {
            access: instance.access,
            objects,
            parties,
            held,
            maybe,
            private: instance.private || site.private,
            entry: Some((site.caller, bound.function)),
        });
    }
    if !residual.is_empty() {
        out.push(AccessInstance {
            objects: residual,
            ..instance
        });
    }
}

/// How many fields down from what a call hands over a map is looked for; how many fields up
/// from a field object no code stored (`ObjKind::Sub`) its owner is.
const MAX_SPLIT_DEPTH: u32 = 4;

/// Adds the locks a call is made with to those held, one per lock class.
fn add_locks(held: &mut Vec<GoHeld>, at_call: Option<&Vec<GoHeld>>) {
    for lock in at_call.into_iter().flatten() {
        if !held.iter().any(|kept| kept.class == lock.class) {
            held.push(*lock);
        }
    }
}

/// Who runs an access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Party {
    /// The goroutines started at a spawn site (running one handed closure, when the site's
    /// function runs a func value).
    Task(TaskId),
    /// The code that is not in a goroutine of its own (`main` and what it calls).
    Main,
}

/// Why two accesses overlap in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlap {
    /// Goroutines of two spawn sites.
    TwoSites,
    /// Several goroutines of one spawn site (in a loop, or a handler).
    Siblings,
    /// A goroutine and its spawner, between the spawn and the join.
    WithSpawner,
    /// A goroutine's deferred code runs after its `wg.Done()`, so the spawner's access after
    /// `wg.Wait()` is not ordered after it.
    AfterWait,
    /// A goroutine nothing waits for keeps running after its spawner returns, while callers
    /// of an exported function use the same object.
    Outlives,
}

/// One access a write races with.
#[derive(Clone, Debug)]
pub struct Conflict {
    /// Index of the other access in [`GoState::accesses`] (the write itself when sibling
    /// goroutines race on it).
    pub partner: usize,
    pub overlap: Overlap,
    /// The spawn sites involved.
    pub sites: Vec<SpawnSiteId>,
}

/// A write that races with other accesses.
#[derive(Clone, Debug)]
pub struct Race {
    /// Index of the write in [`GoState::accesses`].
    pub write: usize,
    /// One conflict per kind of overlap, the first found.
    pub conflicts: Vec<Conflict>,
}

/// Every race, by write.
#[derive(Debug, Default)]
pub struct GoRaces {
    pub races: Vec<Race>,
}

impl GoRaces {
    pub fn compute(
        program: &Program,
        points_to: &PointsTo,
        calls: &CallGraph,
        tasks: &Tasks,
        go: &GoState,
        loops: &Loops,
    ) -> GoRaces {
        if calls.spawn_sites.is_empty() {
            return GoRaces::default();
        }
        let sharing = Sharing::compute(points_to);
        let queries = SharingQueries::new(program, points_to, calls, loops, tasks, go, &sharing);
        let main_reach = main_reach(program, calls);
        // The objects each access touches.
        let handed_to_goroutine: HashSet<(crate::model::BodyId, crate::model::facts::LocalId)> =
            calls
                .spawn_sites
                .iter()
                .flat_map(|site| site.bodies.iter())
                .flat_map(|&body| {
                    let owner = program.function(body).owner;
                    let body_id = program.function(owner).body;
                    program
                        .fact(body)
                        .captures
                        .iter()
                        .map(move |&local| (body_id, local))
                })
                .collect();
        // A method value handed to a spawn (`time.AfterFunc(d, c.retry)`) hands over its
        // receiver.
        let mut handed_to_goroutine = handed_to_goroutine;
        for site in &calls.spawn_sites {
            let owner = program.function(site.spawner).owner;
            let body = program.body(owner);
            for &arg in &body.call(site.call).args {
                if let Value::Field { base, .. } = body.value(arg) {
                    if let Value::Local(local) = body.value(*base) {
                        handed_to_goroutine.insert((program.function(owner).body, *local));
                    }
                }
            }
        }
        let mut private = PrivateLocals::new(program, loops, handed_to_goroutine);
        let parties_of = |function: FunctionId| -> Vec<Party> {
            let mut parties: Vec<Party> = tasks
                .sites_running(function)
                .iter()
                .flat_map(|&site| queries.tasks_running(site, function))
                .map(Party::Task)
                .collect();
            if main_reach.contains(&function) {
                parties.push(Party::Main);
            }
            parties
        };
        let parties: Vec<Vec<Party>> = go
            .accesses
            .iter()
            .map(|access| parties_of(access.walked))
            .collect();
        let spawn_site_of: HashMap<(FunctionId, crate::model::facts::CallId), SpawnSiteId> = calls
            .spawn_sites
            .iter()
            .enumerate()
            .map(|(index, site)| ((site.spawner, site.call), SpawnSiteId(index as u32)))
            .collect();
        // Each access once per context its code was analysed in: the objects it touches
        // there, and who runs it there (the tasks that run the outermost caller of the
        // context; every party of the function for the context-free instance).
        // An arena analysed per call site whose calls all got contexts: its context-free
        // instance is for the callers outside the program, which only an entry has.
        let per_call_site = |body: crate::model::BodyId| {
            points_to.has_contexts(body) && !points_to.overflowed(body)
        };
        let external_callers = |function: FunctionId| {
            if exported_api(program, function) {
                vec![Party::Main]
            } else {
                Vec::new()
            }
        };
        let run_once = run_once(program, points_to, calls);
        let mut instances: Vec<AccessInstance> = Vec::new();
        let mut callers_of: HashMap<Bound, Rc<Vec<CallerObjects>>> = HashMap::default();
        // What each argument of a call reaches through fields, asked once per argument.
        let mut reach_of: HashMap<(FunctionId, crate::model::facts::ValueId), Rc<HashSet<ObjId>>> =
            HashMap::default();
        // The closures that run only as goroutines, and the closures inside them (a named
        // function a spawn runs may also be called; its spawned call marks where it starts).
        let goroutine_bodies = calls.spawn_bodies();
        // The goroutine closure a function is (or is nested in).
        let goroutine_closure = |mut function: FunctionId| loop {
            let parent = program.fact(function).kind.parent()?;
            if goroutine_bodies.contains(&function) {
                return Some(function);
            }
            function = program.function_id(program.function(function).file, parent);
        };
        let runs_as_goroutine = |function: FunctionId| goroutine_closure(function).is_some();
        for (index, access) in go.accesses.iter().enumerate() {
            let owner = program.function(access.function).owner;
            let body = program.function(owner).body;
            for &ctx in points_to.contexts_of(body) {
                let objects = points_to.pts_in(body, ctx, access.map);
                if objects.is_empty() {
                    continue;
                }
                let sites = points_to.context(ctx);
                let instance_parties = if ctx == Ctx::EMPTY {
                    // The context-free instance of a function analysed per call site stands
                    // for the callers outside the program (its seen calls have contexts of
                    // their own): no party of the program runs it, unless it is an entry.
                    if per_call_site(body) {
                        external_callers(access.walked)
                    } else {
                        parties[index].clone()
                    }
                } else if sites.len() < MAX_CONTEXT
                    && per_call_site(program.function(program.function(sites[0].0).owner).body)
                {
                    // A context shorter than the limit starts in the outermost caller's
                    // context-free instance: the same holds of it.
                    external_callers(sites[0].0)
                } else {
                    // Of the parties that run the function, those that run it through the
                    // calls of this context: the tasks and `main` that run its outermost
                    // caller, and the tasks started within the context's calls.
                    let outermost = sites[0].0;
                    let chain: Vec<FunctionId> = sites
                        .iter()
                        .flat_map(|&(caller, _)| [caller, program.function(caller).owner])
                        .chain(std::iter::once(owner))
                        .collect();
                    // A call of the context that starts a task (`time.AfterFunc(d, c.retry)`):
                    // the code after it runs only in that task.
                    let spawned = sites
                        .iter()
                        .rev()
                        .find_map(|&(caller, call)| spawn_site_of.get(&(caller, call)).copied());
                    // A call of the context made by a goroutine closure: the code runs in the
                    // tasks that run that closure only, not in those of the other spawns of
                    // the closure's function.
                    let in_closure = sites
                        .iter()
                        .rev()
                        .find_map(|&(caller, _)| goroutine_closure(caller));
                    parties[index]
                        .iter()
                        .copied()
                        .filter(|party| match (party, spawned) {
                            (Party::Task(task), Some(site)) => task.site == site,
                            (Party::Main, Some(_)) => false,
                            (Party::Task(task), None) if in_closure.is_some() => in_closure
                                .is_some_and(|closure| {
                                    task.closure == Some(closure)
                                        || calls.spawn_sites[task.site.0 as usize]
                                            .bodies
                                            .contains(&closure)
                                }),
                            (Party::Main, None) if in_closure.is_some() => false,
                            (party, None) => match party {
                                Party::Main => main_reach.contains(&outermost),
                                Party::Task(task) => {
                                    let spawner = calls.spawn_sites[task.site.0 as usize].spawner;
                                    let runs_outermost = match task.closure {
                                        Some(closure) => {
                                            queries.reached(&[closure]).contains(&outermost)
                                        }
                                        None => queries
                                            .reached(
                                                &calls.spawn_sites[task.site.0 as usize].bodies,
                                            )
                                            .contains(&outermost),
                                    };
                                    runs_outermost
                                        || chain.contains(&program.function(spawner).owner)
                                        || chain.contains(&spawner)
                                }
                            },
                        })
                        .collect()
                };
                // The locks the callers hold at the calls of the context, and whether the
                // innermost call hands the callee a map its caller keeps to itself.
                // Only the calls made within the task the access runs in: a goroutine starts
                // with no lock, whatever its creator held where it started it.
                let mut within = 0;
                for (position, &(caller, call)) in sites.iter().enumerate() {
                    if spawn_site_of.contains_key(&(caller, call))
                        || calls.is_spawned_call(caller, call)
                    {
                        within = position + 1;
                    } else if runs_as_goroutine(caller) {
                        within = position;
                    }
                }
                if runs_as_goroutine(access.walked) {
                    within = sites.len();
                }
                let mut held = access.held.clone();
                for &(caller, call) in &sites[within..] {
                    add_locks(&mut held, go.held_at_call.get(&(caller, call)));
                }
                let private_at_call = (access.walked == access.function
                    && sites.last().is_some_and(|&(caller, call)| {
                        argument_for_root(program, access, caller, call).is_some_and(
                            |(caller_owner, argument, at)| {
                                private.is_private(caller_owner, argument, at)
                            },
                        )
                    }))
                    // Further up the context: a call handed an object its caller made and
                    // keeps to itself yet (`ret.restore()` in a constructor), and the map is
                    // that object's.
                    || sites.iter().any(|&(caller, call)| {
                        let caller_owner = program.function(caller).owner;
                        let fact = program.body(caller_owner).call(call);
                        let receiver = match &fact.callee {
                            crate::model::facts::Callee::Method { receiver, .. } => {
                                Some(*receiver)
                            }
                            _ => None,
                        };
                        receiver.into_iter().chain(fact.args.iter().copied()).any(|argument| {
                            let root = super::go_state::root_object(
                                program.body(caller_owner),
                                argument,
                            );
                            let before_call = crate::source::Span {
                                hi: fact.span.lo,
                                ..fact.span
                            };
                            private.is_private(caller_owner, root, before_call)
                                && !starts_goroutines(&queries, calls, program, caller, call)
                                && {
                                    let reach = reach_of
                                        .entry((caller_owner, argument))
                                        .or_insert_with(|| {
                                            Rc::new(sharing.reach(&points_to.pts(
                                                program,
                                                caller_owner,
                                                argument,
                                            )))
                                        });
                                    objects.iter().all(|object| reach.contains(object))
                                }
                        })
                    });
                let mut maybe = access.maybe_held.clone();
                for &(caller, call) in sites {
                    add_locks(&mut maybe, go.maybe_at_call.get(&(caller, call)));
                }
                maybe.retain(|lock| !held.iter().any(|kept| kept.class == lock.class));
                let instance = AccessInstance {
                    access: index,
                    objects: objects.to_vec(),
                    parties: instance_parties,
                    maybe,
                    held,
                    private: private_at_call,
                    entry: None,
                };
                // An instance that stands for every caller of the context's outermost
                // function, on a map that function's caller hands it (`sendEvent(args)` ..
                // `delete(args.Object.UserDefined, k)`), is split by those callers: each
                // call site's objects go with the parties that make that call, and its locks.
                let for_every_caller = if ctx == Ctx::EMPTY {
                    !per_call_site(body)
                } else {
                    !(sites.len() < MAX_CONTEXT
                        && per_call_site(program.function(program.function(sites[0].0).owner).body))
                };
                let bound = (for_every_caller
                    && within == 0
                    && !runs_as_goroutine(access.walked)
                    && access.walked == access.function)
                    .then(|| outermost_parameter(program, access, sites, &spawn_site_of, calls))
                    .flatten();
                match bound {
                    Some(bound) => split_by_callers(
                        &SplitCx {
                            program,
                            points_to,
                            calls,
                            go,
                            queries: &queries,
                            parties_of: &parties_of,
                        },
                        &mut callers_of,
                        &mut private,
                        bound,
                        instance,
                        &mut instances,
                    ),
                    None => instances.push(instance),
                }
            }
        }
        // The locks each instance holds, on every path or on some.
        let locks_of: Vec<Vec<GoHeld>> = instances
            .iter()
            .map(|instance| {
                instance
                    .held
                    .iter()
                    .chain(&instance.maybe)
                    .copied()
                    .collect()
            })
            .collect();
        let mut by_object: HashMap<ObjId, Vec<usize>> = HashMap::default();
        for (position, instance) in instances.iter().enumerate() {
            // (A nil map is never written: the write panics, which `nil-map-write` reports.)
            for &object in instance
                .objects
                .iter()
                .filter(|&&object| !points_to.is_nil(object))
            {
                by_object.entry(object).or_default().push(position);
            }
        }
        let mut races: BTreeMap<usize, Vec<Conflict>> = BTreeMap::new();
        let mut ordered: Vec<&ObjId> = by_object.keys().collect();
        ordered.sort();
        for object in ordered {
            // Instances of one access that differ only in the other objects they touch
            // meet the same partners the same way: one of them is enough.
            let mut kinds: HashSet<InstanceKind<'_>> = HashSet::default();
            let positions: Vec<usize> = by_object[object]
                .iter()
                .copied()
                .filter(|&position| {
                    let instance = &instances[position];
                    kinds.insert((
                        instance.access,
                        &instance.parties,
                        &instance.held,
                        &instance.maybe,
                        instance.private,
                        instance.entry,
                    ))
                })
                .collect();
            // An object that this many access instances touch stands for what the analysis
            // could not tell apart (test code driving every part of a large package through
            // a few shared fixtures): pairing them would take hours and find merges, not races.
            if positions.len() > MAX_INSTANCES_PER_OBJECT {
                continue;
            }
            let positions = &positions;
            if !positions
                .iter()
                .any(|&position| go.accesses[instances[position].access].write)
            {
                continue;
            }
            // What callers outside the program hand in is one abstract object per type: two
            // accesses meet on it only as far as the type says its values are shared, by
            // carrying a lock (a type meant for concurrent use); a plain map or struct handed
            // to two exported functions is most often two values.
            // Below it, within a few fields only: deeper down, what the abstract object's
            // fields hold stands for every value code outside and inside stored there over
            // time (per-request messages taken from a free list of the server's router).
            if let ObjKind::Extern(ty) = points_to.object(points_to.root_object(*object)).kind {
                if !holds_lock(program, ty, 2) || fields_below_root(points_to, *object) > 3 {
                    continue;
                }
            }
            // The lock most accesses of the object hold (held by at least two): its guard. An
            // access that holds it is not where a race with the object is to be fixed. Each
            // place in the code counts once, however many contexts and walks it was seen in.
            let mut counts: HashMap<crate::graph::alias::ClassId, usize> = HashMap::default();
            let mut counted: HashSet<(crate::source::Span, crate::graph::alias::ClassId)> =
                HashSet::default();
            for &position in positions {
                let span = go.accesses[instances[position].access].span;
                for held in instances[position]
                    .held
                    .iter()
                    .chain(&instances[position].maybe)
                {
                    if counted.insert((span, held.class)) {
                        *counts.entry(held.class).or_default() += 1;
                    }
                }
            }
            let guard = counts
                .iter()
                .filter(|(_, count)| **count >= 2)
                .max_by_key(|(class, count)| (**count, std::cmp::Reverse(class.0)))
                .map(|(class, _)| *class);
            // The partners by the locks they hold (on every path or on some: a conditional
            // locking protocol, `if lock { mu.Lock() }`, is not where to report a race), so
            // that the partners a write's locks order are skipped together.
            let mut by_locks: HashMap<&[GoHeld], Vec<usize>> = HashMap::default();
            for &position in positions {
                if go.accesses[instances[position].access].context_known {
                    by_locks
                        .entry(&locks_of[position])
                        .or_default()
                        .push(position);
                }
            }
            let mut lock_groups: Vec<(&[GoHeld], Vec<usize>)> = by_locks.into_iter().collect();
            lock_groups.sort_by_key(|(_, members)| members[0]);
            for &write_position in positions {
                let write = instances[write_position].access;
                let a = &go.accesses[write];
                if !a.write
                    || !a.context_known
                    || run_once.contains(&a.function)
                    || run_once.contains(&a.walked)
                {
                    continue;
                }
                let held_a = &locks_of[write_position];
                // A write that holds the object's guard: the fault is at the other accesses
                // (reported there when they are writes).
                let holds_guard = guard.is_some_and(|guard| {
                    held_a
                        .iter()
                        .any(|held| held.class == guard && held.mode != LockMode::Read)
                });
                if holds_guard {
                    continue;
                }
                for (held_b, members) in &lock_groups {
                    // Both hold one lock; or the write holds a lock where the other access
                    // holds none: the fault is at the other access.
                    if protected_by(held_a, held_b) || (!held_a.is_empty() && held_b.is_empty()) {
                        continue;
                    }
                    for &partner_position in members {
                        let partner = instances[partner_position].access;
                        let b = &go.accesses[partner];
                        // A map (or struct) a call made and keeps to itself: each goroutine running
                        // the function has its own.
                        if instances[write_position].private
                            || instances[partner_position].private
                            || private_access(&mut private, program, a)
                            || private_access(&mut private, program, b)
                        {
                            continue;
                        }
                        // A task reaches the object because its spawn handed it over, or through a
                        // package variable the access names. Reachability from a package variable
                        // the points-to analysis finds deeper down is not evidence enough: one
                        // abstract object stands for every object its allocation site makes.
                        let reaches = |party: Party, access: &MapAccess| match party {
                            Party::Task(task) => {
                                queries.handed_to(*object, task)
                                    || (sharing.is_shared_global(*object)
                                        && rooted_at_static(program, access))
                            }
                            Party::Main => true,
                        };
                        let conflicts = races.entry(write).or_default();
                        for &party_a in &instances[write_position].parties {
                            for &party_b in &instances[partner_position].parties {
                                if !reaches(party_a, a) || !reaches(party_b, b) {
                                    continue;
                                }
                                let overlap = match (party_a, party_b) {
                                    (Party::Task(task_a), Party::Task(task_b))
                                        if task_a == task_b =>
                                    {
                                        (queries.many(task_a)
                                            && queries.shared_by_siblings(*object, task_a)
                                            && !serialised_by_token(
                                                program,
                                                calls,
                                                go,
                                                points_to,
                                                task_a.site,
                                            ))
                                        .then_some(Overlap::Siblings)
                                    }
                                    // Two spawn sites (`go warm(m, "eu")`, `go warm(m, "us")`), or
                                    // two closures one helper runs.
                                    (Party::Task(task_a), Party::Task(task_b)) => {
                                        (!joined_between(calls, go, task_a.site, task_b.site)
                                            && queries.may_overlap(task_a.site, task_b.site)
                                            && !queries.made_by_task(*object, task_a)
                                            && !queries.made_by_task(*object, task_b)
                                            && queries.visible_to(*object, task_a)
                                            && queries.visible_to(*object, task_b))
                                        .then_some(Overlap::TwoSites)
                                    }
                                    (Party::Task(task), Party::Main) => {
                                        if queries.made_by_task(*object, task)
                                            || !queries.visible_to(*object, task)
                                        {
                                            None
                                        } else {
                                            spawner_overlap(
                                                program,
                                                calls,
                                                go,
                                                task.site,
                                                a,
                                                (b, instances[partner_position].entry),
                                            )
                                        }
                                    }
                                    (Party::Main, Party::Task(task)) => {
                                        if queries.made_by_task(*object, task)
                                            || !queries.visible_to(*object, task)
                                        {
                                            None
                                        } else {
                                            spawner_overlap(
                                                program,
                                                calls,
                                                go,
                                                task.site,
                                                b,
                                                (a, instances[write_position].entry),
                                            )
                                        }
                                    }
                                    (Party::Main, Party::Main) => None,
                                };
                                let Some(overlap) = overlap else {
                                    continue;
                                };
                                if conflicts.iter().any(|conflict| conflict.overlap == overlap) {
                                    continue;
                                }
                                let mut sites: Vec<SpawnSiteId> = [party_a, party_b]
                                    .iter()
                                    .filter_map(|party| match party {
                                        Party::Task(task) => Some(task.site),
                                        Party::Main => None,
                                    })
                                    .collect();
                                sites.dedup();
                                conflicts.push(Conflict {
                                    partner,
                                    overlap,
                                    sites,
                                });
                            }
                        }
                    }
                }
            }
        }
        // A goroutine a constructor starts and never waits for, and the exported methods
        // callers outside the package call on the object it made: the two reach the object
        // through different roots (what the constructor made, what callers hand the methods).
        let api_accesses: Vec<usize> = (0..go.accesses.len())
            .filter(|&index| {
                let access = &go.accesses[index];
                exported_api(program, access.walked) && through_parameter(program, access)
            })
            .collect();
        let task_accesses: Vec<usize> = (0..go.accesses.len())
            .filter(|&index| {
                parties[index]
                    .iter()
                    .any(|party| matches!(party, Party::Task(_)))
            })
            .collect();
        for &task in &task_accesses {
            for &api in &api_accesses {
                let (a, b) = (&go.accesses[task], &go.accesses[api]);
                if !(a.write || b.write) || protected(a, b) || waited_first(go, b) {
                    continue;
                }
                let Some(site) = outliving_goroutine(program, calls, go, (a, &parties[task]), b)
                else {
                    continue;
                };
                // Reported at the write: the goroutine's or the exported function's.
                let (write, partner) = if a.write { (task, api) } else { (api, task) };
                let conflicts = races.entry(write).or_default();
                if !conflicts
                    .iter()
                    .any(|conflict| conflict.overlap == Overlap::Outlives)
                {
                    conflicts.push(Conflict {
                        partner,
                        overlap: Overlap::Outlives,
                        sites: vec![site],
                    });
                }
            }
        }
        GoRaces {
            races: races
                .into_iter()
                .filter(|(_, conflicts)| !conflicts.is_empty())
                .map(|(write, conflicts)| Race { write, conflicts })
                .collect(),
        }
    }
}

/// Code that runs once for the whole program: the functions handed to `sync.Once`'s `Do`, and
/// what only they call. Every `Do` of that `Once` returns after the function has run, so its
/// writes are a lazy initialisation, ordered before what the callers of `Do` do next; a reader
/// that bypasses the `Once` is the fault to report, not the initialising write.
fn run_once(program: &Program, points_to: &PointsTo, calls: &CallGraph) -> HashSet<FunctionId> {
    let mut once: HashSet<FunctionId> = HashSet::default();
    for owner in program.function_ids() {
        if program.function(owner).owner != owner {
            continue;
        }
        for (index, call) in program.body(owner).calls.iter().enumerate() {
            let id = crate::model::facts::CallId::from_index(index);
            if program.call_target(owner, id)
                != crate::model::CallTarget::Lib(crate::model::LibCall::RunOnce)
            {
                continue;
            }
            let caller = program.function_id(program.function(owner).file, call.function);
            for &arg in &call.args {
                once.extend(crate::graph::calls::func_value_targets(
                    program, points_to, caller, arg,
                ));
            }
        }
    }
    calls.only_called_from(&once)
}

/// The access reaches its map through a local that keeps it to its call: a map (or struct)
/// made here, or a new map this call put in a field of its own struct value.
fn private_access(private: &mut PrivateLocals<'_>, program: &Program, access: &MapAccess) -> bool {
    let owner = program.function(access.function).owner;
    private.is_private(owner, access.root, access.span)
        || (access.fresh_field && private.has_private_slots(owner, access.root, access.span))
        || (access.fresh_local && private.is_private_where_fresh(owner, access.root, access.span))
}

/// Both accesses hold one lock, and not both only for reading.
fn protected(a: &MapAccess, b: &MapAccess) -> bool {
    let all = |access: &MapAccess| -> Vec<GoHeld> {
        access
            .held
            .iter()
            .chain(&access.maybe_held)
            .copied()
            .collect()
    };
    protected_by(&all(a), &all(b))
}

/// Two sets of held locks have one lock in common, not both only for reading.
fn protected_by(a: &[GoHeld], b: &[GoHeld]) -> bool {
    a.iter().any(|held_a| {
        b.iter().any(|held_b| {
            held_a.class == held_b.class
                && !(held_a.mode == LockMode::Read && held_b.mode == LockMode::Read)
        })
    })
}

/// A goroutine's access `task` and its spawner's access `main`: they overlap when `main` comes
/// after the spawn and before a join, or after the join while `task` runs after `wg.Done()`.
/// Accesses of the spawner's callers or of unrelated code are not ordered: not reported.
fn spawner_overlap(
    program: &Program,
    calls: &CallGraph,
    go: &GoState,
    site: SpawnSiteId,
    task: &MapAccess,
    (main, entry): (&MapAccess, Option<(FunctionId, FunctionId)>),
) -> Option<Overlap> {
    let data = &calls.spawn_sites[site.0 as usize];
    let spawner = data.spawner;
    let timeline = go.timelines.get(&spawner)?;
    let spawn_order = timeline.spawn(data.call)?.order;
    // Where the spawner makes the access: directly, or in each call to the function that does
    // (for an instance of one caller's calls, the function that caller calls).
    let called = match entry {
        Some((caller, callee)) if caller == spawner => callee,
        _ => main.walked,
    };
    let called_by_spawner = timeline
        .calls
        .iter()
        .any(|(callee, order, _)| *callee == called && *order > 0);
    if main.walked != spawner && !called_by_spawner {
        if waited_first(go, main) {
            return None;
        }
        return outlives(program, timeline, spawner, spawn_order, main);
    }
    let positions: Vec<(u32, &[u32])> = if main.walked == spawner {
        vec![(main.order, main.joins_before.as_slice())]
    } else {
        timeline
            .calls
            .iter()
            .filter(|(callee, order, _)| *callee == called && *order > 0)
            .map(|(_, order, joins)| (*order, joins.as_slice()))
            .collect()
    };
    let mut found = None;
    for (position, joins) in positions {
        if position < spawn_order {
            continue;
        }
        // Joined on every path between the spawn and the access.
        let joined = joins
            .iter()
            .any(|&join| join > spawn_order && join < position);
        match (joined, task.after_done) {
            (false, _) => return Some(Overlap::WithSpawner),
            (true, true) => found = Some(Overlap::AfterWait),
            (true, false) => {}
        }
    }
    found
}

/// The spawn site of a goroutine that makes `task`'s access and outlives its spawner, when
/// `api` is an access of an exported function through a parameter of the same struct type as
/// the object the goroutine reaches the map from, on the same field, and the goroutine's
/// spawner makes that object: callers can hand the exported function that object while the
/// goroutine runs.
fn outliving_goroutine(
    program: &Program,
    calls: &CallGraph,
    go: &GoState,
    (task, task_parties): (&MapAccess, &[Party]),
    api: &MapAccess,
) -> Option<SpawnSiteId> {
    let api_owner = program.function(api.function).owner;
    if !exported_api(program, api.walked) || !through_parameter(program, api) {
        return None;
    }
    let api_ty = program
        .types
        .strip_refs(program.value_ty(api_owner, api.root));
    let task_owner = program.function(task.function).owner;
    let task_ty = program
        .types
        .strip_refs(program.value_ty(task_owner, task.root));
    if api_ty.is_unknown() || api_ty != task_ty || program.types.adt(api_ty).is_none() {
        return None;
    }
    if field_name(program, task_owner, task.map) != field_name(program, api_owner, api.map)
        || field_name(program, task_owner, task.map).is_none()
    {
        return None;
    }
    task_parties.iter().find_map(|party| {
        let Party::Task(TaskId { site, .. }) = party else {
            return None;
        };
        let data = &calls.spawn_sites[site.0 as usize];
        if !constructs(program, data.spawner, task_ty) {
            return None;
        }
        let timeline = go.timelines.get(&data.spawner)?;
        let spawn_order = timeline.spawn(data.call)?.order;
        (!timeline.joins_after(spawn_order)).then_some(*site)
    })
}

/// The field a map expression names last (`items` in `s.items`, `c.cache.items`).
fn field_name(
    program: &Program,
    owner: FunctionId,
    map: crate::model::facts::ValueId,
) -> Option<&str> {
    match program.body(owner).value(map) {
        Value::Field { name, .. } => Some(name),
        _ => None,
    }
}

/// How many fields below the object it is part of an object is (`s.router.free.msg.Header`
/// is four below `s`).
fn fields_below_root(points_to: &PointsTo, mut object: ObjId) -> u32 {
    let mut depth = 0;
    while let ObjKind::Sub { parent, .. } = points_to.object(object).kind {
        depth += 1;
        object = parent;
    }
    depth
}

/// The tasks of a spawn run one at a time: the spawner takes a token before it starts each
/// (a receive from a channel on every path to the `go`), and the task gives it back in
/// deferred code it registers itself (a send on that channel), a one-slot channel used as a
/// lock: `case <-r.stopped: go r.runLoop()` with `defer func() { r.stopped <- struct{}{} }()`
/// in `runLoop`. (A channel holding several tokens would let as many run at once: not told
/// apart.)
fn serialised_by_token(
    program: &Program,
    calls: &CallGraph,
    go: &GoState,
    points_to: &PointsTo,
    site: SpawnSiteId,
) -> bool {
    let data = &calls.spawn_sites[site.0 as usize];
    let Some(timeline) = go.timelines.get(&data.spawner) else {
        return false;
    };
    let Some(spawn) = timeline.spawn(data.call) else {
        return false;
    };
    let spawner_owner = program.function(data.spawner).owner;
    let tokens: HashSet<ObjId> = timeline
        .receives
        .iter()
        .filter(|(order, _)| spawn.joins_before.contains(order))
        .flat_map(|(_, channel)| points_to.pts(program, spawner_owner, *channel))
        .collect();
    if tokens.is_empty() {
        return false;
    }
    // What a function calls directly (`go r.runLoop()` runs a closure that calls `runLoop`;
    // `defer func() { .. }()` registers a closure that calls the literal).
    let called = |function: FunctionId| -> Vec<FunctionId> {
        program
            .own_calls(function)
            .flat_map(|(call, _)| calls.call_targets(program, function, call))
            .collect()
    };
    let sends_token = |function: FunctionId| {
        let owner = program.function(function).owner;
        program.own_calls(function).any(|(_, fact)| {
            let (crate::model::facts::Callee::Path(path), Some(&channel)) =
                (&fact.callee, fact.args.first())
            else {
                return false;
            };
            path.last() == "<send>"
                && points_to
                    .pts(program, owner, channel)
                    .iter()
                    .any(|object| tokens.contains(object))
        })
    };
    let task_code: Vec<FunctionId> = data
        .bodies
        .iter()
        .flat_map(|&body| std::iter::once(body).chain(called(body)))
        .collect();
    task_code.iter().any(|&function| {
        calls
            .defer_sites
            .iter()
            .filter(|site| site.registrant == function)
            .any(|site| sends_token(site.body) || called(site.body).into_iter().any(sends_token))
    })
}

/// An exported function's access made after it waited for a group of goroutines on every
/// path (`close(s.quit); s.wg.Wait()` in `Stop`): the goroutines a constructor or a `Start`
/// left running are taken to be among those it waited for, as such code intends.
fn waited_first(go: &GoState, api: &MapAccess) -> bool {
    go.timelines
        .get(&api.walked)
        .is_some_and(|timeline| timeline.waited_before(&api.joins_before))
}

/// Two spawn sites of one function with a join between them on every path (`go a(); wg.Wait();
/// go b()`): the first site's goroutines are done before the second's start.
fn joined_between(calls: &CallGraph, go: &GoState, a: SpawnSiteId, b: SpawnSiteId) -> bool {
    let (a, b) = (
        &calls.spawn_sites[a.0 as usize],
        &calls.spawn_sites[b.0 as usize],
    );
    if a.spawner != b.spawner {
        return false;
    }
    let Some(timeline) = go.timelines.get(&a.spawner) else {
        return false;
    };
    let (Some(a), Some(b)) = (timeline.spawn(a.call), timeline.spawn(b.call)) else {
        return false;
    };
    let (first, second) = if a.order < b.order { (a, b) } else { (b, a) };
    // (A loop around both sites would start the first again after the second: not told apart
    // from two loops one after the other, and taken as joined.)
    second.joins_before.iter().any(|&join| join > first.order)
}

/// A goroutine its spawner never waits for (no join after the `go` statement) runs on after
/// the spawner returns: an exported function of the package, called by code the analysis does
/// not see, can use the same object at any time.
fn outlives(
    program: &Program,
    timeline: &super::go_state::Timeline,
    spawner: FunctionId,
    spawn_order: u32,
    main: &MapAccess,
) -> Option<Overlap> {
    if timeline.joins_after(spawn_order) {
        return None;
    }
    let owner = program.function(main.function).owner;
    let root = parameter_root(program, main)?;
    let ty = program.types.strip_refs(program.value_ty(owner, root));
    // A map in an object callers keep (`s.items`), as for an outliving goroutine and an
    // exported method: a map handed over whole (`go j.run(in)`) is the goroutine's from then
    // on, by the usual contract of such an API.
    if program.types.map(ty).is_some() {
        return None;
    }
    // The goroutine outlives the function that starts it, on an object its callers keep: one
    // the function makes and returns (a constructor), or one they hand it (a method starting
    // a goroutine on its receiver). Any exported method may then run on that object while the
    // goroutine does.
    let kept_by_callers = constructs(program, spawner, ty) || receives(program, spawner, ty);
    (exported_api(program, main.walked) && kept_by_callers).then_some(Overlap::Outlives)
}

/// One of the function's parameters (the receiver included) is of the struct type `ty` or
/// points to it.
fn receives(program: &Program, function: FunctionId, ty: crate::model::types::TyId) -> bool {
    !ty.is_unknown()
        && program.types.adt(ty).is_some()
        && program
            .fact(function)
            .params
            .iter()
            .any(|&param| program.types.strip_refs(program.local_ty(function, param)) == ty)
}

/// The access is made by the function itself (or a closure of it) on an object its caller
/// hands it: a parameter or the receiver.
fn through_parameter(program: &Program, access: &MapAccess) -> bool {
    parameter_root(program, access).is_some()
}

/// The parameter (or receiver) an access's place starts from, through local aliases of its
/// places (`v := s.m`, `p := &s.m`): the access is made by the function itself (or a closure
/// of it).
fn parameter_root(program: &Program, access: &MapAccess) -> Option<crate::model::facts::ValueId> {
    let owner = program.function(access.function).owner;
    if owner != access.walked {
        return None;
    }
    let body = program.body(owner);
    let mut root = access.root;
    for _ in 0..3 {
        let Value::Local(local) = body.value(root) else {
            return None;
        };
        let local = body.local(*local);
        if local.origin == crate::model::facts::LocalOrigin::Param {
            return Some(root);
        }
        root = super::go_state::root_object(body, local.init?);
    }
    None
}

/// Functions that run outside any goroutine of their own: reachable through calls from code
/// nothing calls (`main`, `init`, exported functions).
fn main_reach(program: &Program, calls: &CallGraph) -> HashSet<FunctionId> {
    let roots: Vec<FunctionId> = program
        .function_ids()
        .filter(|&function| calls.edges_to(function).next().is_none())
        .collect();
    calls.reachable_in_task(&roots).into_iter().collect()
}
