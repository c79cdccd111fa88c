//! Deferred code: `Drop::drop` bodies, defer-macro bodies and scopeguard closures, and every
//! function they reach (calls, closures, implicit drops), with the roots each one runs under.

use std::collections::BTreeMap;

use crate::graph::calls::{CallGraph, DeferSiteId};
use crate::model::Program;
use crate::model::modules::FunctionId;
use crate::model::types::AdtId;

/// Where deferred code starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeferredRoot {
    /// `impl Drop for T`.
    Drop(AdtId, FunctionId),
    /// A `defer!` body or a scopeguard closure.
    Guard(DeferSiteId, FunctionId),
}

impl DeferredRoot {
    pub fn function(self) -> FunctionId {
        match self {
            DeferredRoot::Drop(_, function) | DeferredRoot::Guard(_, function) => function,
        }
    }
}

/// Which functions are deferred code, and under which roots.
#[derive(Debug, Default)]
pub struct Deferred {
    roots_of: BTreeMap<FunctionId, Vec<DeferredRoot>>,
}

/// At most this many roots are remembered per function (enough to explain a finding).
const ROOTS_KEPT: usize = 4;

impl Deferred {
    pub fn compute(program: &Program, calls: &CallGraph) -> Deferred {
        let mut roots = Vec::new();
        for (index, adt) in program.adts.iter().enumerate() {
            if let Some(drop_fn) = adt.drop_fn {
                roots.push(DeferredRoot::Drop(AdtId(index as u32), drop_fn));
            }
        }
        for (index, site) in calls.defer_sites.iter().enumerate() {
            roots.push(DeferredRoot::Guard(DeferSiteId(index as u32), site.body));
        }
        let mut deferred = Deferred::default();
        for root in roots {
            for function in calls.reachable_in_task(&[root.function()]) {
                let entry = deferred.roots_of.entry(function).or_default();
                if entry.len() < ROOTS_KEPT && !entry.contains(&root) {
                    entry.push(root);
                }
            }
        }
        deferred
    }

    /// The roots under which a function runs as deferred code; empty when it is not deferred.
    pub fn roots_of(&self, function: FunctionId) -> &[DeferredRoot] {
        self.roots_of
            .get(&function)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn is_deferred(&self, function: FunctionId) -> bool {
        self.roots_of.contains_key(&function)
    }

    pub fn functions(&self) -> impl Iterator<Item = FunctionId> + '_ {
        self.roots_of.keys().copied()
    }
}
