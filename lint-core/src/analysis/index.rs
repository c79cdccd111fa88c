//! Per-body indexes the analyses share: the value each call produces, and who consumes each
//! value (a method receiver, `?`, `.await`, a pattern, a binding).

use crate::model::facts::{Body, CallId, Callee, LocalId, Sym, Value, ValueId};

/// How a value is used by another value or a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Consumer {
    Receiver(CallId),
    Argument(CallId, usize),
    Try(ValueId),
    Await(ValueId),
    Payload(ValueId, Sym),
    /// Another value built from it (a field, a deref, a reference...).
    Other(ValueId),
    /// The initializer of a local.
    Init(LocalId),
}

#[derive(Debug, Default)]
pub struct BodyIndex {
    /// For each call, the `Value::Call` that holds its result.
    pub call_value: Vec<Option<ValueId>>,
    pub consumers: Vec<Vec<Consumer>>,
    /// For each local, the values that read it.
    pub local_uses: Vec<Vec<ValueId>>,
}

impl BodyIndex {
    /// Only which value holds each call's result (Go: a lock's result needs no handling).
    pub fn calls_only(body: &Body) -> BodyIndex {
        let mut call_value = vec![None; body.calls.len()];
        for (position, value) in body.values.iter().enumerate() {
            if let Value::Call(call) = value {
                call_value[call.index()] = Some(ValueId::from_index(position));
            }
        }
        BodyIndex {
            call_value,
            consumers: vec![Vec::new(); body.values.len()],
            local_uses: vec![Vec::new(); body.locals.len()],
        }
    }

    pub fn build(body: &Body) -> BodyIndex {
        let mut index = BodyIndex {
            call_value: vec![None; body.calls.len()],
            consumers: vec![Vec::new(); body.values.len()],
            local_uses: vec![Vec::new(); body.locals.len()],
        };
        for (position, value) in body.values.iter().enumerate() {
            let id = ValueId::from_index(position);
            if let Value::Local(local) = value {
                index.local_uses[local.index()].push(id);
            }
            let mut push =
                |of: ValueId, consumer: Consumer| index.consumers[of.index()].push(consumer);
            match value {
                Value::Call(call) => index.call_value[call.index()] = Some(id),
                Value::Try(inner) => push(*inner, Consumer::Try(id)),
                Value::Await(inner) => push(*inner, Consumer::Await(id)),
                Value::Payload { of, constructor } => {
                    push(*of, Consumer::Payload(id, constructor.clone()))
                }
                Value::Field { base: inner, .. }
                | Value::Index { base: inner }
                | Value::Deref(inner)
                | Value::Ref { inner, .. }
                | Value::RawRef { inner, .. }
                | Value::Cast { inner, .. }
                | Value::Element(inner) => push(*inner, Consumer::Other(id)),
                Value::Either(values) | Value::Tuple(values) | Value::Array(values) => {
                    for value in values {
                        push(*value, Consumer::Other(id));
                    }
                }
                Value::Struct { fields, rest, .. } => {
                    for (_, value) in fields {
                        push(*value, Consumer::Other(id));
                    }
                    if let Some(rest) = rest {
                        push(*rest, Consumer::Other(id));
                    }
                }
                _ => {}
            }
        }
        for (position, call) in body.calls.iter().enumerate() {
            let id = CallId::from_index(position);
            if let Callee::Method { receiver, .. } = &call.callee {
                index.consumers[receiver.index()].push(Consumer::Receiver(id));
            }
            for (argument, value) in call.args.iter().enumerate() {
                index.consumers[value.index()].push(Consumer::Argument(id, argument));
            }
        }
        for (position, local) in body.locals.iter().enumerate() {
            if let Some(init) = local.init {
                index.consumers[init.index()].push(Consumer::Init(LocalId::from_index(position)));
            }
        }
        index
    }
}
