//! Renderers: one file per output format. Only renderers know output formats.
//!
//! Every renderer takes the findings and the [`crate::source::SourceMap`], reads again the few
//! files that have findings, and returns the whole output as a `String`; printing is the
//! caller's business.

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;
pub mod short;
mod texts;

#[cfg(test)]
pub(crate) mod test_support;
