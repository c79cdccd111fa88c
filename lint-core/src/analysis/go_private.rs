//! Go: locals that hold an object only their function's call can reach while it runs. A map
//! (or struct) made in a function, written and read through its local, and at most returned,
//! belongs to the goroutine running that call: accesses through the local never race, however
//! many goroutines run the function and however the flow-insensitive aliasing merged the
//! object with others.
//!
//! A local is private when every value it holds is made where it is assigned (`make`, a
//! composite literal, `new`, `&T{..}`) and the object has not yet left through the local: not
//! passed to a call other than a map operation, not stored in a field, element or other
//! variable, not sent on a channel, not captured by a goroutine. A struct literal holding it
//! leaves when the struct's own local does. Leaving is placed in source order: an access
//! before the first call that hands the object over is still private, unless that call is in a
//! loop the object outlives.

use std::cell::RefCell;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::loops::Loops;
use crate::graph::calls::collect_events;
use crate::model::facts::{Callee, Event, LocalId, LocalOrigin, Sym, Value, ValueId};
use crate::model::modules::FunctionId;
use crate::model::{BodyId, CallTarget, LibCall, Program};
use crate::source::Span;

/// When an object leaves its function's call, by source position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Leaves {
    /// From the start (a goroutine captures it, it is stored somewhere, a closure returns it).
    Always,
    /// At the call starting at this offset (not in a loop the object outlives).
    At(u32),
    Never,
}

/// Where a value is used.
#[derive(Clone, Copy, Debug)]
enum Use {
    /// Reading or writing through it, comparing it, returning it: the object stays here.
    Stays,
    /// Handed somewhere the analysis does not follow, from the start.
    Escapes,
    /// Handed to a call: the object leaves there (`in_loop`: the call is in a loop).
    Call { lo: u32, in_loop: bool },
    /// Part of a larger value (`&x`, a tuple, a branch value, a struct literal's field): the
    /// larger value's uses decide.
    Within(ValueId),
    /// The initial value of a local.
    Init(LocalId),
}

/// When each private local of an arena lets its object go.
#[derive(Default)]
struct Computed {
    leaves: HashMap<LocalId, Leaves>,
    /// Struct values (`var c Config`, `c := *cfg`): the struct is the call's own, but the maps
    /// its fields hold may be anybody's, so only a field the call itself filled with a new map
    /// is private through it.
    slots_only: HashSet<LocalId>,
    /// Locals also assigned values made elsewhere (`out = job.Output`): private only where
    /// the walk saw a new map assigned on every path (`out = make(..); out[k] = v`).
    where_fresh: HashSet<LocalId>,
}

/// Private locals of each function body, computed on demand.
pub struct PrivateLocals<'p> {
    program: &'p Program,
    loops: &'p Loops,
    /// Functions sharing each owner's body (the owner, its closures and defer bodies).
    by_owner: HashMap<FunctionId, Vec<FunctionId>>,
    /// Locals captured by goroutine bodies.
    handed_to_goroutine: HashSet<(BodyId, LocalId)>,
    memo: RefCell<HashMap<FunctionId, std::rc::Rc<Computed>>>,
    /// Functions being computed (a factory that calls itself is not one).
    in_progress: RefCell<HashSet<FunctionId>>,
}

impl<'p> PrivateLocals<'p> {
    pub fn new(
        program: &'p Program,
        loops: &'p Loops,
        handed_to_goroutine: HashSet<(BodyId, LocalId)>,
    ) -> Self {
        let mut by_owner: HashMap<FunctionId, Vec<FunctionId>> = HashMap::default();
        for function in program.function_ids() {
            by_owner
                .entry(program.function(function).owner)
                .or_default()
                .push(function);
        }
        PrivateLocals {
            program,
            loops,
            by_owner,
            handed_to_goroutine,
            memo: RefCell::default(),
            in_progress: RefCell::default(),
        }
    }

    /// The value (a root object of an access at `at`, in `owner`'s arena) is a private local
    /// whose object has not left yet.
    pub fn is_private(&mut self, owner: FunctionId, value: ValueId, at: Span) -> bool {
        let Value::Local(local) = self.program.body(owner).value(value) else {
            return false;
        };
        let computed = self.leaves(owner);
        !computed.slots_only.contains(local)
            && !computed.where_fresh.contains(local)
            && not_left(&computed, *local, at)
    }

