//! The lock state at the moment deferred code runs. Each function's event tree is walked in
//! execution order, tracking which slots still own their value: lock guards held, defer
//! guards and values with drop glue pending. Where a defer guard or a value with drop glue
//! dies (end of scope in reverse declaration order, end of statement for temporaries,
//! `drop(x)`, overwrite, a map dropping its values) while guards are definitely held, the
//! run is recorded with the locks held at that point.

use std::collections::BTreeMap;

use super::locks::{LockOpId, LockOps};
use super::slots::{Content, SlotContents};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::graph::calls::{CallGraph, DeferSiteId, DropGlue};
use crate::model::facts::LocalId;
use crate::model::facts::{
    CallId, Callee, Event, FnKind, Node, ReleaseReason, Slot, Value, ValueId,
};
use crate::model::modules::FunctionId;
use crate::model::{CallTarget, LibCall, MapOpKind, Program};
use crate::source::Span;

/// Who holds a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// A guard in a local or a temporary of the function.
    Slot(Slot),
    /// Every caller of the function holds it when it calls; the function with the guard is
    /// one of them.
    Caller(FunctionId),
    /// The guard the function returns (its tail, or `return`), created by the call at this
    /// span: it is alive while the function's locals are dropped.
    Returned(Span),
    /// The call at this span holds the lock itself while it drops values (a sharded map's
    /// `retain` or `clear` holding the shard).
    Within(Span),
}

/// A lock held at some point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldLock {
    pub holder: Holder,
    pub lock: LockOpId,
}

/// What deferred code runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// A defer guard's body.
    DeferGuard(DeferSiteId),
    /// `Drop` code of a value dying.
    Drop { may_be_last_owner: bool },
    /// Values a map drops (`clear`, `retain`, overwriting the whole map).
    MapValuesDropped,
    /// A future dropped as its `.await` completes, while its output (a guard) is alive.
    AwaitedFuture,
}

