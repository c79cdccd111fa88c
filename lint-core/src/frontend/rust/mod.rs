//! The Rust frontend: syn parses a file, the lowering walks it once and keeps facts.

use crate::driver::Edition;
use crate::model::facts::FileFacts;
use crate::source::FileId;

/// Parses and lowers one Rust file.
pub fn lower_file(_file: FileId, text: &str, _edition: Edition) -> FileFacts {
    FileFacts { byte_len: text.len() as u32, ..FileFacts::default() }
}
