//! Who shares which object, and how many tasks run a spawn: the questions that decide
//! whether two accesses to one abstract object touch one object at run time.
//!
//! An abstract object stands for every object its allocation site makes. Objects reachable
//! from a static, a package variable or an object made outside the program are *global*:
//! one for everyone. Any other object lives in the activation of the code that made it, and
//! reaches other code through calls, returns and the tasks that activation starts:
//!
//! - goroutines of one spawn site share an object only when it was made before the repetition
//!   that starts them (outside the innermost loop around the spawn, or, when the spawn runs
//!   once per call of its function, outside the loop or the several calls that call it);
//! - an object the task's own code makes (directly or through the calls it makes) belongs to
//!   each task instance;
//! - a spawn runs many tasks when it is in a loop, when its function runs many times (called
//!   in a loop, from several places not separated by a join, from code that many tasks run,
//!   from a callback a helper calls per element), or when it is a request handler.

use std::cell::RefCell;
use std::rc::Rc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::go_state::GoState;
use super::loops::Loops;
use super::tasks::Tasks;
use crate::graph::calls::{CallGraph, EdgeKind, SpawnSiteId};
use crate::graph::points_to::{ObjId, ObjKind, PointsTo};
use crate::model::facts::{CallId, Callee, Event, ExitKind, Node, Value, ValueId};
use crate::model::modules::FunctionId;
use crate::model::{Program, SpawnKind};

/// How many fields down from a package variable an object still counts as one for every
/// goroutine: `cache`, `s.cache`, `s.shards.m`.
const MAX_SHARED_DEPTH: u32 = 3;

/// How many fields down from what a spawn hands its task an object still counts as handed
/// over: `s`, `s.cache`, `s.shards.m`, `s.state.shards.m`.
const MAX_HANDED_DEPTH: u32 = 4;

/// How many callers up the question "is the object made outside the repetition" is asked.
const MAX_CALLER_DEPTH: u32 = 4;

/// The goroutines of one spawn site that run one piece of code. A helper that runs a func
/// value in a goroutine (`func (s *Server) start(f func()) { go f() }`) is one spawn site for
/// every closure handed to it: each closure, created somewhere else, is a task of its own,
/// started as many times as that closure is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId {
    pub site: SpawnSiteId,
    /// The closure handed to the spawning helper, when the task runs one.
    pub closure: Option<FunctionId>,
}

/// What the objects are: global or not, and who made them.
#[derive(Debug, Default)]
pub struct Sharing {
    /// Per object: reachable from a static or from an object made outside the program.
    global: Vec<bool>,
    /// Per object: reachable from a static or a package variable, within a few fields.
    shared: Vec<bool>,
    /// What each object's fields hold.
    fields: HashMap<ObjId, Vec<ObjId>>,
}

impl Sharing {
    pub fn compute(points_to: &PointsTo) -> Sharing {
        let count = points_to.object_count();
        let mut fields: HashMap<ObjId, Vec<ObjId>> = HashMap::default();
        for (object, _, held) in points_to.field_slots() {
            fields.entry(object).or_default().extend_from_slice(held);
        }
        let reach = |roots: Vec<ObjId>| -> Vec<bool> {
            let mut marked = vec![false; count];
            let mut pending = roots;
            while let Some(object) = pending.pop() {
                if std::mem::replace(&mut marked[object.0 as usize], true) {
                    continue;
                }
                if let Some(held) = fields.get(&object) {
                    pending.extend(held.iter().copied());
                }
            }
            marked
        };
        let root_kind = |object: ObjId| &points_to.object(points_to.root_object(object)).kind;
        let global = reach(
            (0..count as u32)
                .map(ObjId)
                .filter(|&object| {
                    matches!(root_kind(object), ObjKind::Static(_) | ObjKind::Extern(_))
                })
                .chain(points_to.all_static_pts())
                .collect(),
        );
        // What callers outside the program hand in is theirs: shared among their goroutines
        // only when its type says it is meant to be (it carries a lock), as a type documented
        // safe for concurrent use does.
        // Within a few fields only: further down, what the abstract objects hold is mostly
        // what merging them brought (one object per allocation site stands for every object
        // it makes, and each of them is in some field of some global), not what one global
        // holds.
        let mut shared = vec![false; count];
        // What package variables hold. What callers outside the program hand in is theirs:
        // the program's own goroutines see it only when a spawn hands it to them.
        let mut frontier: Vec<ObjId> = points_to.all_static_pts().collect();
        for object in (0..count as u32).map(ObjId) {
            if let ObjKind::Static(_) = root_kind(object) {
                frontier.push(object);
            }
        }
        for _ in 0..=MAX_SHARED_DEPTH {
            let mut next = Vec::new();
            for object in frontier {
                if std::mem::replace(&mut shared[object.0 as usize], true) {
                    continue;
                }
                next.extend(fields.get(&object).into_iter().flatten().copied());
            }
            frontier = next;
        }
        Sharing {
            global,
            shared,
            fields,
        }
    }

    /// One object for everyone: reachable from a static, a package variable, or an object
    /// made outside the program (what code outside may have filled).
    pub fn is_global(&self, object: ObjId) -> bool {
        self.global.get(object.0 as usize).copied().unwrap_or(false)
    }