    /// The value is a local that holds, at `at`, a map the call made (the walk saw it assigned
    /// on every path: `MapAccess::fresh_local`), and that has not left yet.
    pub fn is_private_where_fresh(&mut self, owner: FunctionId, value: ValueId, at: Span) -> bool {
        let Value::Local(local) = self.program.body(owner).value(value) else {
            return false;
        };
        let computed = self.leaves(owner);
        !computed.slots_only.contains(local) && not_left(&computed, *local, at)
    }

    /// The value (a root object of an access at `at`) is a private local, or a struct value of
    /// the call that has not left yet: a map that the call made and stored in one of its
    /// fields (`c := *cfg; c.Meta = make(..)`) is private through it.
    pub fn has_private_slots(&mut self, owner: FunctionId, value: ValueId, at: Span) -> bool {
        let Value::Local(local) = self.program.body(owner).value(value) else {
            return false;
        };
        not_left(&self.leaves(owner), *local, at)
    }

    /// When each local of the owner's arena lets its object go.
    fn leaves(&self, owner: FunctionId) -> std::rc::Rc<Computed> {
        if let Some(found) = self.memo.borrow().get(&owner) {
            return found.clone();
        }
        if !self.in_progress.borrow_mut().insert(owner) {
            return std::rc::Rc::default();
        }
        let computed = std::rc::Rc::new(self.compute(owner));
        self.in_progress.borrow_mut().remove(&owner);
        self.memo.borrow_mut().insert(owner, computed.clone());
        computed
    }

    /// A call of a function of the package that returns a new object on every call and keeps
    /// no hold of it (`func newTable() *Table { return &Table{..} }`).
    fn factory_call(&self, owner: FunctionId, value: ValueId) -> bool {
        let program = self.program;
        let Value::Call(call) = program.body(owner).value(value) else {
            return false;
        };
        let CallTarget::Function(callee) = program.call_target(owner, *call) else {
            return false;
        };
        if program.function(callee).owner != callee || self.in_progress.borrow().contains(&callee) {
            return false;
        }
        let returns = &program.fact(callee).returns;
        if returns.is_empty() {
            return false;
        }
        let body = program.body(callee);
        // `return nil` on a failure path does not hand out anything.
        returns.iter().all(|&returned| {
            fresh_value(program, callee, returned)
                || match body.value(returned) {
                    Value::Local(local) => {
                        let computed = self.leaves(callee);
                        !computed.slots_only.contains(local)
                            && computed.leaves.get(local) == Some(&Leaves::Never)
                    }
                    Value::Literal => true,
                    Value::Path(path) => path.last() == "nil",
                    _ => false,
                }
        }) && returns
            .iter()
            .any(|&returned| !matches!(body.value(returned), Value::Literal | Value::Path(_)))
    }