/// Deferred code running while locks are held.
#[derive(Clone, Debug)]
pub struct DeferredRun {
    /// The function whose code drops the value.
    pub function: FunctionId,
    /// The owner of its arena.
    pub owner: FunctionId,
    pub slot: Option<Slot>,
    pub kind: RunKind,
    /// The functions that run: a defer body, or `Drop::drop` impls.
    pub runs: Vec<FunctionId>,
    /// Where it runs.
    pub span: Span,
    pub reason: Option<ReleaseReason>,
    /// Where the dying value or guard was created.
    pub origin: Span,
    pub held: Vec<HeldLock>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotState {
    Owned,
    Gone,
    Maybe,
}

type State = BTreeMap<Slot, SlotState>;

/// The process ends (`std::process::exit`, `abort`, or a call of a program function that never
/// returns and exits) while slots still own defer guards or values with `Drop` code: that code
/// never runs.
#[derive(Clone, Debug)]
pub struct PendingExit {
    pub function: FunctionId,
    pub owner: FunctionId,
    /// The exit call, or the call of the function that exits.
    pub span: Span,
    /// The function called at `span` that exits, when it is not the exit itself.
    pub helper: Option<FunctionId>,
    /// The slots still owning a defer guard or a value with `Drop` code, in declaration order.
    pub pending: Vec<Slot>,
}

/// An `.await` reached while guards are held: other tasks of the thread may run meanwhile.
#[derive(Clone, Debug)]
pub struct Suspension {
    pub function: FunctionId,
    pub owner: FunctionId,
    /// The `.await`.
    pub span: Span,
    pub held: Vec<HeldLock>,
}

/// Every deferred run with locks held, every exit with deferred code pending, and every
/// `.await` with guards held, program-wide.
#[derive(Debug, Default)]
pub struct LockState {
    pub runs: Vec<DeferredRun>,
    pub exits: Vec<PendingExit>,
    pub suspensions: Vec<Suspension>,
    /// For each `Drop::drop`, the functions whose code drops a value that runs it (at a scope
    /// end, a statement end, `drop(x)`, an overwrite, a map dropping its values), with or
    /// without locks held.
    pub drop_places: HashMap<FunctionId, Vec<FunctionId>>,
    /// The locks (by alias class) held somewhere while code that may panic runs: a call of
    /// code not seen or of the program, `unwrap`/`expect`, a panicking macro. Only such a
    /// lock can be poisoned.
    pub may_panic_under: HashSet<crate::graph::alias::ClassId>,
}

impl LockState {
    /// The functions where values whose `Drop` is `drop_fn` are seen to die.
    pub fn drop_places(&self, drop_fn: FunctionId) -> &[FunctionId] {
        self.drop_places
            .get(&drop_fn)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

impl LockState {
    pub fn compute(
        program: &Program,
        contents: &SlotContents,
        locks: &LockOps,
        glue: &DropGlue,
        calls: &CallGraph,
    ) -> LockState {
        // First pass: the locks each call of a program function is made under, and each call
        // of a func-typed parameter.
        let mut call_sites: Vec<CallSite> = Vec::new();
        let mut param_call_sites: HashMap<(FunctionId, CallId), Vec<HeldLock>> = HashMap::default();
        let mut discarded = Vec::new();
        for function in program.function_ids() {
            let mut walker = Walker::new(
                program,
                contents,
                locks,
                glue,
                function,
                &[],
                &mut discarded,
            );
            walker.call_sites = Some(&mut call_sites);
            walker.param_calls = Some(&mut param_call_sites);
            let mut start = walker.initial_state();
            walker.walk(&program.fact(function).nodes, &mut start);
        }
        let closure_sites = closure_call_sites(program, calls, &param_call_sites);
        let called_back: HashSet<FunctionId> =
            closure_sites.iter().map(|site| site.callee).collect();
        call_sites.extend(closure_sites);
        let entry = entry_locks(program, locks, &call_sites, &called_back);
        let exit_calls = exit_calls(program);
        let effect_drops = effect_drops(program);
        // Second pass: deferred runs, with the locks every caller holds, and exits.
        let mut state = LockState::default();
        let panics = Panics::new(program, locks);
        for function in program.function_ids() {
            let held_on_entry = entry.get(&function).map(Vec::as_slice).unwrap_or(&[]);
            let mut walker = Walker::new(
                program,
                contents,
                locks,
                glue,
                function,
                held_on_entry,
                &mut state.runs,
            );
            walker.exits = Some(&mut state.exits);
            walker.exit_calls = Some(&exit_calls);
            walker.effect_drops = Some(&effect_drops);
            walker.suspensions = Some(&mut state.suspensions);
            walker.drop_places = Some(&mut state.drop_places);
            // A lock that only test code can poison (a failing assertion under it) does not
            // make the program's own deferred code abort.
            if !program.is_test_code(function) {
                walker.may_panic_under = Some(&mut state.may_panic_under);
                walker.panics = Some(&panics);
            }
            let mut start = walker.initial_state();
            walker.walk(&program.fact(function).nodes, &mut start);
        }
        state
    }
}

/// Functions named as values (`retain(Self::prune)`, `spawn(worker)`): they are called by code
/// the analysis does not see.
fn functions_used_as_values(
    program: &Program,
    candidates: &HashMap<FunctionId, Vec<usize>>,
) -> rustc_hash::FxHashSet<FunctionId> {
    let names: rustc_hash::FxHashSet<&str> = candidates
        .keys()
        .map(|&function| &*program.fact(function).name)
        .collect();
    let mut used = rustc_hash::FxHashSet::default();
    for owner in program.function_ids() {
        if program.function(owner).owner != owner {
            continue;
        }
        let module = program.function(owner).module;
        let self_adt = program
            .function(owner)
            .self_ty
            .and_then(|ty| program.types.adt(ty));
        for value in &program.body(owner).values {
            let Value::Path(path) = value else { continue };
            if !names.contains(path.last()) {
                continue;
            }
            if path.segments.len() == 2 && &*path.segments[0] == "Self" {
                if let Some(methods) =
                    self_adt.and_then(|adt| program.adt(adt).methods.get(&path.segments[1]))
                {
                    used.extend(methods.iter().copied());
                }
                continue;
            }
            if let Some(crate::model::Resolved::Item(
                crate::model::ItemRef::Function(function),
                extra,
            )) = program
                .tree
                .resolve(module, &path.segments, path.leading_colon)
            {
                if extra.is_empty() {
                    used.insert(function);
                }
            } else if let Some(crate::model::Resolved::Item(
                crate::model::ItemRef::Adt(adt),
                extra,
            )) = program
                .tree
                .resolve(module, &path.segments, path.leading_colon)
            {
                // `Type::method` as a value.
                if let Some(methods) = extra
                    .first()
                    .and_then(|name| program.adt(adt).methods.get(name))
                {
                    used.extend(methods.iter().copied());
                }
            }
        }
    }
    used
}

/// The calls of closures written in place as an argument of a program function that calls
/// them through its parameter (`registry.visit(|name, value| ..)` and `visitor(name, value)` in
/// `visit`, or in a function `visit` hands the parameter on to): the function calls the
/// closure, with the locks its own guards hold at the call. Only where the functions do nothing
/// else with the parameter (store it, capture it, hand it to code not seen), so that these are
/// all the closure's callers.
fn closure_call_sites(
    program: &Program,
    calls: &CallGraph,
    held_at_param_calls: &HeldAtCalls,
) -> Vec<CallSite> {
    let mut sites = Vec::new();
    for (closure, (caller, call)) in calls.handed_closures() {
        let owner = program.function(caller).owner;
        let CallTarget::Function(callee) = program.call_target(owner, call) else {
            continue;
        };
        let body = program.body(owner);
        let fact = body.call(call);
        let operands: Vec<ValueId> = fact.positional_operands();
        let file = program.function(owner).file;
        let Some(position) = operands.iter().position(|&operand| {
            crate::graph::calls::closure_of(body, operand)
                .is_some_and(|found| program.function_id(file, found) == closure)
        }) else {
            continue;
        };
        let mut param_calls = Vec::new();
        if !parameter_calls(program, callee, position, 0, &mut param_calls) {
            continue;
        }
        for (function, param_call) in param_calls {
            sites.push(CallSite {
                caller: function,
                callee: closure,
                held: held_at_param_calls
                    .get(&(function, param_call))
                    .cloned()
                    .unwrap_or_default(),
            });
        }
    }
    sites
}

/// The calls of a function's parameter (receiver first), in the function's own code and in
/// the functions it hands the parameter to; `false` when the parameter has any other use.
fn parameter_calls(
    program: &Program,
    function: FunctionId,
    position: usize,
    depth: u32,
    out: &mut Vec<(FunctionId, CallId)>,
) -> bool {
    if depth > 4 || program.function(function).owner != function {
        return false;
    }
    let Some(&param) = program.fact(function).params.get(position) else {
        return false;
    };
    let body = program.body(function);
    let is_param =
        |value: ValueId| matches!(body.value(value), Value::Local(local) if *local == param);
    let uses = body
        .values
        .iter()
        .filter(|value| matches!(value, Value::Local(local) if *local == param))
        .count();
    let mut accounted = 0;
    let file = program.function(function).file;
    // The function's own calls and those of the closures in it, which capture the parameter.
    for (index, fact) in body.calls.iter().enumerate() {
        let call = CallId::from_index(index);
        let caller = program.function_id(file, fact.function);
        if let Callee::Dynamic(callee) = &fact.callee
            && is_param(*callee)
        {
            out.push((caller, call));
            accounted += 1;
        }
        let handed: Vec<usize> = fact
            .positional_operands()
            .into_iter()
            .enumerate()
            .filter(|&(_, operand)| is_param(operand))
            .map(|(index, _)| index)
            .collect();
        if handed.is_empty() {
            continue;
        }
        let CallTarget::Function(next) = program.call_target(caller, call) else {
            return false;
        };
        for index in handed {
            if !parameter_calls(program, next, index, depth + 1, out) {
                return false;
            }
            accounted += 1;
        }
    }
    uses == accounted
}

/// The locks a function's own guards hold at some of its calls.
type HeldAtCalls = HashMap<(FunctionId, CallId), Vec<HeldLock>>;

/// A call of a program function, with the locks definitely held by the caller's own guards.
struct CallSite {
    caller: FunctionId,
    callee: FunctionId,
    held: Vec<HeldLock>,
}

/// The locks held on entry to each function by every one of its callers: a must-analysis to a
/// fixed point. A function that code outside the crate may call (`pub`, a trait method), or
/// that is never called, holds nothing on entry; closures are called by code that is not seen,
/// except those in `called_back`, which only a function of the program calls through its
/// parameter.
fn entry_locks(
    program: &Program,
    locks: &LockOps,
    call_sites: &[CallSite],
    called_back: &HashSet<FunctionId>,
) -> HashMap<FunctionId, Vec<HeldLock>> {
    let mut by_callee: HashMap<FunctionId, Vec<usize>> = HashMap::default();
    for (index, site) in call_sites.iter().enumerate() {
        by_callee.entry(site.callee).or_default().push(index);
    }
    let referenced = functions_used_as_values(program, &by_callee);
    let eligible = |function: FunctionId| {
        let fact = program.fact(function);
        if called_back.contains(&function) {
            return true;
        }
        !fact.is_public
            && fact.kind.parent().is_none()
            && fact.kind != FnKind::StaticInit
            && !referenced.contains(&function)
    };
    // `None` is "not computed yet" (the top of the lattice).
    let mut entry: HashMap<FunctionId, Option<Vec<HeldLock>>> = HashMap::default();
    for &callee in by_callee.keys() {
        if eligible(callee) {
            entry.insert(callee, None);
        }
    }
    let class = |held: &HeldLock| locks.get(held.lock).class;
    let mut changed = true;
    let mut rounds = 0;
    while changed && rounds < 32 {
        changed = false;
        rounds += 1;
        let callees: Vec<FunctionId> = entry.keys().copied().collect();
        for callee in callees {
            let mut result: Option<Vec<HeldLock>> = None;
            for &index in &by_callee[&callee] {
                let site = &call_sites[index];
                if site.caller == callee {
                    continue;
                }
                let mut held: Vec<HeldLock> = site
                    .held
                    .iter()
                    .map(|held| HeldLock {
                        holder: Holder::Caller(site.caller),
                        lock: held.lock,
                    })
                    .collect();
                match entry.get(&site.caller) {
                    Some(None) => continue,
                    Some(Some(caller_entry)) => held.extend(caller_entry.iter().copied()),
                    None => {}
                }
                result = Some(match result {
                    None => held,
                    Some(previous) => previous
                        .into_iter()
                        .filter(|kept| {
                            held.iter()
                                .any(|other| class(other).is_some() && class(other) == class(kept))
                        })
                        .collect(),
                });
            }
            let Some(mut result) = result else { continue };
            result.sort_by_key(|held| held.lock);
            result.dedup_by_key(|held| locks.get(held.lock).class);
            if entry.get(&callee) != Some(&Some(result.clone())) {
                entry.insert(callee, Some(result));
                changed = true;
            }
        }
    }
    entry
        .into_iter()
        .filter_map(|(function, held)| Some((function, held?)))
        .filter(|(_, held)| !held.is_empty())
        .collect()
}

/// A deferred run as the walker sees it, before it adds where it is.
struct Recorded {
    slot: Option<Slot>,
    kind: RunKind,
    runs: Vec<FunctionId>,
    span: Span,
    reason: Option<ReleaseReason>,
    origin: Span,
    held: Vec<HeldLock>,
}

struct Walker<'a> {
    program: &'a Program,
    contents: &'a SlotContents,
    locks: &'a LockOps,
    glue: &'a DropGlue,
    function: FunctionId,
    owner: FunctionId,
    /// Locks every caller holds.
    held_on_entry: &'a [HeldLock],
    runs: &'a mut Vec<DeferredRun>,
    /// When set, calls of program functions are recorded with the locks held.
    call_sites: Option<&'a mut Vec<CallSite>>,
    /// First pass: the calls of locals (func-typed parameters among them), with the locks
    /// held at each.
    param_calls: Option<&'a mut HeldAtCalls>,
    /// When set, exits with deferred code pending are recorded.
    exits: Option<&'a mut Vec<PendingExit>>,
    /// When set, `.await`s with guards held are recorded.
    suspensions: Option<&'a mut Vec<Suspension>>,
    /// When set, the places where `Drop` code runs are recorded.
    drop_places: Option<&'a mut HashMap<FunctionId, Vec<FunctionId>>>,
    /// Guards the function returns, by the call that creates them: from that call on, they
    /// are held (a pseudo slot each, numbered from [`RETURNED_SLOT_BASE`]).
    returned: Vec<(crate::model::facts::CallId, LockOpId)>,
    /// The first `exit`/`abort` call in each function's own code, when exits are recorded.
    exit_calls: Option<&'a HashMap<FunctionId, crate::model::facts::CallId>>,
    /// Locals (by arena owner) holding a library value whose drop writes outside the process,
    /// when exits are recorded.
    effect_drops: Option<&'a rustc_hash::FxHashSet<(FunctionId, crate::model::facts::LocalId)>>,
    /// When set, the lock classes held where code may panic are recorded.
    may_panic_under: Option<&'a mut HashSet<crate::graph::alias::ClassId>>,
    /// Which code may panic, when the lock classes held where it does are recorded.
    panics: Option<&'a Panics<'a>>,
}

/// How many calls deep a question "may this call panic" follows the program's functions.
const MAX_PANIC_DEPTH: u32 = 4;

/// Which code of the program may panic, found once per program: the functions whose own code
/// indexes (`v[i]`, `map[&k]`), asserts or panics, and, asked on demand and remembered, the
/// calls that may panic.
struct Panics<'a> {
    program: &'a Program,
    locks: &'a LockOps,
    own: HashSet<FunctionId>,
    memo: std::cell::RefCell<HashMap<FunctionId, bool>>,
}

impl<'a> Panics<'a> {
    fn new(program: &'a Program, locks: &'a LockOps) -> Panics<'a> {
        // One pass over each arena: a value belongs to the function (or closure) whose code
        // makes it.
        let mut own = HashSet::default();
        for owner in program.function_ids() {
            if program.function(owner).owner != owner {
                continue;
            }
            let body = program.body(owner);
            let file = program.function(owner).file;
            for (index, value) in body.values.iter().enumerate() {
                let panicky = match value {
                    Value::Index { .. } => true,
                    Value::Macro { name, .. } => {
                        name.contains("assert")
                            || matches!(&**name, "panic" | "todo" | "unimplemented" | "unreachable")
                    }
                    _ => false,
                };
                if panicky {
                    let made_by = body.value_fn(crate::model::facts::ValueId::from_index(index));
                    own.insert(program.function_id(file, made_by));
                }
            }
        }
        Panics {
            program,
            locks,
            own,
            memo: std::cell::RefCell::default(),
        }
    }