    /// The objects of `from` and what their fields hold, at any depth.
    pub fn reach(&self, from: &[ObjId]) -> HashSet<ObjId> {
        let mut seen: HashSet<ObjId> = HashSet::default();
        let mut pending: Vec<ObjId> = from.to_vec();
        while let Some(object) = pending.pop() {
            if seen.insert(object) {
                pending.extend(
                    self.fields
                        .get(&object)
                        .into_iter()
                        .flatten()
                        .copied()
                        .filter(|held| !seen.contains(held)),
                );
            }
        }
        seen
    }

    /// One object for every goroutine: reachable from a static or a package variable.
    pub fn is_shared_global(&self, object: ObjId) -> bool {
        self.shared.get(object.0 as usize).copied().unwrap_or(false)
    }
}

/// The questions the race analysis asks, over the program's graphs, with memos.
pub struct SharingQueries<'a> {
    pub program: &'a Program,
    pub points_to: &'a PointsTo,
    pub calls: &'a CallGraph,
    pub loops: &'a Loops,
    pub tasks: &'a Tasks,
    pub go: &'a GoState,
    pub sharing: &'a Sharing,
    reached: RefCell<HashMap<Vec<FunctionId>, Rc<HashSet<FunctionId>>>>,
    call_values: RefCell<HashMap<crate::model::BodyId, Rc<Vec<Option<ValueId>>>>>,
    many: RefCell<HashMap<FunctionId, bool>>,
    once: RefCell<HashMap<FunctionId, bool>>,
    concurrent: RefCell<HashMap<FunctionId, bool>>,
    visible: RefCell<HashMap<TaskId, Rc<HashSet<ObjId>>>>,
    statics_named: RefCell<HashMap<FunctionId, Rc<Vec<ObjId>>>>,
    siblings: RefCell<HashMap<(ObjId, TaskId), bool>>,
    handed_by_call: RefCell<HashMap<(FunctionId, CallId), ObjSet>>,
}

/// A set of objects shared between memo tables.
type ObjSet = Rc<HashSet<ObjId>>;

