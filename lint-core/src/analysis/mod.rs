//! Analyses over the program model and its graphs: lock acquisitions, slot contents, deferred
//! code, task instances, and the lock state when deferred code runs.

pub mod deferred;
pub mod effects;
pub mod go_nil;
pub mod go_private;
pub mod go_races;
pub mod go_state;
pub mod index;
pub mod lock_state;
pub mod locks;
pub mod loops;
pub mod sharing;
pub mod slots;
pub mod tasks;

use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;

use crate::graph::alias::Aliases;
use crate::graph::calls::{CallGraph, DropGlue};
use crate::graph::points_to::PointsTo;
use crate::model::Program;
use crate::model::modules::FunctionId;
use deferred::Deferred;
use index::BodyIndex;
use lock_state::LockState;
use locks::{LockOpId, LockOps};
use slots::SlotContents;
use tasks::Tasks;

/// A shared, sorted set of lock acquisitions.
pub type LockSet = std::rc::Rc<[LockOpId]>;

/// Every analysis result the rules read.
#[derive(Debug)]
pub struct Analyses {
    pub aliases: Aliases,
    pub points_to: PointsTo,
    pub glue: DropGlue,
    pub calls: CallGraph,
    pub indexes: Vec<BodyIndex>,
    pub locks: LockOps,
    pub slots: SlotContents,
    pub deferred: Deferred,
    pub tasks: Tasks,
    pub lock_state: LockState,
    /// Go's lock state and map accesses (empty for Rust).
    pub go: go_state::GoState,
    /// Go's map races (empty for Rust).
    pub go_races: go_races::GoRaces,
    reached_locks: RefCell<HashMap<(FunctionId, u32), LockSet>>,
}

impl Analyses {
    pub fn compute(program: &Program) -> Analyses {
        let aliases = Aliases::compute(program);
        let points_to = if needs_points_to(program) {
            PointsTo::compute(program)
        } else {
            PointsTo::default()
        };
        let glue = DropGlue::default();
        let calls = CallGraph::build(program, &glue, &points_to);
        let indexes: Vec<BodyIndex> = program
            .bodies
            .iter()
            .map(|info| {
                let body = &program.files[info.file as usize].facts.bodies[info.idx.index()];
                match program.language {
                    crate::source::Language::Rust => BodyIndex::build(body),
                    crate::source::Language::Go => BodyIndex::calls_only(body),
                }
            })
            .collect();
        let lock_classes = crate::graph::alias::LockClasses::compute(
            program,
            &points_to,
            &locks::lock_receivers(program),
        );
        let identity = locks::LockIdentity {
            program,
            aliases: &aliases,
            points_to: &points_to,
            classes: &lock_classes,
        };
        let locks = LockOps::compute(program, &identity, &indexes);
        // What locals hold (guards, defer guards, values with drop glue) is Rust's drop model.
        let slots = match program.language {
            crate::source::Language::Rust => {
                SlotContents::compute(program, &indexes, &locks, &glue, &calls.defer_sites)
            }
            crate::source::Language::Go => SlotContents::default(),
        };
        let deferred = Deferred::compute(program, &calls);
        let tasks = Tasks::compute(program, &calls, &aliases);
        let (lock_state, go) = match program.language {
            crate::source::Language::Rust => (
                LockState::compute(program, &slots, &locks, &glue, &calls),
                go_state::GoState::default(),
            ),
            crate::source::Language::Go => (
                LockState::default(),
                go_state::GoState::compute(
                    program, &points_to, &identity, &aliases, &calls, &locks, &deferred,
                ),
            ),
        };
        let mut go = go;
        if program.language == crate::source::Language::Go {
            go.nil_writes
                .extend(go_nil::nil_writes(program, &points_to, &go));
        }
        let go_races = match program.language {
            crate::source::Language::Go => {
                let loops = loops::Loops::compute(program);
                go_races::GoRaces::compute(program, &points_to, &calls, &tasks, &go, &loops)
            }
            crate::source::Language::Rust => go_races::GoRaces::default(),
        };
        Analyses {
            aliases,
            points_to,
            glue,
            calls,
            indexes,
            locks,
            slots,
            deferred,
            tasks,
            lock_state,
            go,
            go_races,
            reached_locks: RefCell::default(),
        }
    }

    /// Every lock acquisition in the code a function runs within `max_depth` calls (its own
    /// code at depth 0), callees included, spawned tasks not.
    pub fn locks_reached(&self, function: FunctionId, max_depth: u32) -> std::rc::Rc<[LockOpId]> {
        if let Some(found) = self.reached_locks.borrow().get(&(function, max_depth)) {
            return found.clone();
        }
        let mut reached: Vec<LockOpId> = Vec::new();
        for (callee, depth, _) in self.calls.shortest_paths_in_task(function) {
            if depth <= max_depth {
                reached.extend_from_slice(self.locks.in_function(callee));
            }
        }
        reached.sort();
        reached.dedup();
        let reached: std::rc::Rc<[LockOpId]> = reached.into();
        self.reached_locks
            .borrow_mut()
            .insert((function, max_depth), reached.clone());
        reached
    }
}

/// The points-to analysis resolves the calls through values and interfaces that every Go rule
/// follows, and decides who shares which object. (Rust still uses the unification-based
/// capture graph.)
fn needs_points_to(program: &Program) -> bool {
    program.language == crate::source::Language::Go
}