    /// Whether a call may panic: a function of the program that may (its own code indexes,
    /// asserts, panics, unwraps or calls something that may, within [`MAX_PANIC_DEPTH`]
    /// calls), `unwrap`/`expect` other than a lock's own, and methods of code not seen outside
    /// the short list of std methods that do not panic.
    fn call_may_panic(
        &self,
        function: FunctionId,
        call: crate::model::facts::CallId,
        target: CallTarget,
        depth: u32,
    ) -> bool {
        let (program, locks) = (self.program, self.locks);
        let owner = program.function(function).owner;
        match target {
            CallTarget::Function(callee) => self.function_may_panic(callee, depth + 1),
            CallTarget::Lib(LibCall::Unwrap | LibCall::Expect) => {
                !locks.in_function(function).iter().any(|&lock| {
                    let op = locks.get(lock);
                    op.owner == owner
                        && matches!(op.handling, super::locks::Handling::Unwrap(handler)
                            | super::locks::Handling::Expect(handler) if handler == call)
                })
            }
            CallTarget::Lib(_) | CallTarget::Construct(_) => false,
            CallTarget::Unknown => {
                let fact = program.body(owner).call(call);
                let name = match &fact.callee {
                    Callee::Method { name, .. } => &**name,
                    Callee::Path(path) => path.last(),
                    Callee::Dynamic(_) => return true,
                };
                !NON_PANICKING.contains(&name)
            }
        }
    }

