//! Loop nesting as a path: every loop of a function gets an id, and every value, call and
//! local of the function the innermost loop it is evaluated (or declared) in. A value made in
//! loop L is made again at every iteration of L, so two tasks started in different iterations
//! of L (or of a loop inside L) see different objects, while tasks started by a loop nested in
//! L within one iteration of L share it.

use crate::model::facts::{CallId, Event, LocalId, Node, Slot, Value, ValueId};
use crate::model::modules::FunctionId;
use crate::model::{BodyId, Program};

/// A loop of an arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LoopId(pub u32);

/// The loops of one arena and where its values, calls and locals sit.
#[derive(Debug, Default)]
struct ArenaLoops {
    /// The loop each loop is nested in, within the same function.
    parent: Vec<Option<LoopId>>,
    /// The function whose code holds each loop.
    function: Vec<FunctionId>,
    value: Vec<Option<LoopId>>,
    call: Vec<Option<LoopId>>,
    local: Vec<Option<LoopId>>,
}

/// Loop positions of every arena of a program.
#[derive(Debug, Default)]
pub struct Loops {
    arenas: Vec<ArenaLoops>,
}

impl Loops {
    pub fn compute(program: &Program) -> Loops {
        let mut arenas: Vec<ArenaLoops> = (0..program.bodies.len())
            .map(|_| ArenaLoops::default())
            .collect();
        for id in program.function_ids() {
            if program.function(id).owner == id {
                let body = program.body(id);
                let arena = &mut arenas[program.function(id).body.0 as usize];
                arena.value = vec![None; body.values.len()];
                arena.call = vec![None; body.calls.len()];
                arena.local = vec![None; body.locals.len()];
            }
        }
        for id in program.function_ids() {
            let function = program.function(id);
            let arena = &mut arenas[function.body.0 as usize];
            let body = program.body(id);
            let mut walker = Walker {
                body,
                arena,
                function: id,
                marked: vec![false; body.values.len()],
                call_values: call_values(body),
            };
            walker.walk(&program.fact(id).nodes, None);
        }
        Loops { arenas }
    }

    /// The innermost loop a value is evaluated in, within its function.
    pub fn of_value(&self, body: BodyId, value: ValueId) -> Option<LoopId> {
        self.arenas
            .get(body.0 as usize)?
            .value
            .get(value.index())
            .copied()
            .flatten()
    }

    /// The innermost loop a call is made in, within its function.
    pub fn of_call(&self, body: BodyId, call: CallId) -> Option<LoopId> {
        self.arenas
            .get(body.0 as usize)?
            .call
            .get(call.index())
            .copied()
            .flatten()
    }

    /// The innermost loop a local is declared in, within its function.
    pub fn of_local(&self, body: BodyId, local: LocalId) -> Option<LoopId> {
        self.arenas
            .get(body.0 as usize)?
            .local
            .get(local.index())
            .copied()
            .flatten()
    }

    /// `inner` is `outer` or nested in it.
    pub fn is_within(&self, body: BodyId, inner: Option<LoopId>, outer: LoopId) -> bool {
        let Some(arena) = self.arenas.get(body.0 as usize) else {
            return false;
        };
        let mut current = inner;
        while let Some(found) = current {
            if found == outer {
                return true;
            }
            current = arena.parent.get(found.0 as usize).copied().flatten();
        }
        false
    }

    /// The function whose code holds a loop.
    pub fn function_of(&self, body: BodyId, id: LoopId) -> Option<FunctionId> {
        self.arenas
            .get(body.0 as usize)?
            .function
            .get(id.0 as usize)
            .copied()
    }
}

/// Which value each call produces.
fn call_values(body: &crate::model::facts::Body) -> Vec<Option<ValueId>> {
    let mut out = vec![None; body.calls.len()];
    for (index, value) in body.values.iter().enumerate() {
        if let Value::Call(call) = value {
            out[call.index()] = Some(ValueId::from_index(index));
        }
    }
    out
}

struct Walker<'a> {
    body: &'a crate::model::facts::Body,
    arena: &'a mut ArenaLoops,
    function: FunctionId,
    marked: Vec<bool>,
    call_values: Vec<Option<ValueId>>,
}

impl Walker<'_> {
    fn walk(&mut self, nodes: &[Node], current: Option<LoopId>) {
        for node in nodes {
            match node {
                Node::Event(event) => self.event(event, current),
                Node::Branch(arms) => {
                    for arm in arms {
                        self.walk(arm, current);
                    }
                }
                Node::Loop(inner) => {
                    let id = LoopId(self.arena.parent.len() as u32);
                    self.arena.parent.push(current);
                    self.arena.function.push(self.function);
                    self.walk(inner, Some(id));
                }
            }
        }
    }

    fn event(&mut self, event: &Event, current: Option<LoopId>) {
        match event {
            Event::Call(call) => {
                self.arena.call[call.index()] = current;
                if let Some(value) = self.call_values[call.index()] {
                    self.mark(value, current);
                }
            }
            Event::Bind(Slot::Local(local)) => {
                self.arena.local[local.index()] = current;
                if let Some(init) = self.body.local(*local).init {
                    self.mark(init, current);
                }
            }
            Event::Assign { target, value, .. } => {
                self.mark(*target, current);
                self.mark(*value, current);
            }
            Event::Read { value, .. } | Event::NonNil { value } => self.mark(*value, current),
            _ => {}
        }
    }

    /// A value and the values it is computed from are evaluated here, unless an earlier event
    /// already placed them.
    fn mark(&mut self, value: ValueId, current: Option<LoopId>) {
        let mut pending = vec![value];
        while let Some(value) = pending.pop() {
            if std::mem::replace(&mut self.marked[value.index()], true) {
                continue;
            }
            self.arena.value[value.index()] = current;
            match self.body.value(value) {
                Value::Field { base: inner, .. }
                | Value::Index { base: inner }
                | Value::Deref(inner)
                | Value::Ref { inner, .. }
                | Value::RawRef { inner, .. }
                | Value::Cast { inner, .. }
                | Value::Try(inner)
                | Value::Await(inner)
                | Value::Payload { of: inner, .. }
                | Value::Element(inner) => pending.push(*inner),
                Value::Struct { fields, rest, .. } => {
                    pending.extend(fields.iter().map(|(_, value)| *value));
                    pending.extend(rest.iter().copied());
                }
                Value::Tuple(values) | Value::Array(values) | Value::Either(values) => {
                    pending.extend(values.iter().copied())
                }
                Value::Call(call) => {
                    let fact = self.body.call(*call);
                    pending.extend(fact.args.iter().copied());
                    if let crate::model::facts::Callee::Method { receiver, .. } = &fact.callee {
                        pending.push(*receiver);
                    }
                }
                _ => {}
            }
        }
    }
}
