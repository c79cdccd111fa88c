//! `poisoned-lock-unwrap-in-defer`.

use deferlint_core::diagnostic::Diagnostic;

use crate::Context;

crate::declare_rule! {
    /// ### What it does
    /// TODO
    pub static POISONED_LOCK_UNWRAP_IN_DEFER = {
        name: "poisoned-lock-unwrap-in-defer",
        category: Suspicious,
        languages: [Rust],
        summary: "todo",
    };
}

pub fn check(_context: &Context<'_>) -> Vec<Diagnostic> {
    Vec::new()
}
