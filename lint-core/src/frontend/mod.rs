//! Frontends: each turns one source file into [`crate::model::facts::FileFacts`] and drops its
//! syntax tree. Only `frontend::rust` may use syn, quote and proc-macro2; only `frontend::go`
//! may use tree-sitter.

pub(crate) mod comments;
pub mod go;
pub mod nesting;
pub mod rust;
