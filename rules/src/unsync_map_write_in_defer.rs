//! `unsync-map-write-in-defer`.

use deferlint_core::diagnostic::Diagnostic;

use crate::Context;

crate::declare_rule! {
    /// ### What it does
    /// TODO
    pub static UNSYNC_MAP_WRITE_IN_DEFER = {
        name: "unsync-map-write-in-defer",
        category: Suspicious,
        languages: [Rust],
        summary: "todo",
    };
}

pub fn check(_context: &Context<'_>) -> Vec<Diagnostic> {
    Vec::new()
}