impl<'a> SharingQueries<'a> {
    pub fn new(
        program: &'a Program,
        points_to: &'a PointsTo,
        calls: &'a CallGraph,
        loops: &'a Loops,
        tasks: &'a Tasks,
        go: &'a GoState,
        sharing: &'a Sharing,
    ) -> SharingQueries<'a> {
        SharingQueries {
            program,
            points_to,
            calls,
            loops,
            tasks,
            go,
            sharing,
            reached: RefCell::default(),
            call_values: RefCell::default(),
            many: RefCell::default(),
            once: RefCell::default(),
            concurrent: RefCell::default(),
            visible: RefCell::default(),
            statics_named: RefCell::default(),
            siblings: RefCell::default(),
            handed_by_call: RefCell::default(),
        }
    }

    /// Whether a task can see an object made outside it: the object is one for every
    /// goroutine (see [`Sharing::is_shared_global`]), or the spawn hands it over (what the
    /// task's closure captures, the arguments and receiver of the call it runs, and what their
    /// fields hold). An object the task reaches otherwise is one its own code made.
    pub fn visible_to(&self, object: ObjId, task: TaskId) -> bool {
        self.sharing.is_shared_global(object) || self.handed_to(object, task)
    }

    /// What the package variables a function names hold.
    fn statics_named(&self, function: FunctionId) -> Rc<Vec<ObjId>> {
        if let Some(found) = self.statics_named.borrow().get(&function) {
            return found.clone();
        }
        let program = self.program;
        let owner = program.function(function).owner;
        let body = program.body(owner);
        let mut by_function: HashMap<FunctionId, Vec<ObjId>> = HashMap::default();
        let file = program.function(owner).file;
        for (index, value) in body.values.iter().enumerate() {
            if !matches!(value, Value::Path(_)) {
                continue;
            }
            let value_id = ValueId::from_index(index);
            let objects = self.points_to.pts(program, owner, value_id);
            if !objects.is_empty() {
                by_function
                    .entry(program.function_id(file, body.value_fn(value_id)))
                    .or_default()
                    .extend(objects);
            }
        }
        let mut cache = self.statics_named.borrow_mut();
        by_function.entry(function).or_default();
        for (id, objects) in by_function {
            cache.insert(id, Rc::new(objects));
        }
        cache.get(&function).cloned().unwrap_or_default()
    }

    /// Whether the spawn hands the task the object (or an object that reaches it).
    pub fn handed_to(&self, object: ObjId, task: TaskId) -> bool {
        if let Some(found) = self.visible.borrow().get(&task) {
            return found.contains(&object);
        }
        let set = Rc::new(self.handed_over(task));
        let handed = set.contains(&object);
        self.visible.borrow_mut().insert(task, set);
        handed
    }

    /// The objects a spawn hands its task, and what they reach.
    fn handed_over(&self, task: TaskId) -> HashSet<ObjId> {
        let program = self.program;
        let site = &self.calls.spawn_sites[task.site.0 as usize];
        let mut roots: Vec<ObjId> = Vec::new();
        let add_value = |roots: &mut Vec<ObjId>, owner: FunctionId, value: ValueId| {
            roots.extend(self.points_to.pts(program, owner, value));
        };
        let spawner_owner = program.function(site.spawner).owner;
        let body = program.body(spawner_owner);
        let call = body.call(site.call);
        for &arg in &call.args {
            add_value(&mut roots, spawner_owner, arg);
            if let Value::Call(inner) = body.value(arg) {
                let inner = body.call(*inner);
                for &value in &inner.args {
                    add_value(&mut roots, spawner_owner, value);
                }
                if let crate::model::facts::Callee::Method { receiver, .. } = &inner.callee {
                    add_value(&mut roots, spawner_owner, *receiver);
                }
            }
            if let Value::Field { base, .. } = body.value(arg) {
                add_value(&mut roots, spawner_owner, *base);
            }
        }
        let closures: Vec<FunctionId> = match task.closure {
            Some(closure) => vec![closure],
            None => site.bodies.clone(),
        };
        for closure in closures {
            let owner = program.function(closure).owner;
            let arena = program.function(owner).body;
            for &local in &program.fact(closure).captures {
                for &ctx in self.points_to.contexts_of(arena) {
                    roots.extend_from_slice(self.points_to.local_pts_in(arena, ctx, local));
                }
            }
        }
        // Package variables the spawned closures name themselves (`go func() { warm(cache)
        // }()`), not what code they call names.
        let closures: Vec<FunctionId> = match task.closure {
            Some(closure) => vec![closure],
            None => site.bodies.clone(),
        };
        for closure in closures {
            let owner = program.function(closure).owner;
            if owner == closure {
                continue;
            }
            for &function in self.reached(&[closure]).iter() {
                if program.function(function).owner == owner {
                    roots.extend(self.statics_named(function).iter().copied());
                }
            }
        }
        self.within_handed_depth(roots)
    }

    /// The objects `roots` hold within [`MAX_HANDED_DEPTH`] fields, as for package variables:
    /// deeper down, what abstract objects hold is mostly what merging them brought.
    fn within_handed_depth(&self, roots: Vec<ObjId>) -> HashSet<ObjId> {
        self.within_depth(roots, MAX_HANDED_DEPTH)
    }

    /// The objects `roots` hold within `depth` fields.
    pub fn within_depth(&self, roots: Vec<ObjId>, depth: u32) -> HashSet<ObjId> {
        let mut seen: HashSet<ObjId> = HashSet::default();
        let mut frontier = roots;
        for _ in 0..=depth {
            let mut next = Vec::new();
            for object in frontier {
                if seen.insert(object) {
                    next.extend(
                        self.sharing
                            .fields
                            .get(&object)
                            .into_iter()
                            .flatten()
                            .copied(),
                    );
                }
            }
            frontier = next;
        }
        seen
    }

    /// What code running `roots` runs in the same task (calls, closures, defers).
    pub fn reached(&self, roots: &[FunctionId]) -> Rc<HashSet<FunctionId>> {
        let mut key = roots.to_vec();
        key.sort();
        if let Some(found) = self.reached.borrow().get(&key) {
            return found.clone();
        }
        let set: Rc<HashSet<FunctionId>> =
            Rc::new(self.calls.reachable_in_task(&key).into_iter().collect());
        self.reached.borrow_mut().insert(key, set.clone());
        set
    }

    /// The function whose code makes an object, and the value that makes it.
    pub fn maker(&self, object: ObjId) -> Option<(FunctionId, ValueId)> {
        match &self.points_to.object(object).kind {
            ObjKind::Alloc { body, value, .. } => {
                let info = &self.program.bodies[body.0 as usize];
                let arena = &self.program.files[info.file as usize].facts.bodies[info.idx.index()];
                Some((
                    self.program.function_id(info.file, arena.value_fn(*value)),
                    *value,
                ))
            }
            _ => None,
        }
    }

    /// The object is made by the code a task runs (each task makes its own), as far as its
    /// context tells: a call of its context, or its maker, is task code.
    ///
    /// An object a task makes and later stores where others can reach it (a field of a shared
    /// object) is taken as its task's still: the task is taken to write it before it hands it
    /// over, as such code does.
    pub fn made_by_task(&self, object: ObjId, task: TaskId) -> bool {
        let Some((maker, _)) = self.maker(object) else {
            return false;
        };
        let task_code = match task.closure {
            Some(closure) => self.reached(&[closure]),
            None => self.reached(&self.calls.spawn_sites[task.site.0 as usize].bodies),
        };
        let ObjKind::Alloc { ctx, .. } = self.points_to.object(object).kind else {
            return false;
        };
        // The context is the innermost calls of the chain that made the object: when the
        // function whose code makes any of them is task code (a closure of the arena, as the
        // goroutine's own `func() { l := newWriter(); .. }`, not only the arena's owner), the
        // object was made while the task ran.
        let sites = self.points_to.context(ctx);
        if sites.is_empty() || self.within_spawned_closure(maker, task) {
            return task_code.contains(&maker);
        }
        sites.iter().any(|&(caller, call)| {
            let owner = self.program.function(caller).owner;
            let file = self.program.function(owner).file;
            let making = self
                .program
                .function_id(file, self.program.body(owner).call(call).function);
            task_code.contains(&caller) || task_code.contains(&making)
        })
    }

    /// `function` is the closure a task runs, or a closure within it: its code runs only in
    /// that task, whatever calls led to the code that created it.
    fn within_spawned_closure(&self, mut function: FunctionId, task: TaskId) -> bool {
        let bodies = &self.calls.spawn_sites[task.site.0 as usize].bodies;
        loop {
            if task.closure == Some(function)
                || (task.closure.is_none() && bodies.contains(&function))
            {
                return true;
            }
            let Some(parent) = self.program.fact(function).kind.parent() else {
                return false;
            };
            function = self
                .program
                .function_id(self.program.function(function).file, parent);
        }
    }

    /// The closures a spawn site's code calls through a value (`go f()` in a helper), made
    /// elsewhere: each is a task of its own.
    pub fn handed_closures(&self, site: SpawnSiteId) -> Vec<FunctionId> {
        let data = &self.calls.spawn_sites[site.0 as usize];
        let mut closures = Vec::new();
        for &body in &data.bodies {
            for (call, _) in self.program.own_calls(body) {
                if self
                    .program
                    .call_target(self.program.function(body).owner, call)
                    != crate::model::CallTarget::Unknown
                {
                    continue;
                }
                for target in self.calls.call_targets(self.program, body, call) {
                    let fact = self.program.fact(target);
                    if fact.kind.parent().is_some()
                        && self.program.function(target).owner
                            != self.program.function(data.spawner).owner
                    {
                        closures.push(target);
                    }
                }
            }
        }
        closures.sort();
        closures.dedup();
        closures
    }

    /// Where the tasks of one identity start: the spawner and the loop around the spawn, or,
    /// for a handed closure, the function that creates the closure and the loop around that.
    fn start_point(&self, task: TaskId) -> (FunctionId, Option<super::loops::LoopId>) {
        let data = &self.calls.spawn_sites[task.site.0 as usize];
        let Some(closure) = task.closure else {
            return (data.spawner, self.spawn_loop(task.site));
        };
        let function = self.program.function(closure);
        let Some(parent) = self.program.fact(closure).kind.parent() else {
            return (data.spawner, self.spawn_loop(task.site));
        };
        let creator = self.program.function_id(function.file, parent);
        let body = self.program.body(closure);
        let fn_idx = function.fn_idx;
        let created = body
            .values
            .iter()
            .position(|value| matches!(value, Value::Closure(inner) if *inner == fn_idx))
            .map(ValueId::from_index);
        let lp = created.and_then(|value| self.loops.of_value(function.body, value));
        (creator, lp)
    }

    /// Which value each call of an arena produces.
    fn call_value(&self, function: FunctionId, call: CallId) -> Option<ValueId> {
        let body_id = self.program.function(function).body;
        if let Some(found) = self.call_values.borrow().get(&body_id) {
            return found.get(call.index()).copied().flatten();
        }
        let body = self.program.body(function);
        let mut out = vec![None; body.calls.len()];
        for (index, value) in body.values.iter().enumerate() {
            if let Value::Call(call) = value {
                out[call.index()] = Some(ValueId::from_index(index));
            }
        }
        let out = Rc::new(out);
        self.call_values.borrow_mut().insert(body_id, out.clone());
        out.get(call.index()).copied().flatten()
    }

    /// Where the code of `function` makes `object` afresh: its allocation, or a call whose
    /// result is the object made by the code the call runs. `None` when the object comes from
    /// elsewhere (a parameter, a capture, a field of an older object, a static).
    pub fn made_in(&self, object: ObjId, function: FunctionId) -> Option<ValueId> {
        let (maker, value) = self.maker(object)?;
        if maker == function {
            return Some(value);
        }
        let owner = self.program.function(function).owner;
        for (call, _) in self.program.own_calls(function) {
            let Some(result) = self.call_value(owner, call) else {
                continue;
            };
            // The call makes the object (memoized, so first) and returns it, or holds it in
            // the fields of what it returns (`newProduceSet()`: a struct with a new map).
            let targets = self.calls.call_targets(self.program, function, call);
            if targets.is_empty() || !self.reached(&targets).contains(&maker) {
                continue;
            }
            let returned = self.points_to.pts(self.program, owner, result);
            if returned.contains(&object) || self.within_handed_depth(returned).contains(&object) {
                return Some(result);
            }
        }
        None
    }

    /// The innermost loop a spawn is in, within its function.
    fn spawn_loop(&self, site: SpawnSiteId) -> Option<super::loops::LoopId> {
        let data = &self.calls.spawn_sites[site.0 as usize];
        let body = self.program.function(data.spawner).body;
        self.loops.of_call(body, data.call)
    }

    /// Each task of a loop gets an element of its own: the object reaches the task only as
    /// the value of a range loop variable the spawned code captures (`for _, shard := range
    /// shards { go func() { shard[k] = v }() }`), not through any other capture. Go 1.22 made
    /// loop variables per iteration; modules declaring an older `go` release, where the
    /// goroutines may all see the last element, are not told apart.
    fn per_iteration_element(&self, object: ObjId, task: TaskId) -> bool {
        let program = self.program;
        if program.language != crate::source::Language::Go {
            return false;
        }
        let site = &self.calls.spawn_sites[task.site.0 as usize];
        let closures: Vec<FunctionId> = match task.closure {
            Some(closure) => vec![closure],
            None => site.bodies.clone(),
        };
        let mut via_element = false;
        let mut others: Vec<ObjId> = Vec::new();
        for closure in closures {
            let owner = program.function(closure).owner;
            let arena = program.function(owner).body;
            let body = program.body(owner);
            for &local in &program.fact(closure).captures {
                let element = is_range_element(body, local);
                for &ctx in self.points_to.contexts_of(arena) {
                    let pts = self.points_to.local_pts_in(arena, ctx, local);
                    if element {
                        via_element |= pts.contains(&object);
                    } else {
                        others.extend_from_slice(pts);
                    }
                }
            }
            if owner != closure {
                for &function in self.reached(&[closure]).iter() {
                    if program.function(function).owner == owner {
                        others.extend(self.statics_named(function).iter().copied());
                    }
                }
            }
        }
        // Not reached another way, within the fields a spawn hands over.
        via_element && !self.within_handed_depth(others).contains(&object)
    }

    /// Tasks of one identity, started by its repetition, all see the same `object`.
    pub fn shared_by_siblings(&self, object: ObjId, task: TaskId) -> bool {
        if let Some(&known) = self.siblings.borrow().get(&(object, task)) {
            return known;
        }
        let shared = self.shared_by_siblings_uncached(object, task);
        self.siblings.borrow_mut().insert((object, task), shared);
        shared
    }

    fn shared_by_siblings_uncached(&self, object: ObjId, task: TaskId) -> bool {
        if self.made_by_task(object, task) || !self.visible_to(object, task) {
            return false;
        }
        // A server runs what one registration hands it on a goroutine per request: every one
        // of them shares it.
        if self.calls.spawn_sites[task.site.0 as usize].kind == SpawnKind::Handler {
            return true;
        }
        let (start, lp) = self.start_point(task);
        let body = self.program.function(start).body;
        let made = self.made_in(object, start);
        // Made afresh for each task, within the repetition that starts them, and handed to it
        // by the spawn: each task has its own, even when it is also published where others
        // reach it (those others are parties of their own).
        if let Some(value) = made {
            let per_task = match lp {
                Some(lp) => self
                    .loops
                    .is_within(body, self.loops.of_value(body, value), lp),
                None => true,
            };
            if per_task && self.handed_to(object, task) {
                return false;
            }
        }
        if self.per_iteration_element(object, task) {
            return false;
        }
        // Reachable from a package variable: one object for everyone when it is made once. An
        // object made by code that runs many times is many objects, each of which may be
        // published there (a job registry keeps every job's result); tasks that are handed one
        // by their spawn share it only as the repetition below says.
        if self.sharing.is_shared_global(object) && !self.made_repeatedly(object) {
            return true;
        }
        match (made, lp) {
            // Made outside the loop that starts the tasks: one object for all of them.
            (Some(value), Some(lp)) => {
                !self
                    .loops
                    .is_within(body, self.loops.of_value(body, value), lp)
            }
            // Made once per run of the function that starts them: tasks of other runs have
            // their own.
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => {
                // A helper that spawns in a loop whatever it is handed (`for _, f := range fs
                // { go f() }`): its tasks share what the closures capture.
                (task.closure.is_some() && self.spawn_loop(task.site).is_some())
                    || self.shared_across_runs(object, start, 0)
            }
        }
    }

    /// `function` runs several times (in a loop, or from several calls) and `object` comes into
    /// it from outside: the repetition happens where the object is already made.
    fn shared_across_runs(&self, object: ObjId, function: FunctionId, depth: u32) -> bool {
        if depth > MAX_CALLER_DEPTH {
            return false;
        }
        let calls_by_caller = self.calls_handing_over(object, function);
        let mut callers_passing_it_in = 0;
        for (caller, calls) in calls_by_caller {
            let body = self.program.function(caller).body;
            let made = self.made_in(object, caller);
            for &call in &calls {
                if let Some(lp) = self.loops.of_call(body, call) {
                    let shared = match made {
                        Some(value) => {
                            !self
                                .loops
                                .is_within(body, self.loops.of_value(body, value), lp)
                        }
                        None => !self.handed_as_element(object, caller, call, lp),
                    };
                    if shared {
                        return true;
                    }
                }
            }
            if calls.len() >= 2
                && self.two_on_one_path(caller, &calls)
                && !self.joined_between_calls(caller, function)
            {
                return true;
            }
            if made.is_none() && self.shared_across_runs(object, caller, depth + 1) {
                return true;
            }
            callers_passing_it_in += usize::from(made.is_none());
        }
        // Several callers, none of which makes the object: it comes from further out, the
        // same for each of their calls, when it is made once. An object made by code that runs
        // many times is many objects: two callers that each hand one over need not hand over
        // the same (what a type-erased container hands out, `in["inputs"].([]any)`, stands for
        // every map of that type stored anywhere).
        callers_passing_it_in >= 2 && !self.made_repeatedly(object)
    }

    /// The code that makes the object may run many times (each run makes one of its own): it
    /// is not known to run once.
    fn made_repeatedly(&self, object: ObjId) -> bool {
        self.maker(self.points_to.root_object(object))
            .is_some_and(|(maker, _)| !self.runs_once(maker, 0))
    }

    /// A function runs once in the program: it is `main`, `init` or a package variable's
    /// initializer, or it is called once, outside loops, by a function that runs once, and no
    /// task runs it. A function with no caller in the program (an exported function, one
    /// called through a value the analysis cannot follow) is not known to run once.
    fn runs_once(&self, function: FunctionId, depth: u32) -> bool {
        let fact = self.program.fact(function);
        if fact.kind == crate::model::facts::FnKind::StaticInit
            || (fact.kind == crate::model::facts::FnKind::Free
                && matches!(&*fact.name, "main" | "init"))
        {
            return true;
        }
        if depth > MAX_CALLER_DEPTH || !self.tasks.sites_running(function).is_empty() {
            return false;
        }
        if let Some(&found) = self.once.borrow().get(&function) {
            return found;
        }
        // A cycle runs many times.
        self.once.borrow_mut().insert(function, false);
        let mut calls = self.calls.edges_to(function);
        let result = match (calls.next(), calls.next()) {
            (Some((caller, EdgeKind::Call(call))), None) => {
                let body = self.program.function(caller).body;
                self.loops.of_call(body, call).is_none() && self.runs_once(caller, depth + 1)
            }
            _ => false,
        };
        self.once.borrow_mut().insert(function, result);
        result
    }

    /// The calls to `function`, by caller, that hand `object` to it: an argument or the
    /// receiver holds it within the fields a spawn hands over. Two calls that hand over two
    /// objects of one allocation site (`loop(&coalescer{..})` twice) repeat the function, not
    /// the object: each run has its own. When no call hands the object over as far as the
    /// analysis sees (it comes some other way), every call counts.
    /// What a call hands its callee (its operands and what they hold, within a few fields).
    fn handed_by_call(&self, caller: FunctionId, call: CallId) -> ObjSet {
        if let Some(found) = self.handed_by_call.borrow().get(&(caller, call)) {
            return found.clone();
        }
        let owner = self.program.function(caller).owner;
        let roots: Vec<ObjId> = call_operands(self.program.body(owner).call(call))
            .flat_map(|value| self.points_to.pts(self.program, owner, value))
            .collect();
        let handed = Rc::new(self.within_handed_depth(roots));
        self.handed_by_call
            .borrow_mut()
            .insert((caller, call), handed.clone());
        handed
    }

    fn calls_handing_over(
        &self,
        object: ObjId,
        function: FunctionId,
    ) -> HashMap<FunctionId, Vec<CallId>> {
        let mut all: HashMap<FunctionId, Vec<CallId>> = HashMap::default();
        let mut handing: HashMap<FunctionId, Vec<CallId>> = HashMap::default();
        for (caller, kind) in self.calls.edges_to(function) {
            let EdgeKind::Call(call) = kind else {
                continue;
            };
            all.entry(caller).or_default().push(call);
            if self.handed_by_call(caller, call).contains(&object) {
                handing.entry(caller).or_default().push(call);
            }
        }
        if handing.is_empty() { all } else { handing }
    }

    /// The call hands `object` over only as the element of the range loop `lp` it sits in
    /// (`for _, c := range m.clients { c.start() }`): each iteration hands over an element of
    /// its own, as [`Self::per_iteration_element`] takes it for goroutines a loop starts.
    fn handed_as_element(
        &self,
        object: ObjId,
        caller: FunctionId,
        call: CallId,
        lp: super::loops::LoopId,
    ) -> bool {
        if self.program.language != crate::source::Language::Go {
            return false;
        }
        let owner = self.program.function(caller).owner;
        let body = self.program.body(owner);
        let arena = self.program.function(owner).body;
        let mut via_element = false;
        for value in call_operands(body.call(call)) {
            let pts = self.points_to.pts(self.program, owner, value);
            if !self.within_handed_depth(pts).contains(&object) {
                continue;
            }
            // The element itself, its address, or it converted (`Iface(c)`).
            let mut base = value;
            loop {
                base = match body.value(base) {
                    Value::Ref { inner, .. } | Value::Deref(inner) | Value::Cast { inner, .. } => {
                        *inner
                    }
                    Value::Call(inner) => match self.conversion_operand(owner, *inner) {
                        Some(operand) => operand,
                        None => break,
                    },
                    _ => break,
                };
            }
            let Value::Local(local) = body.value(base) else {
                return false;
            };
            let element =
                is_range_element(body, *local) && self.loops.of_local(arena, *local) == Some(lp);
            if !element {
                return false;
            }
            via_element = true;
        }
        via_element
    }

    /// The operand of a call that converts it to a type of the program (`Iface(x)`).
    fn conversion_operand(&self, owner: FunctionId, call: CallId) -> Option<ValueId> {
        let fact = self.program.body(owner).call(call);
        let (Callee::Path(path), [only]) = (&fact.callee, fact.args.as_slice()) else {
            return None;
        };
        self.program
            .names_type(self.program.function(owner).module, path)
            .then_some(*only)
    }

    /// Two of the calls run in one activation of their function: on some path through it,
    /// not in arms of which one runs, nor one on a path that has returned before the other.
    fn two_on_one_path(&self, caller: FunctionId, calls: &[CallId]) -> bool {
        /// The most calls on a path through `nodes` that goes on after them, and on one that
        /// leaves the function within them (`None`: no such path).
        fn most(nodes: &[Node], calls: &[CallId], from: u32) -> (Option<u32>, u32) {
            let mut going = Some(from);
            let mut left = 0;
            for node in nodes {
                let Some(count) = going else {
                    break;
                };
                match node {
                    Node::Event(Event::Call(call)) if calls.contains(call) => {
                        going = Some(count + 1);
                    }
                    Node::Event(Event::Exit {
                        kind: ExitKind::Function,
                        ..
                    }) => {
                        left = left.max(count);
                        going = None;
                    }
                    Node::Event(_) => {}
                    Node::Branch(arms) => {
                        going = None;
                        for arm in arms {
                            let (arm_going, arm_left) = most(arm, calls, count);
                            left = left.max(arm_left);
                            going = going.max(arm_going);
                        }
                    }
                    // A call in a loop runs many times: taken as two.
                    Node::Loop(body) => {
                        let (body_going, body_left) = most(body, calls, count);
                        let repeated = |after: u32| if after > count { after + 1 } else { after };
                        left = left.max(repeated(body_left));
                        going = Some(repeated(body_going.unwrap_or(count)).max(count));
                    }
                }
            }
            (going, left)
        }
        let (going, left) = most(&self.program.fact(caller).nodes, calls, 0);
        going.unwrap_or(0).max(left) >= 2
    }

    /// Every pair of calls from `caller` to `callee` has a join between them on every path
    /// (`p.run(a); p.wg.Wait(); p.run(b)`): the tasks of one call are done before the next.
    fn joined_between_calls(&self, caller: FunctionId, callee: FunctionId) -> bool {
        let Some(timeline) = self.go.timelines.get(&caller) else {
            return false;
        };
        let orders: Vec<u32> = timeline
            .calls
            .iter()
            .filter(|(target, _, _)| *target == callee)
            .map(|(_, order, _)| *order)
            .collect();
        orders.len() >= 2
            && orders.windows(2).all(|pair| {
                timeline
                    .joins
                    .iter()
                    .any(|&join| join > pair[0] && join < pair[1])
            })
    }

    /// Tasks of two spawn sites can be alive at the same time. A task its spawner waits for
    /// before returning lives within one run of the spawner: it meets the other site's tasks
    /// only when those are started by that run (the spawner is the other's, or calls it), or
    /// when the spawner runs concurrently with them, or when they are tasks nothing waits for
    /// (which live on).
    pub fn may_overlap(&self, a: SpawnSiteId, b: SpawnSiteId) -> bool {
        let bounded = |site: SpawnSiteId| {
            let data = &self.calls.spawn_sites[site.0 as usize];
            self.go
                .timelines
                .get(&data.spawner)
                .and_then(|timeline| timeline.spawn(data.call))
                .is_some_and(|spawn| spawn.joined_before_return)
                && !self.runs_concurrently(data.spawner)
        };
        if !bounded(a) || !bounded(b) {
            return true;
        }
        let (spawner_a, spawner_b) = (
            self.calls.spawn_sites[a.0 as usize].spawner,
            self.calls.spawn_sites[b.0 as usize].spawner,
        );
        spawner_a == spawner_b
            || (self.reached(&[spawner_a]).contains(&spawner_b)
                && !self.runs_before_spawning(a, spawner_b))
            || (self.reached(&[spawner_b]).contains(&spawner_a)
                && !self.runs_before_spawning(b, spawner_a))
    }

    /// The spawner of `site` runs `callee` only through its own calls made before the spawn,
    /// outside loops (the spawn may be in one): the tasks `callee` starts and waits for are done before the site's
    /// start (`tags, err := d.listTags(ctx)` waits for its `errgroup` before the caller's
    /// goroutines that read `tags` start).
    fn runs_before_spawning(&self, site: SpawnSiteId, callee: FunctionId) -> bool {
        let data = &self.calls.spawn_sites[site.0 as usize];
        let Some(timeline) = self.go.timelines.get(&data.spawner) else {
            return false;
        };
        let Some(spawn) = timeline.spawn(data.call) else {
            return false;
        };
        let body = self.program.function(data.spawner).body;
        let runs =
            |target: FunctionId| target == callee || self.reached(&[target]).contains(&callee);
        // Each call of the spawner that runs it: before the spawn, outside the spawner's loops
        // (a loop around the call and the spawn would run it again while the tasks run).
        let mut found = false;
        for (call, _) in self.program.own_calls(data.spawner) {
            let targets = self.calls.call_targets(self.program, data.spawner, call);
            if !targets.iter().any(|&target| runs(target)) {
                continue;
            }
            let looped = self
                .loops
                .of_call(body, call)
                .is_some_and(|lp| self.loops.function_of(body, lp) == Some(data.spawner));
            let mut orders = timeline
                .calls
                .iter()
                .filter(|(target, _, _)| targets.contains(target))
                .peekable();
            if looped
                || orders.peek().is_none()
                || !orders.all(|(_, order, _)| *order < spawn.order)
            {
                return false;
            }
            found = true;
        }
        // Nothing else of the spawner (its closures, defers, goroutines) runs it.
        found
            && self
                .calls
                .edges_from(data.spawner)
                .all(|(target, kind)| matches!(kind, EdgeKind::Call(_)) || !runs(target))
    }

    /// A task identity has many tasks that can run at once.
    pub fn many(&self, task: TaskId) -> bool {
        let site = task.site;
        let data = &self.calls.spawn_sites[site.0 as usize];
        if data.kind == SpawnKind::Handler {
            return true;
        }
        let spawn = self
            .go
            .timelines
            .get(&data.spawner)
            .and_then(|timeline| timeline.spawn(data.call));
        let joined_each_iteration = spawn.is_some_and(|spawn| spawn.joined_each_iteration);
        if self.spawn_loop(site).is_some() && !joined_each_iteration {
            return true;
        }
        let joined_before_return = spawn.is_some_and(|spawn| spawn.joined_before_return);
        let (start, lp) = self.start_point(task);
        if task.closure.is_some() {
            // A handed closure: as many tasks as times it is created (while the helper does
            // not wait for each).
            return !joined_before_return
                && (lp.is_some()
                    || self.runs_concurrently(start)
                    || self.runs_repeatedly(start, 0));
        }
        if self.runs_concurrently(data.spawner) {
            return true;
        }
        // A spawner that waits for its tasks before it returns runs them one call at a time,
        // however often it is called.
        !joined_before_return && self.runs_repeatedly(data.spawner, 0)
    }

    /// The task identities of a spawn site that run a function.
    pub fn tasks_running(&self, site: SpawnSiteId, function: FunctionId) -> Vec<TaskId> {
        let closures = self.handed_closures(site);
        let mut out: Vec<TaskId> = closures
            .iter()
            .filter(|&&closure| self.reached(&[closure]).contains(&function))
            .map(|&closure| TaskId {
                site,
                closure: Some(closure),
            })
            .collect();
        if out.is_empty() {
            out.push(TaskId {
                site,
                closure: None,
            });
        }
        out
    }

    /// Several tasks run the function at once: tasks of a spawn site that starts many, whose
    /// code reaches it.
    pub fn runs_concurrently(&self, function: FunctionId) -> bool {
        if let Some(&found) = self.concurrent.borrow().get(&function) {
            return found;
        }
        // A cycle counts as not concurrent until shown otherwise.
        self.concurrent.borrow_mut().insert(function, false);
        let result = self.tasks.sites_running(function).iter().any(|&site| {
            let data = &self.calls.spawn_sites[site.0 as usize];
            data.spawner != function
                && self
                    .tasks_running(site, function)
                    .into_iter()
                    .any(|task| self.many(task))
        });
        self.concurrent.borrow_mut().insert(function, result);
        result
    }

    /// A function runs many times: called in a loop, from several calls not separated by
    /// joins, by code that runs many times or concurrently, or from a callback called per
    /// element.
    pub fn runs_repeatedly(&self, function: FunctionId, depth: u32) -> bool {
        if depth > MAX_CALLER_DEPTH {
            return false;
        }
        if let Some(&found) = self.many.borrow().get(&function) {
            return found;
        }
        // A cycle counts as not repeated until shown otherwise.
        self.many.borrow_mut().insert(function, false);
        let mut result = self.runs_concurrently(function);
        let mut calls_by_caller: HashMap<FunctionId, Vec<CallId>> = HashMap::default();
        for (caller, kind) in self.calls.edges_to(function) {
            if let EdgeKind::Call(call) = kind {
                calls_by_caller.entry(caller).or_default().push(call);
            }
        }
        let total_calls: usize = calls_by_caller.values().map(Vec::len).sum();
        if calls_by_caller.len() >= 2 && total_calls >= 2 {
            result = true;
        }
        for (caller, calls) in &calls_by_caller {
            if result {
                break;
            }
            let body = self.program.function(*caller).body;
            if calls
                .iter()
                .any(|&call| self.loops.of_call(body, call).is_some())
                || (calls.len() >= 2
                    && self.two_on_one_path(*caller, calls)
                    && !self.joined_between_calls(*caller, function))
                || self.runs_repeatedly(*caller, depth + 1)
            {
                result = true;
            }
        }
        self.many.borrow_mut().insert(function, result);
        result
    }
}

/// What a call hands its callee: the arguments, and the receiver or the called value.
fn call_operands(fact: &crate::model::facts::CallFact) -> impl Iterator<Item = ValueId> + '_ {
    let receiver = match &fact.callee {
        Callee::Method { receiver, .. } => Some(*receiver),
        Callee::Dynamic(value) => Some(*value),
        Callee::Path(_) => None,
    };
    fact.args.iter().copied().chain(receiver)
}

/// A range loop's element variable (`c` in `for _, c := range clients`).
fn is_range_element(body: &crate::model::facts::Body, local: crate::model::facts::LocalId) -> bool {
    let fact = body.local(local);
    fact.origin == crate::model::facts::LocalOrigin::ForLoop
        && fact
            .init
            .is_some_and(|init| matches!(body.value(init), Value::Element(_)))
}
