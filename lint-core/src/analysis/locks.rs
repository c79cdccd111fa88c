//! Lock acquisitions: which object is locked, in which mode, with which flavor, and how the
//! result is handled (`unwrap`, `expect`, recovered from poisoning, checked, propagated).

use rustc_hash::FxHashMap as HashMap;

use super::index::{BodyIndex, Consumer};
use crate::graph::alias::{Aliases, ClassId, LockClasses};
use crate::model::facts::{CallId, Callee, Event, FnKind, Node, Value, ValueId};
use crate::model::modules::FunctionId;
use crate::model::types::{LockFlavor, MapFlavor};
use crate::model::{CallTarget, LibCall, LockAttempt, LockMode, MapOpKind, Program};
use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LockOpId(pub u32);

/// What happens to a lock call's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handling {
    /// Used as the guard itself (parking_lot, spin, an awaited async lock).
    Direct,
    /// `.unwrap()`: the call holding it.
    Unwrap(CallId),
    /// `.expect(..)`: the call holding it.
    Expect(CallId),
    /// `.unwrap_or_else(PoisonError::into_inner)` and the like.
    Recovered,
    /// Matched (`if let Ok(g)`, `match`), or inspected (`is_ok()`, `.ok()`).
    Checked,
    /// `?`.
    Propagated,
    /// `.await`.
    Awaited,
}

/// One lock acquisition.
#[derive(Clone, Debug)]
pub struct LockOp {
    /// The function (closure, block) whose code makes the call.
    pub function: FunctionId,
    /// The owner of the arena the call lives in.
    pub owner: FunctionId,
    pub call: CallId,
    pub receiver: ValueId,
    /// The receiver's unification class (what the rules compare objects by).
    pub class: Option<ClassId>,
    /// Which lock it is, for the locks held (Go: by the points-to analysis; see
    /// [`LockClasses`]).
    pub lock_class: Option<ClassId>,
    pub mode: LockMode,
    pub attempt: LockAttempt,
    pub flavor: LockFlavor,
    pub handling: Handling,
    /// A panic while the lock is held poisons it (std's locks).
    pub poisons: bool,
    /// The call returns a guard that holds the lock. A sharded map's own methods (`insert`,
    /// `remove`, `contains_key`) lock their shard only while they run.
    pub holds_guard: bool,
    /// `receiver.lock()`.
    pub span: Span,
    /// From the method name to the end of the handling call (`lock().unwrap()`).
    pub tail_span: Span,
}

impl LockOp {
    /// Waits for the lock when it is taken (not a `try_` form).
    pub fn blocks(&self) -> bool {
        self.attempt != LockAttempt::Try
    }
}

/// What a lock expression locks (see [`LockClasses`]).
pub struct LockIdentity<'a> {
    pub program: &'a Program,
    pub aliases: &'a Aliases,
    pub points_to: &'a crate::graph::points_to::PointsTo,
    pub classes: &'a LockClasses,
}

impl LockIdentity<'_> {
    pub fn class_of(&self, function: FunctionId, value: ValueId) -> Option<ClassId> {
        self.classes
            .class_of(self.program, self.aliases, self.points_to, function, value)
    }
}

/// The receivers of every lock and unlock call of a program, for [`LockClasses::compute`].
pub fn lock_receivers(program: &Program) -> Vec<(FunctionId, ValueId)> {
    let mut out = Vec::new();
    for owner in program.function_ids() {
        if program.function(owner).owner != owner {
            continue;
        }
        let body = program.body(owner);
        for (index, call) in body.calls.iter().enumerate() {
            let target = program.call_target(owner, CallId::from_index(index));
            if matches!(
                target,
                CallTarget::Lib(LibCall::Lock { .. } | LibCall::Unlock { .. })
            ) {
                if let Callee::Method { receiver, .. } = &call.callee {
                    out.push((owner, *receiver));
                }
            }
        }
    }
    out
}

