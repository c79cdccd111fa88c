//! Source files, byte spans and the mapping from byte offsets to lines and character columns.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one file. Offsets are into the file's bytes as read from disk (a byte-order
/// mark included), so they stay valid for every renderer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub lo: u32,
    pub hi: u32,
}

impl Span {
    pub fn new(file: FileId, lo: u32, hi: u32) -> Span {
        Span {
            file,
            lo,
            hi: hi.max(lo),
        }
    }

    /// The smallest span covering both, when they are in the same file.
    pub fn to(self, other: Span) -> Span {
        if self.file != other.file {
            return self;
        }
        Span {
            file: self.file,
            lo: self.lo.min(other.lo),
            hi: self.hi.max(other.hi),
        }
    }

    pub fn is_empty(self) -> bool {
        self.lo == self.hi
    }
}

/// The language a file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Language {
    Rust,
    Go,
}

impl Language {
    /// The language of a source file, by its extension (`.rs`, `.go`).
    pub fn of_path(path: &std::path::Path) -> Option<Language> {
        match path.extension()?.to_str()? {
            "rs" => Some(Language::Rust),
            "go" => Some(Language::Go),
            _ => None,
        }
    }
}

/// One file known to the run: where it is, and how to show its name.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path used to read the file.
    pub path: PathBuf,
    /// The name shown to users: relative to the workspace or the folder given on the command
    /// line, with `/` separators.
    pub display_name: String,
    pub language: Language,
    /// The file's bytes when they were given rather than read from disk
    /// ([`SourceMap::add_in_memory`]).
    in_memory: Option<Arc<[u8]>>,
}

impl SourceFile {
    /// The file's bytes, read from disk unless they were given.
    pub fn read(&self) -> std::io::Result<Cow<'_, [u8]>> {
        match &self.in_memory {
            Some(bytes) => Ok(Cow::Borrowed(bytes)),
            None => std::fs::read(&self.path).map(Cow::Owned),
        }
    }

    /// The file's text, as [`read_source`] reads it.
    pub fn read_text(&self) -> std::io::Result<String> {
        match &self.in_memory {
            Some(bytes) => text_of(bytes.to_vec()),
            None => read_source(&self.path),
        }
    }

    /// A Go test file (`_test.go`): all its code is test code.
    pub fn is_go_test(&self) -> bool {
        self.language == Language::Go
            && self
                .path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.ends_with("_test.go"))
    }
}

/// Every file of a run, by [`FileId`]. Texts are not kept here: renderers read the few files
/// that have findings again, so memory stays proportional to the facts.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, path: PathBuf, display_name: String, language: Language) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).expect("fewer than 2^32 files"));
        self.files.push(SourceFile {
            path,
            display_name,
            language,
            in_memory: None,
        });
        id
    }

    /// Adds a file whose bytes are given instead of read from disk, named `display_name`: for
    /// fuzzing and tests, which run the whole pipeline, renderers included, without a file
    /// system.
    pub fn add_in_memory(
        &mut self,
        display_name: String,
        language: Language,
        bytes: Vec<u8>,
    ) -> FileId {
        let id = self.add(PathBuf::from(&display_name), display_name, language);
        self.files[id.0 as usize].in_memory = Some(bytes.into());
        id
    }

    pub fn get(&self, file: FileId) -> &SourceFile {
        &self.files[file.0 as usize]
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(index, file)| (FileId(index as u32), file))
    }
}

/// Reads a source file as text. Invalid UTF-8 sequences are replaced, which keeps the byte
/// length of valid parts; callers that need exact offsets for such files report them as
/// unreadable instead.
pub fn read_source(path: &Path) -> std::io::Result<String> {
    text_of(std::fs::read(path)?)
}

fn text_of(bytes: Vec<u8>) -> std::io::Result<String> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(error) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the file is not valid UTF-8 (invalid byte at offset {})",
                error.utf8_error().valid_up_to()
            ),
        )),
    }
}

/// A 1-based line and a 1-based column counted in Unicode scalar values, as rustc reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineColumn {
    pub line: u32,
    pub column: u32,
}

/// Line starts of one text, to turn byte offsets into lines and character columns.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        for (offset, byte) in text.bytes().enumerate() {
            if byte == b'\n' {
                line_starts.push(offset as u32 + 1);
            }
        }
        LineIndex { line_starts }
    }

    /// 0-based line index containing `offset`.
    pub fn line_of(&self, offset: u32) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    pub fn line_start(&self, line: usize) -> u32 {
        self.line_starts[line]
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Line and character column of a byte offset. An offset inside a multi-byte character
    /// counts as that character.
    pub fn line_column(&self, text: &str, offset: u32) -> LineColumn {
        let offset = (offset as usize).min(text.len());
        let line = self.line_of(offset as u32);
        let start = self.line_starts[line] as usize;
        let mut end = offset;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let column = text[start..end].chars().count() as u32 + 1;
        LineColumn {
            line: line as u32 + 1,
            column,
        }
    }

    /// The text of a 0-based line without its line terminator (`\n` or `\r\n`).
    pub fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let start = self.line_starts[line] as usize;
        let end = self
            .line_starts
            .get(line + 1)
            .map(|&next| next as usize)
            .unwrap_or(text.len());
        let line_text = &text[start.min(text.len())..end.min(text.len())];
        line_text
            .strip_suffix('\n')
            .map(|rest| rest.strip_suffix('\r').unwrap_or(rest))
            .unwrap_or(line_text)
    }
}

/// A path under `root`, relative to it with `/` separators.
pub fn relative_to(path: &Path, root: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_and_lines_start_at_one() {
        let text = "ab\r\nçé x\n";
        let index = LineIndex::new(text);
        assert_eq!(
            index.line_column(text, 0),
            LineColumn { line: 1, column: 1 }
        );
        let x = text.find('x').unwrap() as u32;
        assert_eq!(
            index.line_column(text, x),
            LineColumn { line: 2, column: 4 }
        );
        assert_eq!(index.line_text(text, 0), "ab");
        assert_eq!(index.line_text(text, 1), "çé x");
    }

    #[test]
    fn files_in_memory_are_read_from_memory() {
        let mut sources = SourceMap::new();
        let text = sources.add_in_memory("src/a.rs".into(), Language::Rust, b"fn a() {}".to_vec());
        let latin1 = sources.add_in_memory("b.go".into(), Language::Go, b"caf\xe9".to_vec());
        assert_eq!(sources.get(text).read().unwrap().as_ref(), b"fn a() {}");
        assert_eq!(sources.get(text).read_text().unwrap(), "fn a() {}");
        assert_eq!(sources.get(text).path, Path::new("src/a.rs"));
        let error = sources.get(latin1).read_text().unwrap_err().to_string();
        assert!(error.contains("offset 3"), "{error}");
    }
}