    /// Whether a function of the program may panic; past the depth bound, or inside a cycle of
    /// calls, it is taken to. A closure it makes counts as its code (it runs where it is
    /// handed: `iter().map(|x| ..)`).
    fn function_may_panic(&self, function: FunctionId, depth: u32) -> bool {
        if let Some(&known) = self.memo.borrow().get(&function) {
            return known;
        }
        if depth > MAX_PANIC_DEPTH {
            return true;
        }
        // Taken to panic while it is being answered (a cycle), until the answer is known.
        self.memo.borrow_mut().insert(function, true);
        let program = self.program;
        let owner = program.function(function).owner;
        let panics = self.own.contains(&function)
            || program.own_calls(function).any(|(call, _)| {
                self.call_may_panic(function, call, program.call_target(owner, call), depth)
            })
            || {
                let file = program.function(owner).file;
                let fn_idx = program.function(function).fn_idx;
                program.body(owner).values.iter().any(|value| match value {
                    Value::Closure(closure) => {
                        let closure = program.function_id(file, *closure);
                        program.fact(closure).kind.parent() == Some(fn_idx)
                            && self.function_may_panic(closure, depth + 1)
                    }
                    _ => false,
                })
            };
        self.memo.borrow_mut().insert(function, panics);
        panics
    }
}

/// Methods and functions of std that do not panic (for the arguments such code passes): a
/// critical section made only of these cannot poison its lock.
const NON_PANICKING: &[&str] = &[
    "take",
    "replace",
    "is_some",
    "is_none",
    "is_ok",
    "is_err",
    "is_empty",
    "len",
    "get",
    "get_mut",
    "contains",
    "contains_key",
    "insert",
    "remove",
    "push",
    "push_back",
    "push_front",
    "pop",
    "pop_back",
    "pop_front",
    "clear",
    "retain",
    "entry",
    "or_insert",
    "or_default",
    "and_modify",
    "iter",
    "iter_mut",
    "values",
    "keys",
    "values_mut",
    "clone",
    "as_ref",
    "as_mut",
    "as_deref",
    "map",
    "cloned",
    "copied",
    "unwrap_or",
    "unwrap_or_default",
    "unwrap_or_else",
    "ok",
    "to_owned",
    "to_string",
    "into",
    "from",
    "Some",
    "Ok",
    "Err",
    "None",
    "new",
    "default",
    "drain",
    "extend",
    "swap",
    "mem_take",
    "first",
    "last",
    "set",
    "load",
    "store",
    "fetch_add",
    "fetch_sub",
    "notify_one",
    "notify_all",
    "send",
    "try_send",
    "wake",
    "wake_by_ref",
    "elapsed",
    "now",
    "min",
    "max",
    "saturating_sub",
    "saturating_add",
    "wrapping_add",
    "wrapping_sub",
    "checked_add",
    "checked_sub",
];

/// Pseudo slots for returned guards start here, far above any real temporary.
const RETURNED_SLOT_BASE: usize = u32::MAX as usize / 2;

