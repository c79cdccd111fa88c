//! What each local and temporary holds, for the drop-order simulation: a lock guard, a defer
//! guard, or a value whose type has drop glue (and so runs `Drop` code when it dies).

use rustc_hash::FxHashMap as HashMap;

use super::index::{BodyIndex, Consumer};
use super::locks::{Handling, LockOpId, LockOps};
use crate::graph::calls::{DeferSiteId, DropGlue, slot_type};
use crate::model::facts::{
    Body, CallId, Callee, FnKind, LocalOrigin, SelfKind, Slot, Value, ValueId,
};
use crate::model::modules::FunctionId;
use crate::model::{CallTarget, LibCall, LockAttempt, MapOpKind, Program};
use crate::source::Span;

/// What a slot holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// A lock guard: the lock is held while the slot owns it.
    Guard(LockOpId),
    /// A defer guard: its body runs when the slot's value is dropped.
    Defer(DeferSiteId),
    /// A value whose drop runs these `Drop::drop` functions.
    Owned {
        drops: Vec<FunctionId>,
        origin: Span,
        may_be_last_owner: bool,
    },
}

/// Contents of the interesting slots of every arena.
#[derive(Debug, Default)]
pub struct SlotContents {
    contents: HashMap<(FunctionId, Slot), Content>,
    /// Defer sites by the function holding their body.
    defer_by_body: HashMap<FunctionId, DeferSiteId>,
}

impl SlotContents {
    pub fn compute(
        program: &Program,
        indexes: &[BodyIndex],
        locks: &LockOps,
        glue: &DropGlue,
        defer_sites: &[crate::graph::calls::DeferSite],
    ) -> SlotContents {
        let mut contents = SlotContents::default();
        for (position, site) in defer_sites.iter().enumerate() {
            contents
                .defer_by_body
                .insert(site.body, DeferSiteId(position as u32));
        }
        for owner in program.function_ids() {
            if program.function(owner).owner != owner {
                continue;
            }
            let body = program.body(owner);
            let index = &indexes[program.function(owner).body.0 as usize];
            let cx = ContentCx {
                program,
                owner,
                body,
                index,
                locks,
                glue,
                defer_by_body: &contents.defer_by_body,
            };
            let item_guards = closure_item_guards(program, owner, locks);
            let mut found = Vec::new();
            for (position, local) in body.locals.iter().enumerate() {
                if let Some(&lock) = item_guards.get(&position) {
                    let slot = Slot::Local(crate::model::facts::LocalId::from_index(position));
                    found.push((slot, Content::Guard(lock)));
                    continue;
                }
                if local.by_ref
                    || local.origin == LocalOrigin::Param
                        && program.fact(owner).kind == FnKind::StaticInit
                {
                    continue;
                }
                let slot = Slot::Local(crate::model::facts::LocalId::from_index(position));
                let content = match local.init {
                    Some(init) if local.origin != LocalOrigin::Param => {
                        cx.content_of_value(init, 0)
                    }
                    _ => None,
                };
                // A pattern binds by reference when it matches a place or a reference (default
                // binding modes): only bindings out of a produced value own it.
                let owns = match local.origin {
                    LocalOrigin::Pattern | LocalOrigin::ForLoop => {
                        local.init.is_some_and(|init| cx.binds_owned_value(init, 0))
                    }
                    _ => true,
                };
                let content = if owns {
                    content.or_else(|| cx.owned(slot, local.init, local.span))
                } else {
                    content
                };
                if let Some(content) = content {
                    found.push((slot, content));
                }
            }
            for (position, temp) in body.temps.iter().enumerate() {
                let slot = Slot::Temp(crate::model::facts::TempId::from_index(position));
                if cx.consumed(temp.value) {
                    continue;
                }
                let content = cx
                    .content_of_value(temp.value, 0)
                    .or_else(|| cx.owned(slot, Some(temp.value), temp.span));
                if let Some(content) = content {
                    found.push((slot, content));
                }
            }
            for (slot, content) in found {
                contents.contents.insert((owner, slot), content);
            }
        }
        contents
    }

