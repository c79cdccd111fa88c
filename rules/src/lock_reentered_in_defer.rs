//! `lock-reentered-in-defer`.

use deferlint_core::diagnostic::Diagnostic;

use crate::Context;

crate::declare_rule! {
    /// ### What it does
    /// TODO
    pub static LOCK_REENTERED_IN_DEFER = {
        name: "lock-reentered-in-defer",
        category: Suspicious,
        languages: [Rust],
        summary: "todo",
    };
}

pub fn check(_context: &Context<'_>) -> Vec<Diagnostic> {
    Vec::new()
}