/// Every lock acquisition of the program.
#[derive(Debug, Default)]
pub struct LockOps {
    pub ops: Vec<LockOp>,
    by_call: HashMap<(FunctionId, CallId), LockOpId>,
    by_function: HashMap<FunctionId, Vec<LockOpId>>,
    /// Functions that return a guard they take themselves (`fn state(&self) ->
    /// MutexGuard<State> { self.state.lock().unwrap() }`, a `poll` returning
    /// `Poll::Ready(map.get(&k))`): a call of one is that acquisition, held by the caller.
    returning: HashMap<FunctionId, LockOpId>,
    /// Every guard each function returns straight from a lock call, with the call that makes
    /// it (functions that return none are left out).
    returned: HashMap<FunctionId, Vec<(CallId, LockOpId)>>,
}

impl LockOps {
    pub fn compute(
        program: &Program,
        identity: &LockIdentity<'_>,
        indexes: &[BodyIndex],
    ) -> LockOps {
        let mut ops = LockOps::default();
        for owner in program.function_ids() {
            if program.function(owner).owner != owner {
                continue;
            }
            let body = program.body(owner);
            let types = program.body_types(owner);
            let index = &indexes[program.function(owner).body.0 as usize];
            let file = program.function(owner).file;
            for (position, call) in body.calls.iter().enumerate() {
                let call_id = CallId::from_index(position);
                let (mode, attempt, flavor) = match types.call_target[position] {
                    CallTarget::Lib(LibCall::Lock {
                        mode,
                        attempt,
                        flavor,
                    }) => (mode, attempt, flavor),
                    CallTarget::Lib(LibCall::Map {
                        kind,
                        flavor: MapFlavor::Sharded,
                    }) => {
                        // The call locks its shard while it runs, and holds nothing after.
                        let Callee::Method { receiver, .. } = &call.callee else {
                            continue;
                        };
                        let mode = if kind == MapOpKind::Read {
                            LockMode::Read
                        } else {
                            LockMode::Write
                        };
                        let function = program.function_id(file, call.function);
                        ops.push_transient(LockOp {
                            function,
                            owner,
                            call: call_id,
                            receiver: *receiver,
                            class: identity.aliases.class_of(program, owner, *receiver),
                            lock_class: identity.class_of(owner, *receiver),
                            mode,
                            attempt: LockAttempt::Blocking,
                            flavor: LockFlavor::Shard,
                            handling: Handling::Direct,
                            poisons: false,
                            holds_guard: false,
                            span: call.span,
                            tail_span: call.tail_span,
                        });
                        continue;
                    }
                    _ => continue,
                };
                let receiver = match &call.callee {
                    Callee::Method { receiver, .. } => *receiver,
                    Callee::Path(_) => match call.args.first() {
                        Some(&first) => first,
                        None => continue,
                    },
                    Callee::Dynamic(_) => continue,
                };
                let Some(value) = index.call_value[position] else {
                    continue;
                };
                // Only a `LockResult` (std's, or a lock of unknown origin) or a `try_` result
                // needs handling; parking_lot's and spin's `lock()` return the guard itself.
                let returns_result = matches!(flavor, LockFlavor::Std | LockFlavor::Unknown)
                    || attempt == LockAttempt::Try;
                let (handling, handling_call) = if returns_result {
                    handling_of(program, owner, index, value)
                } else if flavor.is_async() && attempt == LockAttempt::Blocking {
                    (Handling::Awaited, None)
                } else {
                    (Handling::Direct, None)
                };
                let via_result = matches!(
                    handling,
                    Handling::Unwrap(_)
                        | Handling::Expect(_)
                        | Handling::Recovered
                        | Handling::Checked
                        | Handling::Propagated
                );
                // Go's `Lock` is only classified on a `sync` lock or a struct embedding one.
                let receiver_is_lock = flavor == LockFlavor::Go
                    || (flavor == LockFlavor::Unknown
                        && program.language == crate::source::Language::Go)
                    || flavor.is_borrow()
                    || program
                        .types
                        .lock(types.value_ty[receiver.index()])
                        .is_some();
                // A `lock()` on something of unknown type is a lock only if its result is a
                // `LockResult` (it is unwrapped, matched or propagated).
                if !receiver_is_lock && !via_result {
                    continue;
                }
                let poisons = flavor == LockFlavor::Std
                    || (flavor == LockFlavor::Unknown && via_result && !receiver_is_lock);
                let tail_span = match handling_call {
                    Some(handler) => call.tail_span.to(body.calls[handler.index()].tail_span),
                    None => call.tail_span,
                };
                let id = LockOpId(ops.ops.len() as u32);
                let function = program.function_id(file, call.function);
                ops.ops.push(LockOp {
                    function,
                    owner,
                    call: call_id,
                    receiver,
                    class: identity.aliases.class_of(program, owner, receiver),
                    lock_class: identity.class_of(owner, receiver),
                    mode,
                    attempt,
                    flavor,
                    handling,
                    poisons,
                    holds_guard: true,
                    span: call.span,
                    tail_span,
                });
                ops.by_call.insert((owner, call_id), id);
                ops.by_function.entry(function).or_default().push(id);
            }
        }
        if program.language == crate::source::Language::Rust {
            let mut call_counts: Option<HashMap<FunctionId, usize>> = None;
            // Rounds: a function returning what a guard-returning helper returns is found in
            // the round after the helper.
            let mut pending: Vec<FunctionId> = program.function_ids().collect();
            for _ in 0..4 {
                let before = ops.returning.len();
                pending.retain(|function| !ops.returning.contains_key(function));
                for &function in &pending {
                    let returned = ops.find_returned_guards(program, function);
                    if returned.is_empty() {
                        continue;
                    }
                    let lock = returned[0].1;
                    ops.returned.insert(function, returned);
                    // A helper that locks what it is handed (`fn lock<T>(m: &Mutex<T>)`) and is
                    // called from several places may be handed different locks, which the alias
                    // classes merge: its guard is followed into its callers only when it has one.
                    if locks_a_parameter(program, ops.get(lock)) {
                        let counts = call_counts.get_or_insert_with(|| calls_per_function(program));
                        if counts.get(&function).copied().unwrap_or(0) > 1 {
                            continue;
                        }
                    }
                    ops.returning.insert(function, lock);
                }
                if ops.returning.len() == before {
                    break;
                }
            }
        }
        ops
    }