    fn compute(&self, owner: FunctionId) -> Computed {
        let program = self.program;
        let body = program.body(owner);
        let body_id = program.function(owner).body;
        let functions = self.by_owner.get(&owner).map(Vec::as_slice).unwrap_or(&[]);
        let mut events = Vec::new();
        for &function in functions {
            collect_events(&program.fact(function).nodes, &mut events);
        }
        let fresh =
            |value: ValueId| fresh_value(program, owner, value) || self.factory_call(owner, value);
        // Candidates: every value the local holds is made where it is assigned, or is an
        // element of another candidate (`ss := values[k]` of a map `values` made here), which
        // leaves with its container.
        let element_of = |value: ValueId| match body.value(value) {
            Value::Index { base } => match body.value(*base) {
                Value::Local(container) => Some(*container),
                _ => None,
            },
            _ => None,
        };
        let mut containers: HashMap<LocalId, Vec<LocalId>> = HashMap::default();
        let mut candidates: HashSet<LocalId> = HashSet::default();
        let mut slots_only: HashSet<LocalId> = HashSet::default();
        for (index, fact) in body.locals.iter().enumerate() {
            let local = LocalId::from_index(index);
            if fact.origin != LocalOrigin::Let
                || fact.by_ref
                || self.handed_to_goroutine.contains(&(body_id, local))
            {
                continue;
            }
            if struct_value(program, owner, local) {
                slots_only.insert(local);
                candidates.insert(local);
                continue;
            }
            match fact.init {
                Some(init) if fresh(init) => {}
                Some(init) => match element_of(init) {
                    Some(container) => containers.entry(local).or_default().push(container),
                    None => continue,
                },
                None => continue,
            }
            candidates.insert(local);
        }
        for event in &events {
            if let Event::Assign { target, value, .. } = event {
                if let Value::Local(local) = body.value(*target) {
                    if slots_only.contains(local) {
                        // Assigning a struct value copies it: still the call's own struct.
                        continue;
                    }
                    match element_of(*value) {
                        _ if fresh(*value) => {}
                        Some(container) => containers.entry(*local).or_default().push(container),
                        None => {
                            candidates.remove(local);
                        }
                    }
                }
            }
        }
        // An element of something that is not a candidate is not one either.
        loop {
            let dropped: Vec<LocalId> = candidates
                .iter()
                .copied()
                .filter(|local| {
                    containers
                        .get(local)
                        .is_some_and(|list| list.iter().any(|c| !candidates.contains(c)))
                })
                .collect();
            if dropped.is_empty() {
                break;
            }
            for local in dropped {
                candidates.remove(&local);
            }
        }
        // Locals assigned a new map somewhere and something else elsewhere: their leaving
        // point is computed too, for the accesses where the walk saw the new map.
        let mut where_fresh: HashSet<LocalId> = HashSet::default();
        for event in &events {
            if let Event::Assign { target, value, .. } = event {
                if let Value::Local(local) = body.value(*target) {
                    let fact = body.local(*local);
                    if fresh_value(program, owner, *value)
                        && !candidates.contains(local)
                        && fact.origin == LocalOrigin::Let
                        && !fact.by_ref
                        && !self.handed_to_goroutine.contains(&(body_id, *local))
                    {
                        where_fresh.insert(*local);
                    }
                }
            }
        }
        // Locals loaded from a field that the call then fills with a new map (`todo :=
        // a.pending; a.pending = make(..)`, a swap): the walk says where they hold the map
        // swapped out.
        let stored_fresh: Vec<SwapPlace> = events
            .iter()
            .filter_map(|event| match event {
                Event::Assign { target, value, .. } if fresh_value(program, owner, *value) => {
                    swap_place(body, *target)
                }
                _ => None,
            })
            .collect();
        if !stored_fresh.is_empty() {
            for (index, fact) in body.locals.iter().enumerate() {
                let local = LocalId::from_index(index);
                let loaded = fact
                    .init
                    .and_then(|init| swap_place(body, init))
                    .is_some_and(|place| stored_fresh.contains(&place));
                if loaded
                    && !candidates.contains(&local)
                    && fact.origin == LocalOrigin::Let
                    && !fact.by_ref
                    && !self.handed_to_goroutine.contains(&(body_id, local))
                {
                    where_fresh.insert(local);
                }
            }
        }
        candidates.extend(where_fresh.iter().copied());
        let mut leaves: HashMap<LocalId, Leaves> = candidates
            .iter()
            .map(|local| (*local, Leaves::Never))
            .collect();
        if leaves.is_empty() {
            return Computed {
                leaves,
                slots_only,
                where_fresh,
            };
        }
        let uses = uses_of(
            program,
            self.loops,
            owner,
            functions,
            &events,
            &candidates,
            &slots_only,
        );
        let mut occurrences: HashMap<LocalId, Vec<ValueId>> = HashMap::default();
        for (index, value) in body.values.iter().enumerate() {
            if let Value::Local(local) = value {
                if candidates.contains(local) {
                    occurrences
                        .entry(*local)
                        .or_default()
                        .push(ValueId::from_index(index));
                }
            }
        }
        // Move each local's leaving point earlier until nothing changes (a struct literal's
        // fields leave when the struct's local does).
        loop {
            let mut changed = false;
            for local in &candidates {
                let in_loop = body.local(*local).in_loop;
                let through_uses = occurrences
                    .get(local)
                    .into_iter()
                    .flatten()
                    .map(|&value| leaves_at(&uses, value, &leaves, in_loop, 0))
                    .min()
                    .unwrap_or(Leaves::Never);
                let with_containers = containers
                    .get(local)
                    .into_iter()
                    .flatten()
                    .map(|container| leaves.get(container).copied().unwrap_or(Leaves::Always))
                    .min()
                    .unwrap_or(Leaves::Never);
                let earliest = through_uses.min(with_containers);
                if earliest < leaves[local] {
                    leaves.insert(*local, earliest);
                    changed = true;
                }
            }
            if !changed {
                return Computed {
                    leaves,
                    slots_only,
                    where_fresh,
                };
            }
        }
    }
}

