//! Renderers: one file per output format. Only renderers know output formats.
//!
//! Every renderer takes the findings and the [`crate::source::SourceMap`], reads again the few
//! files that have findings, and returns the whole output as a `String`; printing is the
//! caller's business.

pub mod github;
pub mod human;
pub mod json;
mod long_lines;
pub mod sarif;
pub mod short;
mod texts;

#[cfg(test)]
pub(crate) mod test_support;

/// A diagnostic's notes and helps as `\nnote: ..` and `\nhelp: ..` lines, for the formats that
/// carry one plain-text message (SARIF, GitHub annotations).
pub(crate) fn notes_and_helps(diagnostic: &crate::diagnostic::Diagnostic) -> String {
    let mut lines = String::new();
    for note in &diagnostic.notes {
        lines.push_str(&format!("\nnote: {note}"));
    }
    for help in &diagnostic.helps {
        lines.push_str(&format!("\nhelp: {}", help.message));
    }
    lines
}
