//! The lock state at the moment deferred code runs. Each function's event tree is walked in
//! execution order, tracking which slots still own their value: lock guards held, defer
//! guards and values with drop glue pending. Where a defer guard or a value with drop glue
//! dies (end of scope in reverse declaration order, end of statement for temporaries,
//! `drop(x)`, overwrite, a map dropping its values) while guards are definitely held, the
//! run is recorded with the locks held at that point.

use std::collections::BTreeMap;

use super::locks::LockOpId;
use super::slots::{Content, SlotContents};
use crate::graph::alias::Aliases;
use crate::graph::calls::{DeferSiteId, DropGlue};
use crate::model::facts::{Callee, Event, Node, ReleaseReason, Slot, Value};
use crate::model::modules::FunctionId;
use crate::model::{CallTarget, LibCall, MapOpKind, Program};
use crate::source::Span;

/// A lock held by a slot at some point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldLock {
    pub slot: Slot,
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

/// Every deferred run with locks held, program-wide.
#[derive(Debug, Default)]
pub struct LockState {
    pub runs: Vec<DeferredRun>,
}

impl LockState {
    pub fn compute(
        program: &Program,
        contents: &SlotContents,
        aliases: &Aliases,
        glue: &DropGlue,
    ) -> LockState {
        let _ = aliases;
        let mut state = LockState::default();
        for function in program.function_ids() {
            let owner = program.function(function).owner;
            let mut walker = Walker {
                program,
                contents,
                glue,
                function,
                owner,
                runs: &mut state.runs,
            };
            let mut initial = State::new();
            walker.walk(&program.fact(function).nodes, &mut initial);
        }
        state
    }
}

struct Walker<'a> {
    program: &'a Program,
    contents: &'a SlotContents,
    glue: &'a DropGlue,
    function: FunctionId,
    owner: FunctionId,
    runs: &'a mut Vec<DeferredRun>,
}

impl Walker<'_> {
    /// Walks nodes from `state`; `None` afterwards means every path ended (returned).
    fn walk(&mut self, nodes: &[Node], state: &mut State) -> bool {
        for node in nodes {
            match node {
                Node::Event(event) => {
                    if !self.event(event, state) {
                        return false;
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

    fn held(&self, state: &State, except: Option<Slot>) -> Vec<HeldLock> {
        state
            .iter()
            .filter(|(slot, slot_state)| **slot_state == SlotState::Owned && Some(**slot) != except)
            .filter_map(|(slot, _)| match self.content(*slot) {
                Some(Content::Guard(lock)) => Some(HeldLock {
                    slot: *slot,
                    lock: *lock,
                }),
                _ => None,
            })
            .collect()
    }

    /// Applies one event; false when the path ends.
    fn event(&mut self, event: &Event, state: &mut State) -> bool {
        match event {
            Event::Bind(slot) => {
                if self.content(*slot).is_some() {
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
            Event::Assign { target, span, .. } => self.assignment(*target, *span, state),
            Event::Call(call) => self.call(*call, state),
            Event::Exit { .. } => return false,
            Event::Closure(_) => {}
        }
        true
    }

    fn run_drop(&mut self, slot: Slot, span: Span, reason: Option<ReleaseReason>, state: &State) {
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
        let held = self.held(state, Some(slot));
        if held.is_empty() {
            return;
        }
        self.runs.push(DeferredRun {
            function: self.function,
            owner: self.owner,
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
    fn assignment(&mut self, target: crate::model::facts::ValueId, span: Span, state: &mut State) {
        let body = self.program.body(self.owner);
        if let Value::Local(local) = body.value(target) {
            let slot = Slot::Local(*local);
            if state.get(&slot) == Some(&SlotState::Owned) {
                self.run_drop(slot, span, Some(ReleaseReason::Overwritten), state);
            }
            return;
        }
        let ty = self.program.value_ty(self.owner, target);
        if let Some((_, value_ty)) = self.program.types.map(ty) {
            self.map_values_dropped(value_ty, span, span, state);
        }
    }

    fn call(&mut self, call: crate::model::facts::CallId, state: &State) {
        let target = self.program.call_target(self.owner, call);
        let CallTarget::Lib(LibCall::Map {
            kind: MapOpKind::WriteDroppingValues,
            ..
        }) = target
        else {
            return;
        };
        let body = self.program.body(self.owner);
        let fact = body.call(call);
        let Callee::Method { receiver, .. } = &fact.callee else {
            return;
        };
        let ty = self.program.value_ty(self.owner, *receiver);
        if let Some((_, value_ty)) = self.program.types.map(ty) {
            self.map_values_dropped(value_ty, fact.tail_span, fact.span, state);
        }
    }

    fn map_values_dropped(
        &mut self,
        value_ty: crate::model::types::TyId,
        span: Span,
        origin: Span,
        state: &State,
    ) {
        let runs = self.glue.glue(self.program, value_ty, true);
        if runs.is_empty() {
            return;
        }
        let held = self.held(state, None);
        if held.is_empty() {
            return;
        }
        self.runs.push(DeferredRun {
            function: self.function,
            owner: self.owner,
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
