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

/// How a function is reached from a deferred root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reach {
    pub root: DeferredRoot,
    /// Calls between the root and the function: 0 for the root itself.
    pub depth: u32,
    /// The function that calls this one on a shortest path from the root.
    pub caller: Option<FunctionId>,
}

/// Which functions are deferred code, and under which roots.
#[derive(Debug, Default)]
pub struct Deferred {
    reaches: BTreeMap<FunctionId, Vec<Reach>>,
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
            for (function, depth, caller) in calls.shortest_paths_in_task(root.function()) {
                let entry = deferred.reaches.entry(function).or_default();
                if entry.iter().any(|reach| reach.root == root) {
                    continue;
                }
                entry.push(Reach {
                    root,
                    depth,
                    caller,
                });
                entry.sort_by_key(|reach| (reach.depth, reach.root));
                entry.truncate(ROOTS_KEPT);
            }
        }
        deferred
    }

    /// How a function is reached as deferred code, shallowest first; empty when it is not
    /// deferred code.
    pub fn reaches(&self, function: FunctionId) -> &[Reach] {
        self.reaches
            .get(&function)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The roots under which a function runs as deferred code, shallowest first.
    pub fn roots_of(&self, function: FunctionId) -> Vec<DeferredRoot> {
        self.reaches(function)
            .iter()
            .map(|reach| reach.root)
            .collect()
    }

    pub fn is_deferred(&self, function: FunctionId) -> bool {
        self.reaches.contains_key(&function)
    }

    pub fn functions(&self) -> impl Iterator<Item = FunctionId> + '_ {
        self.reaches.keys().copied()
    }

    /// The functions from the root down to `function` on a shortest path.
    pub fn path(&self, function: FunctionId, root: DeferredRoot) -> Vec<FunctionId> {
        let mut path = vec![function];
        let mut current = function;
        while let Some(reach) = self
            .reaches(current)
            .iter()
            .find(|reach| reach.root == root)
        {
            match reach.caller {
                Some(caller) if !path.contains(&caller) => {
                    path.push(caller);
                    current = caller;
                }
                _ => break,
            }
        }
        path.reverse();
        path
    }
}