    /// The content of a slot of the arena owned by `owner`.
    pub fn get(&self, owner: FunctionId, slot: Slot) -> Option<&Content> {
        self.contents.get(&(owner, slot))
    }
}

struct ContentCx<'a> {
    program: &'a Program,
    owner: FunctionId,
    body: &'a Body,
    index: &'a BodyIndex,
    locks: &'a LockOps,
    glue: &'a DropGlue,
    defer_by_body: &'a HashMap<FunctionId, DeferSiteId>,
}

impl ContentCx<'_> {
    fn target(&self, call: CallId) -> CallTarget {
        self.program.call_target(self.owner, call)
    }

    /// A guard or a defer guard, from the expression that produced the value.
    fn content_of_value(&self, value: ValueId, depth: u32) -> Option<Content> {
        if depth > 8 {
            return None;
        }
        match self.body.value(value) {
            Value::Call(call) => {
                if let Some(lock) = self.locks.at(self.owner, *call) {
                    let op = self.locks.get(lock);
                    // Only a result that is the guard itself: a `LockResult` is unwrapped first.
                    return (op.handling == Handling::Direct && op.attempt != LockAttempt::Try)
                        .then_some(Content::Guard(lock));
                }
                // `entry.or_insert(v)`, `map.entry(k).or_default()`: the `RefMut` keeps the
                // entry's shard locked.
                if let Callee::Method { receiver, name, .. } = &self.body.call(*call).callee {
                    if matches!(
                        &**name,
                        "or_insert"
                            | "or_insert_with"
                            | "or_insert_with_key"
                            | "or_default"
                            | "insert"
                            | "and_modify"
                            | "insert_entry"
                    ) {
                        if let Some(Content::Guard(lock)) =
                            self.content_of_value(*receiver, depth + 1)
                        {
                            if super::lock_state::is_entry(self.program, self.locks, lock) {
                                return Some(Content::Guard(lock));
                            }
                        }
                    }
                }
                match self.target(*call) {
                    // A function of the program that returns a guard it takes.
                    CallTarget::Function(function) => {
                        self.locks.guard_returned_by(function).map(Content::Guard)
                    }
                    CallTarget::Lib(LibCall::Unwrap | LibCall::Expect | LibCall::UnwrapOr) => {
                        let receiver = self.receiver(*call)?;
                        self.guard_through_handler(receiver)
                    }
                    CallTarget::Lib(LibCall::ScopeGuard) => {
                        let closure = self
                            .body
                            .call(*call)
                            .args
                            .iter()
                            .find_map(|&arg| crate::graph::calls::closure_of(self.body, arg))?;
                        let closure = self
                            .program
                            .function_id(self.program.function(self.owner).file, closure);
                        self.defer_by_body
                            .get(&closure)
                            .map(|&site| Content::Defer(site))
                    }
                    _ => None,
                }
            }
            Value::Try(inner) | Value::Payload { of: inner, .. } => {
                self.guard_through_handler(*inner)
            }
            Value::Await(inner) => match self.body.value(*inner) {
                Value::Call(call) => match self.locks.at(self.owner, *call) {
                    Some(lock) => (self.locks.get(lock).attempt != LockAttempt::Try)
                        .then_some(Content::Guard(lock)),
                    // An `async fn` of the program that returns a guard, or a future of the
                    // program whose `poll` does.
                    None => match self.target(*call) {
                        CallTarget::Function(function) => self
                            .locks
                            .guard_returned_by(function)
                            .or_else(|| self.poll_guard(*inner))
                            .map(Content::Guard),
                        _ => self.poll_guard(*inner).map(Content::Guard),
                    },
                },
                _ => self.poll_guard(*inner).map(Content::Guard),
            },
            Value::Closure(closure) => {
                let closure = self
                    .program
                    .function_id(self.program.function(self.owner).file, *closure);
                self.defer_by_body
                    .get(&closure)
                    .map(|&site| Content::Defer(site))
            }
            Value::Local(local) => {
                let init = self.body.local(*local).init?;
                self.content_of_value(init, depth + 1)
            }
            // `match x { Some(g) => g, None => unreachable!() }`, `if c { g } else { .. }`: what
            // every arm that gives a value gives (arms that diverge give none).
            Value::Either(arms) => {
                let mut found: Option<Content> = None;
                for &arm in arms {
                    if matches!(self.body.value(arm), Value::Macro { .. } | Value::Unknown) {
                        continue;
                    }
                    let content = self.content_of_value(arm, depth + 1)?;
                    match &found {
                        Some(previous) if *previous != content => return None,
                        _ => found = Some(content),
                    }
                }
                found
            }
            // `let (g, t) = (m.lock().unwrap(), now());`, `let pair = (g, ()); pair.0`,
            // `Holder { inner: g }.inner`: the element or field is the guard.
            Value::Field { base, name } if self.body.literal_field(*base, name).is_some() => {
                let element = self.body.literal_field(*base, name)?;
                self.content_of_value(element, depth + 1)
            }
            // `Entry::Occupied(e)` out of an entry: `e` keeps the entry's shard locked.
            Value::Field { base, name } if name.bytes().all(|byte| byte.is_ascii_digit()) => {
                match self.content_of_value(*base, depth + 1)? {
                    Content::Guard(lock)
                        if super::lock_state::is_entry(self.program, self.locks, lock) =>
                    {
                        Some(Content::Guard(lock))
                    }
                    _ => None,
                }
            }
            // `for entry in map.iter()`: each item keeps the shard the iterator is on locked.
            Value::Element(inner) => match self.body.value(*inner) {
                Value::Call(call) => {
                    let lock = self.locks.at(self.owner, *call)?;
                    let op = self.locks.get(lock);
                    (op.flavor == crate::model::types::LockFlavor::Shard
                        && op.attempt != LockAttempt::Try)
                        .then_some(Content::Guard(lock))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The guard a future of the program gives when awaited: its type's `poll` returns one.
    fn poll_guard(&self, future: ValueId) -> Option<super::locks::LockOpId> {
        let ty = self.program.value_ty(self.owner, future);
        let adt = self.program.types.adt(ty)?;
        let polls = self.program.adt(adt).methods.get("poll")?;
        polls
            .iter()
            .find_map(|&poll| self.locks.guard_returned_by(poll))
    }

    /// `m.lock().unwrap()`, `m.lock()?`, `Ok(g)` from `m.lock()`: the guard of that lock.
    fn guard_through_handler(&self, value: ValueId) -> Option<Content> {
        self.guard_through_handler_at(value, 0)
    }

    fn guard_through_handler_at(&self, value: ValueId, depth: u32) -> Option<Content> {
        if depth > 8 {
            return None;
        }
        match self.body.value(value) {
            // `Some(guard)`, `Ok(guard)`: what is wrapped (also through a local holding it).
            Value::Call(call) if self.body.call(*call).wrapped_variant().is_some() => {
                let inner = self.body.call(*call).wrapped_variant()?;
                self.content_of_value(inner, depth + 1)
            }
            Value::Local(local) => {
                let init = self.body.local(*local).init?;
                self.guard_through_handler_at(init, depth + 1)
            }
            Value::Call(call) => {
                if let Some(lock) = self.locks.at(self.owner, *call) {
                    return (self.locks.get(lock).attempt != LockAttempt::Try)
                        .then_some(Content::Guard(lock));
                }
                if let CallTarget::Function(function) = self.target(*call) {
                    return self.locks.guard_returned_by(function).map(Content::Guard);
                }
                let fact = self.body.call(*call);
                // `m.lock().map_err(..)?`, `map.get(&k).ok_or(e)?`: the guard passes through.
                if let Callee::Method { receiver, name, .. } = &fact.callee {
                    if matches!(
                        &**name,
                        "map_err" | "ok_or" | "ok_or_else" | "ok" | "context" | "with_context"
                    ) {
                        return self.guard_through_handler(*receiver);
                    }
                }
                // `condvar.wait(guard)` gives the same lock back, held again.
                let waits = matches!(&fact.callee, Callee::Method { name, .. } if matches!(&**name, "wait" | "wait_while"));
                match fact.args.first() {
                    Some(&guard) if waits => match self.body.value(guard) {
                        Value::Local(local) => {
                            let init = self.body.local(*local).init?;
                            self.content_of_value(init, 1)
                                .filter(|content| matches!(content, Content::Guard(_)))
                        }
                        _ => None,
                    },
                    _ => None,
                }
            }
            Value::Await(inner) => self.guard_through_handler(*inner),
            _ => None,
        }
    }

    fn receiver(&self, call: CallId) -> Option<ValueId> {
        match &self.body.call(call).callee {
            Callee::Method { receiver, .. } => Some(*receiver),
            Callee::Path(_) => self.body.call(call).args.first().copied(),
            Callee::Dynamic(_) => None,
        }
    }

    /// A value with drop glue.
    fn owned(&self, slot: Slot, value: Option<ValueId>, span: Span) -> Option<Content> {
        let ty = slot_type(self.program, self.owner, &slot);
        let may_be_last_owner = value.is_some_and(|value| self.may_be_last_owner(value, 0));
        // Clones of an `Arc` are never the last owner where they die next to the original.
        if value.is_some_and(|value| self.is_shared_clone(value)) {
            return None;
        }
        let incidental = value.is_some_and(|value| self.is_replaced_old_value(value));
        // A struct or tuple literal whose field is moved out (`Holder { inner: x }.inner`
        // where it is written, `let job = pair.0` from the local holding it): only its other
        // fields are left to drop.
        let literal_fields: Option<Vec<(crate::model::facts::Sym, ValueId)>> =
            value.and_then(|value| match self.body.value(value) {
                Value::Struct { fields, .. } => Some(fields.clone()),
                Value::Tuple(elements) => Some(
                    elements
                        .iter()
                        .enumerate()
                        .map(|(position, &element)| (position.to_string().into(), element))
                        .collect(),
                ),
                _ => None,
            });
        // The fields projected out of the temporary's value, or out of the local into another
        // local (`let job = pair.0`).
        let projected = |from: ValueId, into_local: bool| {
            self.index.consumers[from.index()]
                .iter()
                .filter_map(move |consumer| match consumer {
                    Consumer::Other(projection) => match self.body.value(*projection) {
                        Value::Field { name, .. }
                            if !into_local
                                || self.index.consumers[projection.index()]
                                    .iter()
                                    .any(|used| matches!(used, Consumer::Init(_))) =>
                        {
                            Some(name)
                        }
                        _ => None,
                    },
                    _ => None,
                })
        };
        let moved: Vec<&crate::model::facts::Sym> = match (slot, value, &literal_fields) {
            (Slot::Temp(_), Some(value), Some(_)) => projected(value, false).collect(),
            (Slot::Local(local), Some(_), Some(_)) => self.index.local_uses[local.index()]
                .iter()
                .flat_map(|&read| projected(read, true))
                .collect(),
            _ => Vec::new(),
        };
        if let (Some(fields), Some(value), false) = (&literal_fields, value, moved.is_empty()) {
            let mut drops: Vec<FunctionId> = fields
                .iter()
                .filter(|(field, _)| !moved.contains(&field))
                .flat_map(|(_, field)| {
                    let ty = self.program.value_ty(self.owner, *field);
                    self.glue
                        .glue_inside(self.program, ty, false, self.owner, incidental)
                })
                .collect();
            drops.sort();
            drops.dedup();
            if drops.is_empty() {
                return None;
            }
            let origin = self.origin_span(value);
            return Some(Content::Owned {
                drops,
                origin,
                may_be_last_owner,
            });
        }
        let drops =
            self.glue
                .glue_inside(self.program, ty, may_be_last_owner, self.owner, incidental);
        if drops.is_empty() {
            return None;
        }
        let origin = value.map(|value| self.origin_span(value)).unwrap_or(span);
        Some(Content::Owned {
            drops,
            origin,
            may_be_last_owner,
        })
    }

    /// Whether a pattern binding out of `value` owns what it binds: the value is produced by a
    /// call (not a place), and no reference lies on the way.
    fn binds_owned_value(&self, value: ValueId, depth: u32) -> bool {
        if depth > 8 {
            return false;
        }
        let ty = self.program.value_ty(self.owner, value);
        if matches!(
            self.program.types.kind(ty),
            crate::model::types::TyKind::Ref(..)
        ) {
            return false;
        }
        match self.body.value(value) {
            Value::Call(_) | Value::Struct { .. } | Value::Try(_) | Value::Await(_) => true,
            Value::Payload { of: inner, .. }
            | Value::Field { base: inner, .. }
            | Value::Element(inner) => self.binds_owned_value(*inner, depth + 1),
            Value::Local(local) => {
                let fact = self.body.local(*local);
                !fact.by_ref
                    && fact.origin == LocalOrigin::Let
                    && fact
                        .init
                        .is_some_and(|init| self.binds_owned_value(init, depth + 1))
            }
            _ => false,
        }
    }

    /// Values taken out of a map or upgraded from a `Weak`: if every other owner is gone, the
    /// object dies with this value.
    fn may_be_last_owner(&self, value: ValueId, depth: u32) -> bool {
        if depth > 8 {
            return false;
        }
        match self.body.value(value) {
            Value::Call(call) => match self.target(*call) {
                CallTarget::Lib(LibCall::Upgrade | LibCall::TakeOut) => true,
                CallTarget::Lib(LibCall::Seq {
                    kind: MapOpKind::Write | MapOpKind::Drain,
                }) => matches!(
                    &self.body.call(*call).callee,
                    Callee::Method { name, .. } if !matches!(&**name, "push" | "push_back" | "push_front" | "insert" | "extend" | "append")
                ),
                CallTarget::Lib(LibCall::Map {
                    kind: MapOpKind::Write | MapOpKind::Drain | MapOpKind::WriteDroppingValues,
                    ..
                }) => {
                    matches!(&self.body.call(*call).callee, Callee::Method { name, .. } if matches!(&**name, "remove" | "insert" | "remove_entry" | "swap_remove" | "shift_remove" | "pop_first" | "pop_last" | "drain" | "take"))
                }
                CallTarget::Lib(
                    LibCall::Unwrap | LibCall::Expect | LibCall::UnwrapOr | LibCall::Access,
                ) => self
                    .receiver(*call)
                    .is_some_and(|receiver| self.may_be_last_owner(receiver, depth + 1)),
                _ => false,
            },
            Value::Try(inner)
            | Value::Payload { of: inner, .. }
            | Value::Element(inner)
            | Value::Field { base: inner, .. } => self.may_be_last_owner(*inner, depth + 1),
            Value::Local(local) => self
                .body
                .local(*local)
                .init
                .is_some_and(|init| self.may_be_last_owner(init, depth + 1)),
            _ => false,
        }
    }

    /// The old value a map's `insert` (or `replace`) returns: there is one only if the key was
    /// present.
    fn is_replaced_old_value(&self, value: ValueId) -> bool {
        match self.body.value(value) {
            Value::Call(call) => matches!(
                &self.body.call(*call).callee,
                Callee::Method { name, .. } if matches!(&**name, "insert" | "replace")
            ),
            _ => false,
        }
    }

    fn is_shared_clone(&self, value: ValueId) -> bool {
        match self.body.value(value) {
            Value::Call(call) => matches!(
                self.target(*call),
                CallTarget::Lib(LibCall::Clone { shares: true })
            ),
            _ => false,
        }
    }

    fn origin_span(&self, value: ValueId) -> Span {
        match self.body.value(value) {
            Value::Call(call) => self.body.call(*call).span,
            Value::Struct { span, .. } => *span,
            Value::Try(inner)
            | Value::Payload { of: inner, .. }
            | Value::Await(inner)
            | Value::Element(inner) => self.origin_span(*inner),
            Value::Local(local) => self.body.local(*local).span,
            _ => Span::default(),
        }
    }

    /// A temporary moved into a method that takes `self` by value is not dropped where the
    /// temporary's scope ends.
    fn consumed(&self, value: ValueId) -> bool {
        self.index.consumers[value.index()]
            .iter()
            .any(|consumer| match consumer {
                Consumer::Receiver(call) => {
                    let name = match &self.body.call(*call).callee {
                        Callee::Method { name, .. } => &**name,
                        _ => "",
                    };
                    match self.target(*call) {
                        CallTarget::Function(function) => matches!(
                            self.program.fact(function).kind,
                            FnKind::Method {
                                self_kind: Some(SelfKind::Value),
                                ..
                            } | FnKind::TraitMethod {
                                self_kind: Some(SelfKind::Value),
                                ..
                            }
                        ),
                        CallTarget::Lib(
                            LibCall::Unwrap
                            | LibCall::Expect
                            | LibCall::UnwrapOr
                            | LibCall::Forget
                            | LibCall::Join,
                        ) => true,
                        CallTarget::Lib(LibCall::Map {
                            kind: MapOpKind::Drain,
                            ..
                        }) => name == "into_iter",
                        CallTarget::Lib(_) => false,
                        CallTarget::Construct(_) => true,
                        CallTarget::Unknown => !is_borrowing_method(name),
                    }
                }
                // A pattern that binds the payload moves it out (`Ok(conn) =>`, `Some(v) =`).
                Consumer::Try(_) | Consumer::Await(_) | Consumer::Payload(..) => true,
                _ => false,
            })
    }
}

/// `map.iter().for_each(|entry| ..)`: the closure's parameter is each item, which keeps the
/// shard the iterator is on locked while the closure runs. By the parameter's local index.
fn closure_item_guards(
    program: &Program,
    owner: FunctionId,
    locks: &LockOps,
) -> HashMap<usize, LockOpId> {
    let body = program.body(owner);
    let file = program.function(owner).file;
    let mut guards = HashMap::default();
    for call in &body.calls {
        let Callee::Method { receiver, name, .. } = &call.callee else {
            continue;
        };
        if !matches!(
            &**name,
            "for_each"
                | "map"
                | "filter"
                | "filter_map"
                | "any"
                | "all"
                | "find"
                | "inspect"
                | "try_for_each"
        ) {
            continue;
        }
        let Value::Call(source) = body.value(*receiver) else {
            continue;
        };
        let Some(lock) = locks.at(owner, *source) else {
            continue;
        };
        if locks.get(lock).flavor != crate::model::types::LockFlavor::Shard {
            continue;
        }
        for &arg in &call.args {
            let Some(closure) = crate::graph::calls::closure_of(body, arg) else {
                continue;
            };
            let closure = program.function_id(file, closure);
            if let Some(&param) = program.fact(closure).params.first() {
                guards.insert(param.index(), lock);
            }
        }
    }
    guards
}

/// Methods that take `&self` on any type, for receivers whose type is unknown.
fn is_borrowing_method(name: &str) -> bool {
    name.starts_with("is_")
        || name.starts_with("as_")
        || name.starts_with("get")
        || name.starts_with("contains")
        || name.starts_with("iter")
        || name.starts_with("to_")
        || matches!(
            name,
            "len"
                | "clone"
                | "deref"
                | "deref_mut"
                | "borrow"
                | "borrow_mut"
                | "fmt"
                | "eq"
                | "cmp"
                | "hash"
                | "keys"
                | "values"
        )
}