impl<'a> Walker<'a> {
    fn new(
        program: &'a Program,
        contents: &'a SlotContents,
        locks: &'a LockOps,
        glue: &'a DropGlue,
        function: FunctionId,
        held_on_entry: &'a [HeldLock],
        runs: &'a mut Vec<DeferredRun>,
    ) -> Walker<'a> {
        let owner = program.function(function).owner;
        let returned = locks.returned_guards(function).to_vec();
        Walker {
            program,
            contents,
            locks,
            glue,
            function,
            owner,
            held_on_entry,
            runs,
            call_sites: None,
            param_calls: None,
            exits: None,
            suspensions: None,
            drop_places: None,
            may_panic_under: None,
            panics: None,
            returned,
            exit_calls: None,
            effect_drops: None,
        }
    }

    /// What a function owns when it starts: a `move` closure owns the values it captured, and
    /// any closure owns those its own code drops or moves away (Rust captures them by value).
    fn initial_state(&self) -> State {
        let mut state = State::new();
        let is_closure = self.program.fact(self.function).kind.parent().is_some();
        if !is_closure {
            return state;
        }
        let by_move = is_move_closure(self.program, self.function);
        let mut consumed: Vec<LocalId> = Vec::new();
        if !by_move {
            let mut events = Vec::new();
            crate::graph::calls::collect_events(
                &self.program.fact(self.function).nodes,
                &mut events,
            );
            for event in events {
                match event {
                    Event::Move { local, .. }
                    | Event::Release {
                        slot: Slot::Local(local),
                        reason: ReleaseReason::Explicit,
                        ..
                    } => consumed.push(*local),
                    _ => {}
                }
            }
        }
        for &local in &self.program.fact(self.function).captures {
            let slot = Slot::Local(local);
            if (by_move || consumed.contains(&local)) && self.content(slot).is_some() {
                state.insert(slot, SlotState::Owned);
            }
        }
        state
    }

    /// Notes that this function's code runs these `Drop` functions.
    fn note_drops(&mut self, runs: &[FunctionId]) {
        let function = self.function;
        if let Some(places) = self.drop_places.as_mut() {
            for &run in runs {
                let entry = places.entry(run).or_default();
                if !entry.contains(&function) {
                    entry.push(function);
                }
            }
        }
    }

    /// Records deferred code running with locks held.
    fn record(&mut self, run: Recorded) {
        // Deferred code of the program running under a lock (a `Drop` of a replaced value, a
        // defer body) may panic there.
        if let Some(set) = self.may_panic_under.as_mut() {
            set.extend(
                run.held
                    .iter()
                    .filter_map(|held| self.locks.get(held.lock).class),
            );
        }
        self.runs.push(DeferredRun {
            function: self.function,
            owner: self.owner,
            slot: run.slot,
            kind: run.kind,
            runs: run.runs,
            span: run.span,
            reason: run.reason,
            origin: run.origin,
            held: run.held,
        });
    }

    /// The returned guard a pseudo slot stands for.
    fn returned_guard(&self, slot: Slot) -> Option<(usize, LockOpId)> {
        let Slot::Temp(temp) = slot else { return None };
        let index = temp.index().checked_sub(RETURNED_SLOT_BASE)?;
        self.returned.get(index).map(|&(_, lock)| (index, lock))
    }

    /// Walks nodes from `state`; `None` afterwards means every path ended (returned).
    fn walk(&mut self, nodes: &[Node], state: &mut State) -> bool {
        for node in nodes {
            match node {
                Node::Event(event) => {
                    if !self.event(event, state) {
                        return false;
                    }
                    if self
                        .panics
                        .is_some_and(|panics| panics.own.contains(&self.function))
                        && matches!(event, Event::Call(_) | Event::Bind(_))
                    {
                        self.record_panic_point(state);
                    }
                }
                Node::Branch(arms) => {
                    let mut joined: Option<State> = None;
                    for arm in arms {
                        let mut arm_state = state.clone();
                        if self.walk(arm, &mut arm_state) {
                            joined = Some(match joined {
                                None => arm_state,
                                Some(previous) => join(&previous, &arm_state),
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
                    let mut body_state = state.clone();
                    if self.walk(body, &mut body_state) {
                        *state = join(state, &body_state);
                    }
                }
            }
        }
        true
    }

    fn content(&self, slot: Slot) -> Option<&Content> {
        self.contents.get(self.owner, slot)
    }

    /// A local holding a library value whose drop writes outside the process (a `BufWriter`
    /// flushes): an exit skips that too.
    fn drops_with_effect(&self, slot: Slot) -> bool {
        match slot {
            Slot::Local(local) => self
                .effect_drops
                .is_some_and(|drops| drops.contains(&(self.owner, local))),
            Slot::Temp(_) => false,
        }
    }

    fn held(&self, state: &State, except: Option<Slot>) -> Vec<HeldLock> {
        let mut held: Vec<HeldLock> = state
            .iter()
            .filter(|(slot, slot_state)| **slot_state == SlotState::Owned && Some(**slot) != except)
            .filter_map(|(slot, _)| {
                if let Some((index, lock)) = self.returned_guard(*slot) {
                    let call = self.returned[index].0;
                    return Some(HeldLock {
                        holder: Holder::Returned(self.program.body(self.owner).call(call).span),
                        lock,
                    });
                }
                match self.content(*slot) {
                    Some(Content::Guard(lock)) => Some(HeldLock {
                        holder: Holder::Slot(*slot),
                        lock: *lock,
                    }),
                    _ => None,
                }
            })
            .collect();
        held.extend(self.held_on_entry.iter().copied());
        held
    }

    /// Applies one event; false when the path ends.
    fn event(&mut self, event: &Event, state: &mut State) -> bool {
        match event {
            Event::Bind(slot) => {
                self.moved_into_pattern(*slot, state);
                if self.content(*slot).is_some() || self.drops_with_effect(*slot) {
                    self.awaited_future_dies(*slot, state);
                    state.insert(*slot, SlotState::Owned);
                }
            }
            Event::Release { slot, span, reason } => {
                let Some(current) = state.get(slot).copied() else {
                    return true;
                };
                state.insert(*slot, SlotState::Gone);
                if current == SlotState::Owned {
                    self.run_drop(*slot, *span, Some(*reason), state);
                }
            }
            Event::Move { local, .. } => {
                let slot = Slot::Local(*local);
                if state.get(&slot) == Some(&SlotState::Owned) {
                    state.insert(slot, SlotState::Gone);
                }
            }
            Event::Assign {
                target,
                value,
                span,
            } => self.assignment(*target, *value, *span, state),
            Event::Call(call) => {
                self.consumed_by_method(*call, state);
                if let Some(index) = self.returned.iter().position(|(made, _)| made == call) {
                    let slot = Slot::Temp(crate::model::facts::TempId::from_index(
                        RETURNED_SLOT_BASE + index,
                    ));
                    state.insert(slot, SlotState::Owned);
                }
                self.call(*call, state)
            }
            Event::Exit { .. } => {
                // A panicking macro (or a diverging call) with guards alive poisons them.
                if self.may_panic_under.is_some() {
                    self.record_panic_point(state);
                }
                return false;
            }
            Event::Suspend { span } => {
                if self.suspensions.is_some() {
                    let held: Vec<HeldLock> = self
                        .held(state, None)
                        .into_iter()
                        .filter(|held| !matches!(held.holder, Holder::Caller(_)))
                        .collect();
                    if !held.is_empty() {
                        let (function, owner) = (self.function, self.owner);
                        if let Some(suspensions) = self.suspensions.as_mut() {
                            suspensions.push(Suspension {
                                function,
                                owner,
                                span: *span,
                                held,
                            });
                        }
                    }
                }
            }
            Event::Closure(closure) => {
                // A `move` closure takes what it captures: the creator no longer drops it.
                let closure = self
                    .program
                    .function_id(self.program.function(self.owner).file, *closure);
                // A closure that exits (`unwrap_or_else(|e| { ..; process::exit(2) })`) runs
                // while what its creator holds is alive.
                if self.exits.is_some() {
                    if let Some(exit) = self.exit_call_in(closure) {
                        self.exit(exit, CallTarget::Lib(LibCall::Exit), state);
                    }
                }
                if is_move_closure(self.program, closure) {
                    for &local in &self.program.fact(closure).captures {
                        let slot = Slot::Local(local);
                        if state.get(&slot) == Some(&SlotState::Owned) {
                            state.insert(slot, SlotState::Gone);
                        }
                    }
                }
            }
            Event::Read { .. } | Event::NonNil { .. } | Event::Output { .. } => {}
        }
        true
    }

    fn run_drop(&mut self, slot: Slot, span: Span, reason: Option<ReleaseReason>, state: &State) {
        // `self` taken by value and dying at the end of its own type's method: such methods
        // (`forget`, `into_inner`, `disarm`) prepare the value so that its `Drop` does nothing.
        if let Slot::Local(local) = slot {
            let fact = self.program.body(self.owner).local(local);
            if &*fact.name == "self" && fact.origin == crate::model::facts::LocalOrigin::Param {
                return;
            }
        }
        let (kind, runs, origin) = match self.content(slot) {
            Some(Content::Defer(site)) => (RunKind::DeferGuard(*site), Vec::new(), Span::default()),
            Some(Content::Owned {
                drops,
                origin,
                may_be_last_owner,
            }) => (
                RunKind::Drop {
                    may_be_last_owner: *may_be_last_owner,
                },
                drops.clone(),
                *origin,
            ),
            _ => return,
        };
        self.note_drops(&runs);
        let held = self.held(state, Some(slot));
        if held.is_empty() {
            return;
        }
        self.record(Recorded {
            slot: Some(slot),
            kind,
            runs,
            span,
            reason,
            origin,
            held,
        });
    }

    /// `x = value` drops the old value of `x`; `*guard = HashMap::new()` drops every value of
    /// the map.
    fn assignment(
        &mut self,
        target: crate::model::facts::ValueId,
        value: crate::model::facts::ValueId,
        span: Span,
        state: &mut State,
    ) {
        let body = self.program.body(self.owner);
        if let Value::Local(local) = body.value(target) {
            let slot = Slot::Local(*local);
            if state.get(&slot) == Some(&SlotState::Owned) {
                self.run_drop(slot, span, Some(ReleaseReason::Overwritten), state);
            }
            // The local owns a value of the same kind again (`g = condvar.wait(g)?`), unless
            // it is emptied (`current = None`).
            if self.content(slot).is_some() {
                let emptied =
                    matches!(body.value(value), Value::Path(path) if path.last() == "None");
                state.insert(
                    slot,
                    if emptied {
                        SlotState::Gone
                    } else {
                        SlotState::Owned
                    },
                );
            }
            return;
        }
        let ty = self.program.value_ty(self.owner, target);
        if let Some(value_ty) = self.program.types.container_values(ty) {
            self.map_values_dropped(value_ty, span, span, state, None);
            return;
        }
        // `*slot = next`, `device.handle = Some(handle)`: the old value of the place dies here.
        let runs = self
            .glue
            .glue_inside(self.program, ty, false, self.owner, false);
        if runs.is_empty() {
            return;
        }
        self.note_drops(&runs);
        let held = self.held(state, None);
        if held.is_empty() {
            return;
        }
        self.record(Recorded {
            slot: None,
            kind: RunKind::Drop {
                may_be_last_owner: false,
            },
            runs,
            span,
            reason: Some(ReleaseReason::Overwritten),
            origin: span,
            held,
        });
    }

    /// Whether a call may panic: code of the program or not seen at all, `unwrap`/`expect`,
    /// and methods outside the short list of std methods that do not panic. Unwrapping a
    /// lock's own result is not inside its critical section.
    fn may_panic(&self, call: crate::model::facts::CallId, target: CallTarget) -> bool {
        self.panics
            .is_some_and(|panics| panics.call_may_panic(self.function, call, target, 0))
    }

    /// Notes the locks held here as ones a panic may poison.
    fn record_panic_point(&mut self, state: &State) {
        let classes: Vec<crate::graph::alias::ClassId> = self
            .held(state, None)
            .into_iter()
            .filter_map(|held| self.locks.get(held.lock).class)
            .collect();
        if let Some(set) = self.may_panic_under.as_mut() {
            set.extend(classes);
        }
    }

    /// The locks the function's own guards hold here (not what its callers hold).
    fn own_guards_held(&self, state: &State) -> Vec<HeldLock> {
        self.held(state, None)
            .into_iter()
            .filter(|held| matches!(held.holder, Holder::Slot(_)))
            .filter(|held| self.locks.get(held.lock).class.is_some())
            .collect()
    }

    fn call(&mut self, call: crate::model::facts::CallId, state: &State) {
        let target = self.program.call_target(self.owner, call);
        if self.param_calls.is_some()
            && matches!(
                &self.program.body(self.owner).call(call).callee,
                Callee::Dynamic(callee) if matches!(self.program.body(self.owner).value(*callee), Value::Local(_))
            )
        {
            let held = self.own_guards_held(state);
            let function = self.function;
            if let Some(sites) = self.param_calls.as_mut() {
                sites.insert((function, call), held);
            }
        }
        if let (CallTarget::Function(callee), Some(_)) = (target, self.call_sites.as_ref()) {
            // Only the function's own guards: what its callers hold is added by the fixpoint.
            let held = self.own_guards_held(state);
            let caller = self.function;
            if let Some(sites) = self.call_sites.as_mut() {
                sites.push(CallSite {
                    caller,
                    callee,
                    held,
                });
            }
            return;
        }
        if self.call_sites.is_some() {
            return;
        }
        if self.panics.is_some()
            && !self.held(state, None).is_empty()
            && self.may_panic(call, target)
        {
            self.record_panic_point(state);
        }
        if self.exits.is_some() {
            self.exit(call, target, state);
        }
        let drops_values = matches!(
            target,
            CallTarget::Lib(
                LibCall::Map {
                    kind: MapOpKind::WriteDroppingValues,
                    ..
                } | LibCall::Seq {
                    kind: MapOpKind::WriteDroppingValues
                }
            )
        );
        if !drops_values {
            self.drained_into_drop(call, state);
            return;
        }
        let body = self.program.body(self.owner);
        let fact = body.call(call);
        let Callee::Method { receiver, .. } = &fact.callee else {
            return;
        };
        let ty = self.program.value_ty(self.owner, *receiver);
        // A sharded map's `retain`/`clear` drops the values while it holds their shard's lock.
        let within = self
            .locks
            .in_function(self.function)
            .iter()
            .copied()
            .find(|&lock| {
                let op = self.locks.get(lock);
                op.owner == self.owner && op.call == call && !op.holds_guard
            });
        if let Some(value_ty) = self.program.types.container_values(ty) {
            self.map_values_dropped(value_ty, fact.tail_span, fact.span, state, within);
        }
    }

    /// `cell.borrow_mut().drain().for_each(drop)`: every drained value dies in the call.
    fn drained_into_drop(&mut self, call: crate::model::facts::CallId, state: &State) {
        let body = self.program.body(self.owner);
        let fact = body.call(call);
        let Callee::Method { receiver, name, .. } = &fact.callee else {
            return;
        };
        let drops = fact.args.first().is_some_and(
            |&arg| matches!(body.value(arg), Value::Path(path) if path.last() == "drop"),
        );
        if &**name != "for_each" || !drops {
            return;
        }
        let Value::Call(source) = body.value(*receiver) else {
            return;
        };
        let drained = matches!(
            self.program.call_target(self.owner, *source),
            CallTarget::Lib(
                LibCall::Map {
                    kind: MapOpKind::Drain,
                    ..
                } | LibCall::Seq {
                    kind: MapOpKind::Drain
                }
            )
        );
        let Callee::Method {
            receiver: container,
            ..
        } = &body.call(*source).callee
        else {
            return;
        };
        if !drained {
            return;
        }
        let ty = self.program.value_ty(self.owner, *container);
        if let Some(value_ty) = self.program.types.container_values(ty) {
            self.map_values_dropped(value_ty, fact.tail_span, fact.span, state, None);
        }
    }

    /// `Some(r)` / `Occupied(e)` binding by value out of a local that holds a guard (`if let
    /// Some(r) = found`, `match entry { .. }`): the guard moves into the binding, which dies
    /// with its arm; the local no longer holds it.
    fn moved_into_pattern(&mut self, slot: Slot, state: &mut State) {
        let Slot::Local(local) = slot else { return };
        let body = self.program.body(self.owner);
        let fact = body.local(local);
        if fact.origin != crate::model::facts::LocalOrigin::Pattern || fact.by_ref {
            return;
        }
        // `Some(r)`, `Ok(r)`, or a tuple-struct or tuple position (`Entry::Occupied(e)`).
        let of = match fact.init.map(|init| body.value(init)) {
            Some(Value::Payload { of, .. }) => *of,
            Some(Value::Field { base, name }) if name.bytes().all(|byte| byte.is_ascii_digit()) => {
                *base
            }
            _ => return,
        };
        let source = match body.value(of) {
            Value::Local(source) => Slot::Local(*source),
            // A temporary scrutinee (`match map.entry(k) {`), when the binding takes its guard.
            _ if !matches!(self.content(slot), Some(Content::Guard(_))) => return,
            _ => match body.temps.iter().position(|temp| temp.value == of) {
                Some(index) => Slot::Temp(crate::model::facts::TempId::from_index(index)),
                None => return,
            },
        };
        if state.get(&source) == Some(&SlotState::Owned)
            && matches!(self.content(source), Some(Content::Guard(_)))
        {
            state.insert(source, SlotState::Gone);
        }
    }

    /// A method that takes a sharded map's entry by value (`entry.or_insert(0)`,
    /// `entry.and_modify(..)`): the entry local no longer holds the shard; what the call
    /// returns does, if anything keeps it.
    fn consumed_by_method(&mut self, call: crate::model::facts::CallId, state: &mut State) {
        let body = self.program.body(self.owner);
        let Callee::Method { receiver, name, .. } = &body.call(call).callee else {
            return;
        };
        if &**name == "key" {
            return;
        }
        let Value::Local(local) = body.value(*receiver) else {
            return;
        };
        let slot = Slot::Local(*local);
        if state.get(&slot) != Some(&SlotState::Owned) {
            return;
        }
        // `guard.take()`: the `Option` keeps `None`, the value moves out with the result.
        if &**name == "take" && body.call(call).args.is_empty() {
            state.insert(slot, SlotState::Gone);
            return;
        }
        let Some(Content::Guard(lock)) = self.content(slot) else {
            return;
        };
        if is_entry(self.program, self.locks, *lock) {
            state.insert(slot, SlotState::Gone);
        }
    }

    /// `let r = future.await;` where `r` is a guard the future's `poll` returned: the future
    /// is dropped as the `.await` completes, while its output is alive. When the future's type
    /// has `Drop` code, that code runs with the output's guard held.
    fn awaited_future_dies(&mut self, slot: Slot, state: &State) {
        if self.call_sites.is_some() {
            return;
        }
        let Some(Content::Guard(lock)) = self.content(slot).cloned() else {
            return;
        };
        let body = self.program.body(self.owner);
        let value = match slot {
            Slot::Local(local) => body.local(local).init,
            Slot::Temp(temp) => Some(body.temps[temp.index()].value),
        };
        let Some(Value::Await(future)) = value.map(|value| body.value(value)) else {
            return;
        };
        let future = *future;
        let future_ty = self.program.value_ty(self.owner, future);
        // A finished `async fn` future owns nothing: its locals died before it returned.
        if matches!(
            self.program.types.kind(future_ty),
            crate::model::types::TyKind::AsyncCall(_)
        ) {
            return;
        }
        let runs = self.glue.glue(self.program, future_ty, true);
        if runs.is_empty() {
            return;
        }
        let mut held = self.held(state, None);
        held.push(HeldLock {
            holder: Holder::Slot(slot),
            lock,
        });
        let span = match slot {
            Slot::Local(local) => body.local(local).span,
            Slot::Temp(temp) => body.temps[temp.index()].span,
        };
        self.record(Recorded {
            slot: None,
            kind: RunKind::AwaitedFuture,
            runs,
            span,
            reason: None,
            origin: origin_of(body, future),
            held,
        });
    }

    /// Records an exit (or a call of a function that never returns and exits) with defer
    /// guards or values with `Drop` code still owned.
    fn exit(&mut self, call: crate::model::facts::CallId, target: CallTarget, state: &State) {
        let helper = match target {
            CallTarget::Lib(LibCall::Exit) => None,
            CallTarget::Function(callee) if self.exits_always(callee) => Some(callee),
            _ => return,
        };
        let pending: Vec<Slot> = state
            .iter()
            .filter(|(slot, slot_state)| {
                **slot_state == SlotState::Owned
                    && (matches!(
                        self.content(**slot),
                        Some(Content::Defer(_) | Content::Owned { .. })
                    ) || self.drops_with_effect(**slot))
            })
            .map(|(slot, _)| *slot)
            .collect();
        if pending.is_empty() {
            return;
        }
        let span = self.program.body(self.owner).call(call).span;
        let (function, owner) = (self.function, self.owner);
        if let Some(exits) = self.exits.as_mut() {
            exits.push(PendingExit {
                function,
                owner,
                span,
                helper,
                pending,
            });
        }
    }

    /// The `exit`/`abort` call a closure's own code makes, if any.
    fn exit_call_in(&self, closure: FunctionId) -> Option<crate::model::facts::CallId> {
        self.exit_calls?.get(&closure).copied()
    }

    /// A program function declared to return `!` that calls `std::process::exit` or `abort`
    /// itself.
    fn exits_always(&self, function: FunctionId) -> bool {
        let program = self.program;
        if !matches!(
            program.types.kind(program.function(function).ret_ty),
            crate::model::types::TyKind::Never
        ) {
            return false;
        }
        self.exit_calls
            .is_some_and(|calls| calls.contains_key(&function))
    }

    fn map_values_dropped(
        &mut self,
        value_ty: crate::model::types::TyId,
        span: Span,
        origin: Span,
        state: &State,
        within: Option<LockOpId>,
    ) {
        let runs = self
            .glue
            .glue_inside(self.program, value_ty, true, self.owner, false);
        if runs.is_empty() {
            return;
        }
        self.note_drops(&runs);
        let mut held = self.held(state, None);
        if let Some(lock) = within {
            held.push(HeldLock {
                holder: Holder::Within(origin),
                lock,
            });
        }
        if held.is_empty() {
            return;
        }
        self.record(Recorded {
            slot: None,
            kind: RunKind::MapValuesDropped,
            runs,
            span,
            reason: None,
            origin,
            held,
        });
    }
}

/// The first `exit`/`abort` call in each function's own code.
/// The locals of every arena that hold a library value whose drop writes outside the process
/// (a `BufWriter`, a `tempfile` file), found once per program.
fn effect_drops(
    program: &Program,
) -> rustc_hash::FxHashSet<(FunctionId, crate::model::facts::LocalId)> {
    let mut drops = rustc_hash::FxHashSet::default();
    for owner in program.function_ids() {
        if program.function(owner).owner != owner {
            continue;
        }
        for index in 0..program.body(owner).locals.len() {
            let local = crate::model::facts::LocalId::from_index(index);
            if crate::analysis::effects::rust_drop_effect(program, owner, local).is_some() {
                drops.insert((owner, local));
            }
        }
    }
    drops
}

fn exit_calls(program: &Program) -> HashMap<FunctionId, crate::model::facts::CallId> {
    let mut found = HashMap::default();
    for owner in program.function_ids() {
        if program.function(owner).owner != owner {
            continue;
        }
        let file = program.function(owner).file;
        for (position, call) in program.body(owner).calls.iter().enumerate() {
            let id = crate::model::facts::CallId::from_index(position);
            if program.call_target(owner, id) == CallTarget::Lib(LibCall::Exit) {
                found
                    .entry(program.function_id(file, call.function))
                    .or_insert(id);
            }
        }
    }
    found
}

/// A closure or async block declared `move`.
fn is_move_closure(program: &Program, function: FunctionId) -> bool {
    matches!(
        program.fact(function).kind,
        FnKind::Closure { is_move: true, .. } | FnKind::AsyncBlock { is_move: true, .. }
    )
}

/// A sharded map's `entry(..)`: an `Entry` whose methods take it by value.
pub fn is_entry(program: &Program, locks: &LockOps, lock: LockOpId) -> bool {
    let op = locks.get(lock);
    op.flavor == crate::model::types::LockFlavor::Shard
        && matches!(
            &program.body(op.owner).call(op.call).callee,
            Callee::Method { name, .. } if matches!(&**name, "entry" | "try_entry")
        )
}

/// Where a value was made, for labels.
fn origin_of(body: &crate::model::facts::Body, value: crate::model::facts::ValueId) -> Span {
    match body.value(value) {
        Value::Call(call) => body.call(*call).span,
        Value::Struct { span, .. } => *span,
        _ => Span::default(),
    }
}

fn join(a: &State, b: &State) -> State {
    let mut joined = State::new();
    for (slot, state) in a {
        let other = b.get(slot).copied().unwrap_or(SlotState::Gone);
        joined.insert(
            *slot,
            if *state == other {
                *state
            } else {
                SlotState::Maybe
            },
        );
    }
    for (slot, state) in b {
        if !a.contains_key(slot) {
            joined.insert(
                *slot,
                if *state == SlotState::Gone {
                    SlotState::Gone
                } else {
                    SlotState::Maybe
                },
            );
        }
    }
    joined
}
