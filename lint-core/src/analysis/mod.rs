//! Analyses over the program model and its graphs: task instances, shared objects, deferred
//! code and the lock state when deferred code runs.

use crate::model::Program;

/// Every analysis result the rules read.
#[derive(Debug, Default)]
pub struct Analyses {}

impl Analyses {
    pub fn compute(_program: &Program) -> Analyses {
        Analyses {}
    }
}
