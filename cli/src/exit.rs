//! The exit codes DESIGN.md promises.

use std::process::ExitCode;

/// How a run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Nothing at or above the failing level (warnings alone do not fail).
    Clean = 0,
    /// Findings at error severity.
    Findings = 1,
    /// A usage, configuration or I/O error, or an internal error.
    Error = 2,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}
