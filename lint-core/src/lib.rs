//! deferlint's engine: reads sources into language-neutral facts, builds the program model and
//! its graphs, runs the analyses the rules read, and renders diagnostics.

pub mod analysis;
pub mod baseline;
pub mod diagnostic;
pub mod driver;
pub mod fix;
pub mod frontend;
pub mod graph;
pub mod model;
pub mod render;
pub mod source;
pub mod suppress;
pub mod unit;

pub use diagnostic::{Applicability, Diagnostic, Edit, Help, Label, Level, Severity, Suggestion};
pub use driver::{Finding, RunOutput};
pub use source::{FileId, Language, SourceMap, Span};
pub use unit::{CrateInput, Edition, TargetKind, TargetRoot};
