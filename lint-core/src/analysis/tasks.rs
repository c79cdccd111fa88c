//! Task instances: what each spawn site runs, and which objects the code of each task touches,
//! so that a rule can ask whether an object is shared with a spawned task and by how many
//! concurrent parties.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap as HashMap;

use crate::graph::alias::{Aliases, ClassId};
use crate::graph::calls::{CallGraph, SpawnSiteId};
use crate::model::Program;
use crate::model::modules::FunctionId;

/// For every function, the spawn sites whose tasks run it; for every object, the functions
/// whose code touches it.
#[derive(Debug, Default)]
pub struct Tasks {
    sites_running: HashMap<FunctionId, Vec<SpawnSiteId>>,
    touching: HashMap<ClassId, Vec<FunctionId>>,
}

impl Tasks {
    pub fn compute(program: &Program, calls: &CallGraph, aliases: &Aliases) -> Tasks {
        let mut tasks = Tasks::default();
        for (index, site) in calls.spawn_sites.iter().enumerate() {
            if site.bodies.is_empty() {
                continue;
            }
            for function in calls.reachable_in_task(&site.bodies) {
                tasks
                    .sites_running
                    .entry(function)
                    .or_default()
                    .push(SpawnSiteId(index as u32));
            }
        }
        let mut touching: HashMap<ClassId, BTreeSet<FunctionId>> = HashMap::default();
        for owner in program.function_ids() {
            if program.function(owner).owner != owner {
                continue;
            }
            let body_id = program.function(owner).body;
            let body = program.body(owner);
            let file = program.function(owner).file;
            for (value, class) in aliases.value_classes(body_id) {
                touching
                    .entry(class)
                    .or_default()
                    .insert(program.function_id(file, body.value_fn(value)));
            }
        }
        tasks.touching = touching
            .into_iter()
            .map(|(class, functions)| (class, functions.into_iter().collect()))
            .collect();
        tasks
    }

    /// The spawn sites whose tasks run a function.
    pub fn sites_running(&self, function: FunctionId) -> &[SpawnSiteId] {
        self.sites_running
            .get(&function)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The functions whose code touches an object.
    pub fn functions_touching(&self, class: ClassId) -> &[FunctionId] {
        self.touching.get(&class).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The spawn sites whose tasks touch an object, sorted.
    pub fn sites_touching(&self, class: ClassId) -> Vec<SpawnSiteId> {
        let mut sites: Vec<SpawnSiteId> = self
            .functions_touching(class)
            .iter()
            .flat_map(|&function| self.sites_running(function).iter().copied())
            .collect();
        sites.sort();
        sites.dedup();
        sites
    }
}