    /// The acquisition whose guard a function returns, if it returns one it takes itself.
    pub fn guard_returned_by(&self, function: FunctionId) -> Option<LockOpId> {
        self.returning.get(&function).copied()
    }

    /// The guards a function returns straight from a lock call, with the call that makes each.
    pub fn returned_guards(&self, function: FunctionId) -> &[(CallId, LockOpId)] {
        self.returned
            .get(&function)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The guards a function returns straight from a lock call (`map.get(&k)`,
    /// `m.lock().unwrap()`, `cell.borrow_mut()` as its tail or `return` value, possibly
    /// wrapped in `Some(..)`, `Ok(..)` or `Poll::Ready(..)`), with the call that makes each.
    fn find_returned_guards(
        &self,
        program: &Program,
        function: FunctionId,
    ) -> Vec<(CallId, LockOpId)> {
        let owner = program.function(function).owner;
        let body = program.body(owner);
        let mut found = Vec::new();
        for &value in &program.fact(function).returns {
            let mut current = value;
            for _ in 0..12 {
                match body.value(current) {
                    Value::Call(call) => {
                        if let Some(lock) = self.at(owner, *call) {
                            let op = self.get(lock);
                            if op.attempt != LockAttempt::Try
                                && matches!(
                                    op.handling,
                                    Handling::Direct
                                        | Handling::Unwrap(_)
                                        | Handling::Expect(_)
                                        | Handling::Checked
                                        | Handling::Recovered
                                        | Handling::Propagated
                                )
                            {
                                found.push((*call, lock));
                            }
                            break;
                        }
                        let fact = body.call(*call);
                        // A helper of the program that returns a guard (`fn entry(&self) ->
                        // Ref<..> { self.lookup() }`).
                        if let CallTarget::Function(callee) = program.call_target(owner, *call)
                            && let Some(&lock) = self.returning.get(&callee)
                        {
                            found.push((*call, lock));
                            break;
                        }
                        match (program.call_target(owner, *call), &fact.callee) {
                            (
                                CallTarget::Lib(
                                    LibCall::Unwrap | LibCall::Expect | LibCall::UnwrapOr,
                                ),
                                Callee::Method { receiver, .. },
                            ) => current = *receiver,
                            // `m.lock().map_err(..)`, `map.get(&k).ok_or(e)`.
                            (_, Callee::Method { receiver, name, .. })
                                if matches!(
                                    &**name,
                                    "map_err"
                                        | "ok_or"
                                        | "ok_or_else"
                                        | "ok"
                                        | "context"
                                        | "with_context"
                                ) =>
                            {
                                current = *receiver;
                            }
                            // `Some(guard)`, `Ok(guard)`, `Poll::Ready(guard)`.
                            (_, Callee::Path(path))
                                if fact.args.len() == 1
                                    && matches!(path.last(), "Some" | "Ok" | "Ready") =>
                            {
                                current = fact.args[0];
                            }
                            _ => break,
                        }
                    }
                    Value::Try(inner) | Value::Payload { of: inner, .. } => current = *inner,
                    // `match x { Some(v) => v, None => unreachable!() }`: the one arm that
                    // gives a value.
                    Value::Either(arms) => {
                        let mut giving = arms.iter().filter(|&&arm| {
                            !matches!(body.value(arm), Value::Macro { .. } | Value::Unknown)
                        });
                        match (giving.next(), giving.next()) {
                            (Some(&arm), None) => current = arm,
                            _ => break,
                        }
                    }
                    // `(guard, ()).0`, `Holder { inner: guard }.inner`: the value given there.
                    Value::Field { base, name } => match body.literal_field(*base, name) {
                        Some(given) => current = given,
                        None => break,
                    },
                    // `let hit = map.get(&k)?; .. Some(hit)`: the guard bound to a local.
                    Value::Local(local) => match body.local(*local).init {
                        Some(init) => current = init,
                        None => break,
                    },
                    _ => break,
                }
            }
        }
        found
    }

    /// An acquisition that leaves no guard: found by function, not by call.
    fn push_transient(&mut self, op: LockOp) {
        let id = LockOpId(self.ops.len() as u32);
        self.by_function.entry(op.function).or_default().push(id);
        self.ops.push(op);
    }

    pub fn get(&self, id: LockOpId) -> &LockOp {
        &self.ops[id.0 as usize]
    }

    /// The lock acquisition a call makes, by the owner of its arena.
    pub fn at(&self, owner: FunctionId, call: CallId) -> Option<LockOpId> {
        self.by_call.get(&(owner, call)).copied()
    }

    /// The lock acquisitions in a function's own code.
    pub fn in_function(&self, function: FunctionId) -> &[LockOpId] {
        self.by_function
            .get(&function)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// How many calls in the program name each function of the program.
fn calls_per_function(program: &Program) -> HashMap<FunctionId, usize> {
    let mut counts = HashMap::default();
    for owner in program.function_ids() {
        if program.function(owner).owner != owner {
            continue;
        }
        for position in 0..program.body(owner).calls.len() {
            if let CallTarget::Function(callee) =
                program.call_target(owner, CallId::from_index(position))
            {
                *counts.entry(callee).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// The lock is reached from a parameter of its function other than `self`.
fn locks_a_parameter(program: &Program, op: &LockOp) -> bool {
    let body = program.body(op.owner);
    match body.value(super::go_state::root_object(body, op.receiver)) {
        Value::Local(local) => {
            let fact = body.local(*local);
            fact.origin == crate::model::facts::LocalOrigin::Param && &*fact.name != "self"
        }
        _ => false,
    }
}

/// How a lock call's result value is handled, and the call that handles it.
fn handling_of(
    program: &Program,
    owner: FunctionId,
    index: &BodyIndex,
    value: ValueId,
) -> (Handling, Option<CallId>) {
    let body = program.body(owner);
    for consumer in &index.consumers[value.index()] {
        match consumer {
            Consumer::Receiver(call) => {
                let name = match &body.call(*call).callee {
                    Callee::Method { name, .. } => &**name,
                    _ => "",
                };
                match name {
                    "unwrap" => return (Handling::Unwrap(*call), Some(*call)),
                    "expect" => return (Handling::Expect(*call), Some(*call)),
                    "unwrap_or_else" | "unwrap_or" => {
                        let recovered = body
                            .call(*call)
                            .args
                            .first()
                            .is_some_and(|&arg| recovers_poison(program, owner, arg));
                        return (
                            if recovered {
                                Handling::Recovered
                            } else {
                                Handling::Checked
                            },
                            Some(*call),
                        );
                    }
                    "ok" | "err" | "is_ok" | "is_err" | "map" | "map_err" | "and_then"
                    | "or_else" | "unwrap_or_default" | "unwrap_err" | "expect_err"
                    | "inspect_err" | "is_ok_and" | "is_err_and" => {
                        return (Handling::Checked, Some(*call));
                    }
                    // A guard method reached through auto-deref: the result is the guard.
                    _ => return (Handling::Direct, None),
                }
            }
            Consumer::Try(_) => return (Handling::Propagated, None),
            Consumer::Payload(..) => return (Handling::Checked, None),
            Consumer::Await(_) => return (Handling::Awaited, None),
            Consumer::Init(local) => {
                // `let result = m.lock();` then `result.unwrap()`: follow the local.
                for &use_value in &index.local_uses[local.index()] {
                    let handled = index.consumers[use_value.index()].iter().any(|consumer| {
                        matches!(
                            consumer,
                            Consumer::Receiver(_) | Consumer::Try(_) | Consumer::Payload(..)
                        )
                    });
                    if handled {
                        return handling_of(program, owner, index, use_value);
                    }
                }
            }
            _ => {}
        }
    }
    (Handling::Direct, None)
}

/// `PoisonError::into_inner`, or a closure that calls `into_inner`.
fn recovers_poison(program: &Program, owner: FunctionId, value: ValueId) -> bool {
    let body = program.body(owner);
    match body.value(value) {
        Value::Path(path) => path.last() == "into_inner",
        Value::Closure(closure) => {
            let closure = program.function_id(program.function(owner).file, *closure);
            let fact = program.fact(closure);
            debug_assert!(matches!(
                fact.kind,
                FnKind::Closure { .. } | FnKind::AsyncBlock { .. }
            ));
            calls_named(&fact.nodes, body, "into_inner")
        }
        _ => false,
    }
}

fn calls_named(nodes: &[Node], body: &crate::model::facts::Body, name: &str) -> bool {
    nodes.iter().any(|node| match node {
        Node::Event(Event::Call(call)) => match &body.call(*call).callee {
            Callee::Method { name: method, .. } => &**method == name,
            Callee::Path(path) => path.last() == name,
            Callee::Dynamic(_) => false,
        },
        Node::Event(_) => false,
        Node::Branch(arms) => arms.iter().any(|arm| calls_named(arm, body, name)),
        Node::Loop(inner) => calls_named(inner, body, name),
    })
}
