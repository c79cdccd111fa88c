//! The texts of the files that have findings, read again at render time, and the mapping from
//! raw byte offsets to lines and character columns that every renderer shares.

use std::collections::BTreeMap;

use crate::driver::Finding;
use crate::source::{FileId, LineColumn, LineIndex, SourceMap, Span};

const BYTE_ORDER_MARK: &str = "\u{feff}";

/// One file's text without its byte-order mark, with its line index.
///
/// Spans are offsets into the file as it is on disk, byte-order mark included, while rustc and
/// editors count columns without the mark; keeping the mark's length apart lets every renderer
/// translate the same way.
#[derive(Debug)]
pub(crate) struct FileText {
    body: String,
    byte_order_mark_len: u32,
    index: LineIndex,
}

impl FileText {
    pub(crate) fn new(mut text: String) -> FileText {
        let byte_order_mark_len = if text.starts_with(BYTE_ORDER_MARK) {
            text.drain(..BYTE_ORDER_MARK.len());
            BYTE_ORDER_MARK.len() as u32
        } else {
            0
        };
        let index = LineIndex::new(&text);
        FileText {
            body: text,
            byte_order_mark_len,
            index,
        }
    }

    /// The text without the byte-order mark.
    pub(crate) fn body(&self) -> &str {
        &self.body
    }

    /// The offset into [`FileText::body`] of a raw file offset, clamped to the text and moved
    /// back to a character boundary, so that a stale or odd span can never make slicing panic.
    pub(crate) fn body_offset(&self, raw_offset: u32) -> usize {
        let mut offset =
            (raw_offset.saturating_sub(self.byte_order_mark_len) as usize).min(self.body.len());
        while !self.body.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// The body range of a span; the end is moved forward to a character boundary so that a
    /// span ending inside a character still covers it.
    pub(crate) fn body_range(&self, span: Span) -> std::ops::Range<usize> {
        let start = self.body_offset(span.lo);
        let mut end = (span.hi.saturating_sub(self.byte_order_mark_len) as usize)
            .min(self.body.len())
            .max(start);
        while !self.body.is_char_boundary(end) {
            end += 1;
        }
        start..end
    }

    /// The 1-based line and character column of a raw file offset.
    pub(crate) fn locate(&self, raw_offset: u32) -> LineColumn {
        self.index
            .line_column(&self.body, self.body_offset(raw_offset) as u32)
    }

    /// The text of a 1-based line without its terminator.
    pub(crate) fn line_text(&self, line: u32) -> &str {
        let line = (line as usize)
            .saturating_sub(1)
            .min(self.index.line_count() - 1);
        self.index.line_text(&self.body, line)
    }

    /// The source text a span covers.
    pub(crate) fn snippet(&self, span: Span) -> &str {
        &self.body[self.body_range(span)]
    }
}

/// The texts of the files a set of findings points into. A file that cannot be read again (it
/// was deleted or is not UTF-8) keeps the reason, and renderers show the finding without code.
#[derive(Debug, Default)]
pub(crate) struct SourceTexts {
    texts: BTreeMap<FileId, Result<FileText, String>>,
}

impl SourceTexts {
    /// Reads every file that a primary label, a secondary label or an edit of `findings` is in.
    pub(crate) fn load(sources: &SourceMap, findings: &[Finding]) -> SourceTexts {
        let mut texts = BTreeMap::new();
        for finding in findings {
            for file in files_of(&finding.diagnostic) {
                texts.entry(file).or_insert_with(|| {
                    sources
                        .get(file)
                        .read_text()
                        .map(FileText::new)
                        .map_err(|error| error.to_string())
                });
            }
        }
        SourceTexts { texts }
    }

    /// The text of `file`, or why it could not be read.
    pub(crate) fn get(&self, file: FileId) -> Result<&FileText, &str> {
        match self.texts.get(&file) {
            Some(Ok(text)) => Ok(text),
            Some(Err(reason)) => Err(reason),
            None => Err("the file was not loaded"),
        }
    }

    pub(crate) fn readable(&self) -> impl Iterator<Item = (FileId, &FileText)> {
        self.texts
            .iter()
            .filter_map(|(&file, text)| text.as_ref().ok().map(|text| (file, text)))
    }
}

fn files_of(diagnostic: &crate::diagnostic::Diagnostic) -> impl Iterator<Item = FileId> + '_ {
    let labels = std::iter::once(&diagnostic.primary)
        .chain(&diagnostic.secondary)
        .map(|label| label.span.file);
    let edits = diagnostic
        .helps
        .iter()
        .filter_map(|help| help.suggestion.as_ref())
        .flat_map(|suggestion| suggestion.edits.iter().map(|edit| edit.span.file));
    labels.chain(edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_mark_is_not_a_column_and_crlf_is_not_text() {
        let text = FileText::new("\u{feff}é x\r\nyz\r\n".to_string());
        let x = "\u{feff}é ".len() as u32;
        assert_eq!(text.locate(x), LineColumn { line: 1, column: 3 });
        assert_eq!(text.locate(0), LineColumn { line: 1, column: 1 });
        let y = "\u{feff}é x\r\n".len() as u32;
        assert_eq!(text.locate(y), LineColumn { line: 2, column: 1 });
        assert_eq!(text.line_text(1), "é x");
        assert_eq!(text.line_text(2), "yz");
        assert_eq!(text.snippet(Span::new(FileId(0), x, x + 1)), "x");
    }

    #[test]
    fn spans_past_the_end_or_inside_a_character_are_clamped() {
        let text = FileText::new("aé".to_string());
        assert_eq!(text.body_range(Span::new(FileId(0), 2, 2)), 1..3);
        assert_eq!(text.body_range(Span::new(FileId(0), 1, 99)), 1..3);
        assert_eq!(text.locate(99), LineColumn { line: 1, column: 3 });
    }
}
