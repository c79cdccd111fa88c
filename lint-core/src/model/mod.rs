//! The program model: one crate's (or Go package's) facts with names resolved.

pub mod facts;

use crate::driver::CrateInput;
use crate::source::{FileId, Language, SourceMap};
use facts::FileFacts;

/// One analysed unit.
#[derive(Debug)]
pub struct Program {
    pub language: Language,
    pub name: String,
}

impl Program {
    pub fn build(_sources: &SourceMap, input: &CrateInput, _files: Vec<(FileId, FileFacts)>) -> Program {
        Program { language: input.language, name: input.name.clone() }
    }

    /// The index of a target of the unit whose module tree holds `file`.
    pub fn target_of_file(&self, _file: FileId) -> Option<usize> {
        None
    }
}