/// The earliest point where the value's object leaves through one of its uses. `declared_in_loop`:
/// the object is made anew at each iteration of the loop around it.
fn leaves_at(
    uses: &HashMap<ValueId, Vec<Use>>,
    value: ValueId,
    locals: &HashMap<LocalId, Leaves>,
    declared_in_loop: bool,
    depth: u32,
) -> Leaves {
    if depth > 8 {
        return Leaves::Always;
    }
    let Some(list) = uses.get(&value) else {
        return Leaves::Never;
    };
    list.iter()
        .map(|used| match used {
            Use::Stays => Leaves::Never,
            Use::Escapes => Leaves::Always,
            // A call in a loop the object outlives hands it over before the next iteration's
            // accesses.
            Use::Call { in_loop: true, .. } if !declared_in_loop => Leaves::Always,
            Use::Call { lo, .. } => Leaves::At(*lo),
            Use::Within(outer) => leaves_at(uses, *outer, locals, declared_in_loop, depth + 1),
            Use::Init(local) => locals.get(local).copied().unwrap_or(Leaves::Always),
        })
        .min()
        .unwrap_or(Leaves::Never)
}

/// Every use of every value of the owner's arena.
fn uses_of(
    program: &Program,
    loops: &Loops,
    owner: FunctionId,
    functions: &[FunctionId],
    events: &[&Event],
    candidates: &HashSet<LocalId>,
    slots_only: &HashSet<LocalId>,
) -> HashMap<ValueId, Vec<Use>> {
    let body = program.body(owner);
    let mut uses: HashMap<ValueId, Vec<Use>> = HashMap::default();
    let mut add = |value: ValueId, used: Use| uses.entry(value).or_default().push(used);
    for (index, value) in body.values.iter().enumerate() {
        let this = ValueId::from_index(index);
        match value {
            // A field of a struct value holds a map (or pointer) that is handed on with the
            // field's value: its uses decide.
            Value::Field { base, .. } if matches!(body.value(*base), Value::Local(local) if slots_only.contains(local)) => {
                add(*base, Use::Within(this))
            }
            Value::Field { base, .. } | Value::Index { base } => add(*base, Use::Stays),
            Value::Deref(inner) | Value::Element(inner) | Value::Cast { inner, .. } => {
                add(*inner, Use::Stays)
            }
            Value::Payload { of, .. } => add(*of, Use::Stays),
            Value::Ref { inner, .. } | Value::RawRef { inner, .. } => {
                add(*inner, Use::Within(this))
            }
            Value::Try(inner) | Value::Await(inner) => add(*inner, Use::Within(this)),
            Value::Tuple(items) | Value::Array(items) | Value::Either(items) => {
                for item in items {
                    add(*item, Use::Within(this));
                }
            }
            Value::Struct { fields, rest, .. } => {
                for (_, field) in fields {
                    add(*field, Use::Within(this));
                }
                if let Some(rest) = rest {
                    add(*rest, Use::Within(this));
                }
            }
            Value::Unknown
            | Value::Literal
            | Value::Local(_)
            | Value::Path(_)
            | Value::Call(_)
            | Value::Closure(_)
            | Value::Macro { .. } => {}
        }
    }
    for (index, call) in body.calls.iter().enumerate() {
        let id = crate::model::facts::CallId::from_index(index);
        // Map operations (`delete(m, k)`, `h.Set(k, v)`, `len(m)`) and constructors keep the
        // object where it is; any other call may keep or share what it is given.
        let target = program.call_target(owner, id);
        // (The frontend's mark of a `for range` loop's end is no call.)
        let stays = matches!(
            target,
            CallTarget::Lib(LibCall::Map { .. } | LibCall::Construct(_))
        ) || matches!(&call.callee, Callee::Path(path) if path.last() == crate::model::facts::RANGE_END);
        let leaves_at_call = Use::Call {
            lo: call.span.lo,
            in_loop: call.in_loop,
        };
        // A function of the package that only reads and writes what it is given, and keeps
        // none of it, keeps the object where it is.
        let used = |position: usize| match target {
            _ if stays => Use::Stays,
            CallTarget::Function(callee) if keeps_parameter(program, callee, position, 0) => {
                Use::Stays
            }
            _ => leaves_at_call,
        };
        let receiver_offset = match &call.callee {
            Callee::Method { receiver, .. } => {
                add(*receiver, used(0));
                1
            }
            Callee::Dynamic(callee) => {
                add(*callee, Use::Stays);
                0
            }
            Callee::Path(_) => 0,
        };
        for (position, &arg) in call.args.iter().enumerate() {
            add(arg, used(position + receiver_offset));
        }
    }
    for (index, local) in body.locals.iter().enumerate() {
        if let Some(init) = local.init {
            add(init, Use::Init(LocalId::from_index(index)));
        }
    }
    for event in events {
        match event {
            // Stored somewhere (`h.symbols = symbols`, `other = m`): the object leaves there,
            // like a call it is handed to (accesses before that are still the function's).
            Event::Assign {
                target,
                value,
                span,
            } => {
                add(*target, Use::Stays);
                // Stored into a candidate container (`values[k] = ss`): it leaves with it.
                let container = match body.value(*target) {
                    Value::Index { base } | Value::Field { base, .. } => match body.value(*base) {
                        Value::Local(local) if candidates.contains(local) => Some(*local),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(container) = container {
                    add(*value, Use::Init(container));
                    continue;
                }
                add(
                    *value,
                    Use::Call {
                        lo: span.lo,
                        in_loop: loops
                            .of_value(program.function(owner).body, *target)
                            .is_some(),
                    },
                );
            }
            Event::Read { value, .. } | Event::NonNil { value } => add(*value, Use::Stays),
            _ => {}
        }
    }
    for &function in functions {
        // Returned by the function itself: the call is over. Returned by a closure: whoever
        // calls it gets the object.
        let used = if function == owner {
            Use::Stays
        } else {
            Use::Escapes
        };
        for &returned in &program.fact(function).returns {
            add(returned, used);
        }
    }
    for temp in &body.temps {
        add(temp.value, Use::Stays);
    }
    uses
}

/// A function uses its parameter at `position` (the receiver first) only to read and write
/// through it (indexing, fields, map operations, comparisons) and to hand it to functions
/// that do the same: it keeps nothing of it once it returns.
fn keeps_parameter(program: &Program, function: FunctionId, position: usize, depth: u32) -> bool {
    const MAX_DEPTH: u32 = 2;
    if depth > MAX_DEPTH || program.function(function).owner != function {
        return false;
    }
    let Some(&param) = program.fact(function).params.get(position) else {
        return false;
    };
    let body = program.body(function);
    let file = program.function(function).file;
    // Every value that is the parameter (or a place in it).
    let mut through: HashSet<ValueId> = HashSet::default();
    for (index, value) in body.values.iter().enumerate() {
        let of_param = match value {
            Value::Local(local) => *local == param,
            // (An element `m[k]` is another value: handing it on keeps the map here.)
            Value::Field { base, .. } | Value::Deref(base) => through.contains(base),
            Value::Ref { inner, .. } => through.contains(inner),
            _ => false,
        };
        if of_param {
            through.insert(ValueId::from_index(index));
        }
    }
    if through.is_empty() {
        return true;
    }
    // A closure of the function sees the parameter too: it may keep it.
    if program.function_ids().any(|other| {
        other != function
            && program.function(other).owner == function
            && program.fact(other).captures.contains(&param)
    }) {
        return false;
    }
    // Stored somewhere, returned, or put into a value that is.
    let uses_ok = body.values.iter().all(|value| match value {
        Value::Struct { fields, rest, .. } => {
            !fields.iter().any(|(_, field)| through.contains(field))
                && !rest.is_some_and(|rest| through.contains(&rest))
        }
        Value::Tuple(items) | Value::Array(items) | Value::Either(items) => {
            !items.iter().any(|item| through.contains(item))
        }
        _ => true,
    });
    if !uses_ok
        || program
            .fact(function)
            .returns
            .iter()
            .any(|returned| through.contains(returned))
    {
        return false;
    }
    let mut events = Vec::new();
    collect_events(&program.fact(function).nodes, &mut events);
    for event in events {
        if let Event::Assign { value, .. } = event {
            if through.contains(value) {
                return false;
            }
        }
    }
    for (index, call) in body.calls.iter().enumerate() {
        let id = crate::model::facts::CallId::from_index(index);
        if program.function_id(file, call.function) != function {
            // A call in a closure of the function: only closures that capture the parameter
            // see it, and those were ruled out.
            continue;
        }
        let target = program.call_target(function, id);
        let receiver = match &call.callee {
            Callee::Method { receiver, .. } => Some(*receiver),
            _ => None,
        };
        let operands: Vec<ValueId> = receiver
            .into_iter()
            .chain(call.args.iter().copied())
            .collect();
        for (operand_position, operand) in operands.iter().enumerate() {
            if !through.contains(operand) {
                continue;
            }
            let fine = match target {
                CallTarget::Lib(LibCall::Map { .. }) => true,
                CallTarget::Lib(LibCall::Lock { .. } | LibCall::Unlock { .. }) => true,
                CallTarget::Function(callee) => {
                    keeps_parameter(program, callee, operand_position, depth + 1)
                }
                _ => false,
            };
            if !fine {
                return false;
            }
        }
    }
    true
}

/// Whether a local has not let its object go by `at`.
fn not_left(computed: &Computed, local: LocalId, at: Span) -> bool {
    match computed.leaves.get(&local) {
        Some(Leaves::Never) => true,
        Some(Leaves::At(lo)) => at.hi <= *lo,
        Some(Leaves::Always) | None => false,
    }
}

/// A place a map can be swapped out of: a field of a local (`a.pending`), or what a local
/// pointer points to (`*p`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SwapPlace {
    Field(LocalId, Sym),
    Pointee(LocalId),
}

/// The place a value reads or a target writes, when it is one a swap can name.
pub fn swap_place(body: &crate::model::facts::Body, value: ValueId) -> Option<SwapPlace> {
    match body.value(value) {
        Value::Field { base, name } => match body.value(*base) {
            Value::Local(base) => Some(SwapPlace::Field(*base, name.clone())),
            _ => None,
        },
        Value::Deref(inner) => match body.value(*inner) {
            Value::Local(pointer) => Some(SwapPlace::Pointee(*pointer)),
            _ => None,
        },
        _ => None,
    }
}

/// A local declared with a struct type by value (not a pointer): whatever is assigned to it
/// is copied into its own storage.
fn struct_value(program: &Program, owner: FunctionId, local: LocalId) -> bool {
    let ty = program.local_ty(owner, local);
    program.types.strip_refs(ty) == ty
        && program
            .types
            .adt(ty)
            .is_some_and(|adt| !program.adt(adt).fields.is_empty())
}

/// A value made where it is written: `make`, `new`, a composite literal, `&T{..}`.
pub fn fresh_value(program: &Program, owner: FunctionId, value: ValueId) -> bool {
    match program.body(owner).value(value) {
        Value::Struct { .. } => true,
        Value::Ref { inner, .. } => fresh_value(program, owner, *inner),
        Value::Call(call) => matches!(
            program.call_target(owner, *call),
            CallTarget::Lib(LibCall::Construct(_))
        ),
        _ => false,
    }
}
