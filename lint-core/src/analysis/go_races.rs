//! Go map races: pairs of accesses to one map object, at least one a write, by parties that can
//! run at the same time (two goroutines, a goroutine spawned in a loop and its siblings, a
//! goroutine and its spawner between the spawn and the join), not ordered by a common lock.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::go_private::PrivateLocals;
use super::go_state::{GoState, MapAccess};
use super::tasks::Tasks;
use crate::graph::alias::{Aliases, ClassId, Location};
use crate::graph::calls::{CallGraph, SpawnSiteId};
use crate::model::facts::Value;
use crate::model::modules::FunctionId;
use crate::model::{LockMode, Program, SpawnKind};

/// Who runs an access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Party {
    /// The goroutines started at a spawn site.
    Task(SpawnSiteId),
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
        aliases: &Aliases,
        calls: &CallGraph,
        tasks: &Tasks,
        go: &GoState,
    ) -> GoRaces {
        let main_reach = main_reach(program, calls);
        let mut by_class: HashMap<ClassId, Vec<usize>> = HashMap::default();
        for (index, access) in go.accesses.iter().enumerate() {
            by_class.entry(access.class).or_default().push(index);
        }
        // The variables each spawn site hands its goroutines: what their bodies capture (the
        // arguments of `go f(x)` are captured by the closure that makes the call).
        let mut captured: HashMap<SpawnSiteId, Vec<Captured>> = HashMap::default();
        for (index, site) in calls.spawn_sites.iter().enumerate() {
            let mut locals = Vec::new();
            for &body in &site.bodies {
                let owner = program.function(body).owner;
                let body_id = program.function(owner).body;
                for &local in &program.fact(body).captures {
                    if let Some(class) = aliases.class_of_location(&Location::Local(body_id, local))
                    {
                        let in_loop = program.body(owner).local(local).in_loop;
                        let ty = program.types.strip_refs(program.local_ty(owner, local));
                        locals.push(Captured {
                            body: body_id,
                            local,
                            class,
                            in_loop,
                            ty,
                        });
                    }
                }
            }
            // A method value handed to the spawn (`time.AfterFunc(d, c.retry)`): the goroutine
            // gets its receiver.
            let spawner_owner = program.function(site.spawner).owner;
            let spawner_body = program.body(spawner_owner);
            let call = spawner_body.call(site.call);
            for &arg in &call.args {
                let Value::Field { base, .. } = spawner_body.value(arg) else {
                    continue;
                };
                let Value::Local(local) = spawner_body.value(*base) else {
                    continue;
                };
                let body_id = program.function(spawner_owner).body;
                if let Some(class) = aliases.class_of_location(&Location::Local(body_id, *local)) {
                    locals.push(Captured {
                        body: body_id,
                        local: *local,
                        class,
                        in_loop: spawner_body.local(*local).in_loop,
                        ty: program
                            .types
                            .strip_refs(program.local_ty(spawner_owner, *local)),
                    });
                }
            }
            captured.insert(SpawnSiteId(index as u32), locals);
        }
        let captures = |site: SpawnSiteId| captured.get(&site).map(Vec::as_slice).unwrap_or(&[]);
        let handed_to_goroutine: HashSet<(crate::model::BodyId, crate::model::facts::LocalId)> =
            captured
                .values()
                .flatten()
                .map(|capture| (capture.body, capture.local))
                .collect();
        let mut private = PrivateLocals::new(program, handed_to_goroutine);
        // Package variables a spawn site hands its goroutines as arguments (`go f(cache)`).
        let mut passes_static: HashMap<SpawnSiteId, HashSet<ClassId>> = HashMap::default();
        for (index, site) in calls.spawn_sites.iter().enumerate() {
            for &body in &site.bodies {
                let owner = program.function(body).owner;
                let arena = program.body(owner);
                let mut events = Vec::new();
                crate::graph::calls::collect_events(&program.fact(body).nodes, &mut events);
                for event in events {
                    let crate::model::facts::Event::Call(call) = event else {
                        continue;
                    };
                    for &arg in &arena.call(*call).args {
                        if matches!(arena.value(arg), Value::Path(_)) {
                            if let Some(class) = aliases.class_of(program, owner, arg) {
                                if !aliases.statics_of(class).is_empty() {
                                    passes_static
                                        .entry(SpawnSiteId(index as u32))
                                        .or_default()
                                        .insert(class);
                                }
                            }
                        }
                    }
                }
            }
        }
        // A package variable is shared by every goroutine: when an access names it, or a spawn
        // site passes it. (Its class alone is not enough: unification merges it with every
        // value of its type that meets it.)
        let global = |site: SpawnSiteId, root: ClassId, direct: bool| {
            direct
                || passes_static
                    .get(&site)
                    .is_some_and(|classes| classes.contains(&root))
        };
        // Siblings share a variable declared outside the loop that starts them.
        let siblings_share = |site: SpawnSiteId, root: ClassId, ty, direct: bool| {
            global(site, root, direct)
                || captures(site)
                    .iter()
                    .any(|capture| capture.holds(root, ty) && !capture.in_loop)
        };
        // Two spawn sites share one variable (not two variables that may hold the same kind of
        // object).
        let sites_share = |a: SpawnSiteId, b: SpawnSiteId, root: ClassId, ty, direct: bool| {
            global(a, root, direct)
                || global(b, root, direct)
                || captures(a).iter().any(|capture| {
                    capture.holds(root, ty)
                        && captures(b)
                            .iter()
                            .any(|other| other.body == capture.body && other.local == capture.local)
                })
        };
        // A `go` statement in a function called several times with one object (`p.run(..)`
        // three times): its goroutines run together and share that object's parameter.
        let repeated: HashMap<SpawnSiteId, Vec<crate::model::facts::LocalId>> =
            (0..calls.spawn_sites.len())
                .map(|index| {
                    let site = SpawnSiteId(index as u32);
                    (
                        site,
                        shared_params_of_repeated_spawner(program, calls, go, site),
                    )
                })
                .filter(|(_, params)| !params.is_empty())
                .collect();
        let repeated_share = |site: SpawnSiteId, root: ClassId, ty| {
            let Some(params) = repeated.get(&site) else {
                return false;
            };
            let spawner = calls.spawn_sites[site.0 as usize].spawner;
            let body = program.function(spawner).body;
            captures(site).iter().any(|capture| {
                capture.holds(root, ty) && capture.body == body && params.contains(&capture.local)
            })
        };
        let spawner_shares = |site: SpawnSiteId, root: ClassId, ty, direct: bool| {
            global(site, root, direct)
                || captures(site).iter().any(|capture| capture.holds(root, ty))
        };
        let mut races = Vec::new();
        let mut classes: Vec<&ClassId> = by_class.keys().collect();
        classes.sort();
        for class in classes {
            let indices = &by_class[class];
            if !indices.iter().any(|&index| go.accesses[index].write) {
                continue;
            }
            let parties: Vec<Vec<Party>> = indices
                .iter()
                .map(|&index| {
                    let access = &go.accesses[index];
                    let mut parties: Vec<Party> = tasks
                        .sites_running(access.walked)
                        .iter()
                        .map(|&site| Party::Task(site))
                        .collect();
                    if main_reach.contains(&access.walked) {
                        parties.push(Party::Main);
                    }
                    parties
                })
                .collect();
            for (position, &write) in indices.iter().enumerate() {
                if !go.accesses[write].write {
                    continue;
                }
                let mut conflicts: Vec<Conflict> = Vec::new();
                for (other_position, &partner) in indices.iter().enumerate() {
                    let (a, b) = (&go.accesses[write], &go.accesses[partner]);
                    if protected(a, b) || !a.context_known || !b.context_known {
                        continue;
                    }
                    // Maps reached through fields: both accesses must start from one object.
                    let root_a =
                        aliases.class_of(program, program.function(a.function).owner, a.root);
                    let root_b =
                        aliases.class_of(program, program.function(b.function).owner, b.root);
                    let (Some(class_a), Some(class_b)) = (root_a, root_b) else {
                        continue;
                    };
                    if class_a != class_b {
                        // Different objects as far as the code shows; but an exported method
                        // can be called on the object a goroutine nobody waits for still uses.
                        let outliving = outliving_goroutine(
                            program,
                            calls,
                            go,
                            &captured,
                            (a, class_a, &parties[position]),
                            b,
                        )
                        .or_else(|| {
                            outliving_goroutine(
                                program,
                                calls,
                                go,
                                &captured,
                                (b, class_b, &parties[other_position]),
                                a,
                            )
                        });
                        if let Some(site) = outliving {
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
                        continue;
                    }
                    let root = class_a;
                    let owner = program.function(a.function).owner;
                    // A map (or struct) a call made and keeps to itself: each goroutine running
                    // the function has its own.
                    if private.is_private(owner, a.root, a.span)
                        || private.is_private(program.function(b.function).owner, b.root, b.span)
                    {
                        continue;
                    }
                    let root_ty = program.types.strip_refs(program.value_ty(owner, a.root));
                    let names_static = |access: &MapAccess| {
                        let owner = program.function(access.function).owner;
                        matches!(program.body(owner).value(access.root), Value::Path(_))
                            && !aliases.statics_of(root).is_empty()
                    };
                    let direct = names_static(a) || names_static(b);
                    for &party_a in &parties[position] {
                        for &party_b in &parties[other_position] {
                            let overlap = match (party_a, party_b) {
                                (Party::Task(site_a), Party::Task(site_b)) if site_a == site_b => {
                                    let data = &calls.spawn_sites[site_a.0 as usize];
                                    let joined_each_iteration = go
                                        .timelines
                                        .get(&data.spawner)
                                        .and_then(|timeline| timeline.spawn(data.call))
                                        .is_some_and(|spawn| spawn.joined_each_iteration);
                                    let many = (data.in_loop && !joined_each_iteration)
                                        || data.kind == SpawnKind::Handler;
                                    ((many && siblings_share(site_a, root, root_ty, direct))
                                        || repeated_share(site_a, root, root_ty))
                                    .then_some(Overlap::Siblings)
                                }
                                // Two spawn sites (`go warm(m, "eu")`, `go warm(m, "us")`):
                                // one write races with itself when both hand over one map.
                                (Party::Task(site_a), Party::Task(site_b)) => {
                                    (sites_share(site_a, site_b, root, root_ty, direct)
                                        && !joined_between(calls, go, site_a, site_b))
                                    .then_some(Overlap::TwoSites)
                                }
                                (Party::Task(site), Party::Main)
                                    if spawner_shares(site, root, root_ty, direct) =>
                                {
                                    spawner_overlap(program, calls, go, site, a, b)
                                }
                                (Party::Main, Party::Task(site))
                                    if spawner_shares(site, root, root_ty, direct) =>
                                {
                                    spawner_overlap(program, calls, go, site, b, a)
                                }
                                (Party::Task(_), Party::Main) | (Party::Main, Party::Task(_)) => {
                                    None
                                }
                                (Party::Main, Party::Main) => None,
                            };
                            if let Some(overlap) = overlap {
                                if conflicts.iter().any(|conflict| conflict.overlap == overlap) {
                                    continue;
                                }
                                let mut sites: Vec<SpawnSiteId> = [party_a, party_b]
                                    .iter()
                                    .filter_map(|party| match party {
                                        Party::Task(site) => Some(*site),
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
                if !conflicts.is_empty() {
                    races.push(Race { write, conflicts });
                }
            }
        }
        GoRaces { races }
    }
}

/// A variable a spawn site's goroutines capture.
struct Captured {
    body: crate::model::BodyId,
    local: crate::model::facts::LocalId,
    class: ClassId,
    in_loop: bool,
    /// The variable's type, references stripped.
    ty: crate::model::types::TyId,
}

impl Captured {
    /// The variable holds the object itself: its class, and (when both are known) its type.
    /// Unification merges the classes of unrelated values passed through one parameter; the
    /// type keeps a captured `*conn` from standing for a `Header` made inside the goroutine.
    fn holds(&self, class: ClassId, ty: crate::model::types::TyId) -> bool {
        self.class == class && !self.ty.is_unknown() && self.ty == ty
    }
}

/// The parameters of a spawn site's function that every call hands the same variable, when
/// the function runs several times (called from two places, or in a loop). Empty otherwise.
fn shared_params_of_repeated_spawner(
    program: &Program,
    calls: &CallGraph,
    go: &GoState,
    site: SpawnSiteId,
) -> Vec<crate::model::facts::LocalId> {
    let spawner = calls.spawn_sites[site.0 as usize].spawner;
    if program.function(spawner).owner != spawner {
        return Vec::new();
    }
    let call_sites: Vec<(FunctionId, crate::model::facts::CallId)> = calls
        .edges_to(spawner)
        .filter_map(|(caller, kind)| match kind {
            crate::graph::calls::EdgeKind::Call(call) => Some((caller, call)),
            _ => None,
        })
        .collect();
    let runs_many = call_sites.len() >= 2
        || call_sites.iter().any(|&(caller, call)| {
            program
                .body(program.function(caller).owner)
                .call(call)
                .in_loop
        });
    if !runs_many {
        return Vec::new();
    }
    // Calls separated by a join (`p.run(a); p.wg.Wait(); p.run(b)`) do not overlap.
    let callers: HashSet<FunctionId> = call_sites.iter().map(|(caller, _)| *caller).collect();
    for caller in callers {
        let Some(timeline) = go.timelines.get(&caller) else {
            continue;
        };
        let orders: Vec<u32> = timeline
            .calls
            .iter()
            .filter(|(callee, _, _)| *callee == spawner)
            .map(|(_, order, _)| *order)
            .collect();
        let separated = orders.windows(2).any(|pair| {
            timeline
                .joins
                .iter()
                .any(|&join| join > pair[0] && join < pair[1])
        });
        if separated {
            return Vec::new();
        }
    }
    let params = &program.fact(spawner).params;
    let mut shared = Vec::new();
    for (index, &param) in params.iter().enumerate() {
        let mut variable = None;
        let all_same = call_sites.iter().all(|&(caller, call)| {
            let owner = program.function(caller).owner;
            let body = program.body(owner);
            let fact = body.call(call);
            let argument = match &fact.callee {
                crate::model::facts::Callee::Method { receiver, .. } => {
                    if index == 0 {
                        Some(*receiver)
                    } else {
                        fact.args.get(index - 1).copied()
                    }
                }
                _ => fact.args.get(index).copied(),
            };
            let local = argument.and_then(|argument| match body.value(argument) {
                Value::Local(local) => Some(*local),
                Value::Ref { inner, .. } => match body.value(*inner) {
                    Value::Local(local) => Some(*local),
                    _ => None,
                },
                _ => None,
            });
            match local {
                Some(local) if !body.local(local).in_loop => {
                    *variable.get_or_insert((owner, local)) == (owner, local)
                }
                _ => false,
            }
        });
        if all_same {
            shared.push(param);
        }
    }
    shared
}

/// Both accesses hold one lock, and not both only for reading.
fn protected(a: &MapAccess, b: &MapAccess) -> bool {
    a.held.iter().any(|held_a| {
        b.held.iter().any(|held_b| {
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
    main: &MapAccess,
) -> Option<Overlap> {
    let data = &calls.spawn_sites[site.0 as usize];
    let spawner = data.spawner;
    let timeline = go.timelines.get(&spawner)?;
    let spawn_order = timeline.spawn(data.call)?.order;
    // Where the spawner makes the access: directly, or in each call to the function that does.
    let called_by_spawner = timeline
        .calls
        .iter()
        .any(|(callee, order, _)| *callee == main.walked && *order > 0);
    if main.walked != spawner && !called_by_spawner {
        return outlives(program, timeline, spawner, spawn_order, main);
    }
    let positions: Vec<(u32, &[u32])> = if main.walked == spawner {
        vec![(main.order, main.joins_before.as_slice())]
    } else {
        timeline
            .calls
            .iter()
            .filter(|(callee, order, _)| *callee == main.walked && *order > 0)
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
/// the object the goroutine captured: callers can hand it that object while the goroutine
/// runs.
fn outliving_goroutine(
    program: &Program,
    calls: &CallGraph,
    go: &GoState,
    captured: &HashMap<SpawnSiteId, Vec<Captured>>,
    (task, task_root, task_parties): (&MapAccess, ClassId, &[Party]),
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
    task_parties.iter().find_map(|party| {
        let Party::Task(site) = party else {
            return None;
        };
        let holds = captured
            .get(site)
            .is_some_and(|list| list.iter().any(|capture| capture.holds(task_root, task_ty)));
        if !holds {
            return None;
        }
        let data = &calls.spawn_sites[site.0 as usize];
        if !constructs(program, data.spawner, task_ty) {
            return None;
        }
        let timeline = go.timelines.get(&data.spawner)?;
        let spawn_order = timeline.spawn(data.call)?.order;
        (!timeline.joins_after(spawn_order)).then_some(*site)
    })
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
    let ty = program.types.strip_refs(program.value_ty(owner, main.root));
    (exported_api(program, main.walked)
        && through_parameter(program, main)
        && constructs(program, spawner, ty))
    .then_some(Overlap::Outlives)
}

/// The function returns a value of the type (alone or with an error): a constructor, whose
/// goroutines live as long as the object it makes. (A goroutine started by some other method
/// may start after setup calls such as `StoreHosts` are over.)
fn constructs(program: &Program, function: FunctionId, ty: crate::model::types::TyId) -> bool {
    if ty.is_unknown() {
        return false;
    }
    let ret = program.function(function).ret_ty;
    let returned = |candidate: crate::model::types::TyId| program.types.strip_refs(candidate) == ty;
    match program.types.kind(ret) {
        crate::model::types::TyKind::Tuple(elements) => elements.iter().any(|&e| returned(e)),
        _ => returned(ret),
    }
}

/// A function other packages can call: exported, and a method only of an exported type
/// (exported methods of unexported types are reached through interfaces the package itself
/// uses, such as `heap.Interface`).
fn exported_api(program: &Program, function: FunctionId) -> bool {
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

/// The access is made by the function itself (or a closure of it) on an object its caller
/// hands it: a parameter or the receiver.
fn through_parameter(program: &Program, access: &MapAccess) -> bool {
    let owner = program.function(access.function).owner;
    if owner != access.walked {
        return false;
    }
    let body = program.body(owner);
    matches!(body.value(access.root), Value::Local(local)
        if body.local(*local).origin == crate::model::facts::LocalOrigin::Param)
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
