//! Long source lines cut around a diagnostic's labels, as rustc cuts them: a minified or
//! generated line of 100,000 characters must not be printed whole for every finding on it.
//!
//! codespan-reporting draws whatever text it is given, so each diagnostic whose labels sit in a
//! file with long lines gets a view of that file in which every line longer than
//! [`MAX_LINE_CHARS`] keeps only the characters around the labels' ends, with `...` where text
//! was left out. Lines are never added or removed, so line numbers stay; the `-->` location is
//! computed from the original text, so its column stays too.

use std::ops::Range;

use codespan_reporting::files::{self, Files, SimpleFiles};

/// rustc's width when it does not know the terminal's.
pub(crate) const MAX_LINE_CHARS: usize = 140;

/// Characters kept on each side of a label's start and end on a cut line.
const CONTEXT_CHARS: usize = 40;

/// What stands for the text left out.
const ELLIPSIS: &str = "...";

/// Whether a text has a line that would be cut.
pub(crate) fn has_long_lines(text: &str) -> bool {
    text.split('\n')
        .any(|line| line.len() > MAX_LINE_CHARS && line.chars().count() > MAX_LINE_CHARS)
}

/// A file's text with its long lines cut, and the way back to the original offsets.
#[derive(Debug)]
pub(crate) struct CutText {
    text: String,
    line_starts: Vec<usize>,
    /// Kept runs of the original, in order: (start in `text`, start in the original, length).
    pieces: Vec<(usize, usize, usize)>,
}

impl CutText {
    /// Cuts the long lines of `original`, keeping the characters around every offset of
    /// `points` (the labels' starts and ends).
    pub(crate) fn new(original: &str, points: &[usize]) -> CutText {
        let mut text = String::with_capacity(original.len().min(64 * 1024));
        let mut pieces = Vec::new();
        let mut line_start = 0;
        while line_start <= original.len() {
            let line_end = original[line_start..]
                .find('\n')
                .map_or(original.len(), |end| line_start + end);
            // A `\r` before the `\n` is not text and stays with the line end.
            let content_end = if original[line_start..line_end].ends_with('\r') {
                line_end - 1
            } else {
                line_end
            };
            let content = &original[line_start..content_end];
            if content.len() <= MAX_LINE_CHARS || content.chars().count() <= MAX_LINE_CHARS {
                pieces.push((text.len(), line_start, content.len()));
                text.push_str(content);
            } else {
                let on_line: Vec<usize> = points
                    .iter()
                    .filter(|&&point| point >= line_start && point <= content_end)
                    .map(|&point| point - line_start)
                    .collect();
                let kept = windows(content, &on_line);
                let count = kept.len();
                for (index, window) in kept.into_iter().enumerate() {
                    if index > 0 || window.start > 0 {
                        text.push_str(ELLIPSIS);
                    }
                    pieces.push((text.len(), line_start + window.start, window.len()));
                    text.push_str(&content[window.clone()]);
                    if index + 1 == count && window.end < content.len() {
                        text.push_str(ELLIPSIS);
                    }
                }
            }
            // The line end, so that an offset there maps too.
            pieces.push((text.len(), content_end, line_end - content_end));
            text.push_str(&original[content_end..line_end]);
            if line_end == original.len() {
                break;
            }
            text.push('\n');
            line_start = line_end + 1;
        }
        let line_starts = files::line_starts(&text).collect();
        CutText {
            text,
            line_starts,
            pieces,
        }
    }

    /// The offset in the cut text of an original offset that was kept.
    pub(crate) fn to_cut(&self, original: usize) -> usize {
        self.pieces
            .iter()
            .find(|(_, start, len)| (*start..=start + len).contains(&original))
            .map_or(self.text.len(), |(cut, start, _)| cut + (original - start))
    }

    /// The original offset of an offset in the cut text.
    fn to_original(&self, cut: usize) -> Option<usize> {
        self.pieces
            .iter()
            .find(|(start, _, len)| (*start..=start + len).contains(&cut))
            .map(|(start, original, _)| original + (cut - start))
    }
}

/// The byte ranges of `content` to keep: [`CONTEXT_CHARS`] characters around each point,
/// merged where they meet; the first [`MAX_LINE_CHARS`] characters when no point is on it.
fn windows(content: &str, points: &[usize]) -> Vec<Range<usize>> {
    // Byte offset of every character boundary, so that windows count characters.
    let boundaries: Vec<usize> = content
        .char_indices()
        .map(|(offset, _)| offset)
        .chain([content.len()])
        .collect();
    let char_at = |offset: usize| boundaries.partition_point(|&boundary| boundary < offset);
    let last = boundaries.len() - 1;
    if points.is_empty() {
        let prefix_end = boundaries[MAX_LINE_CHARS.min(last)];
        return std::iter::once(0..prefix_end).collect();
    }
    let mut around: Vec<(usize, usize)> = points
        .iter()
        .map(|&point| {
            let at = char_at(point);
            (
                at.saturating_sub(CONTEXT_CHARS),
                (at + CONTEXT_CHARS).min(last),
            )
        })
        .collect();
    around.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (start, end) in around {
        match merged.last_mut() {
            // Windows closer than the ellipsis that would part them are one window.
            Some(previous) if start <= previous.1 + ELLIPSIS.len() => {
                previous.1 = previous.1.max(end);
            }
            _ => merged.push((start, end)),
        }
    }
    merged
        .into_iter()
        .map(|(start, end)| boundaries[start]..boundaries[end])
        .collect()
}

/// The files as codespan sees them for one diagnostic: the loaded texts, with the files that
/// have long lines replaced by their cut view.
pub(crate) struct DiagnosticFiles<'a> {
    pub(crate) base: &'a SimpleFiles<&'a str, &'a str>,
    /// Cut views by codespan file id.
    pub(crate) cut: Vec<(usize, CutText)>,
}

impl DiagnosticFiles<'_> {
    fn cut(&self, id: usize) -> Option<&CutText> {
        self.cut
            .iter()
            .find(|(file, _)| *file == id)
            .map(|(_, cut)| cut)
    }
}

impl<'a> Files<'a> for DiagnosticFiles<'a> {
    type FileId = usize;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: usize) -> Result<&'a str, files::Error> {
        self.base.name(id)
    }

    fn source(&'a self, id: usize) -> Result<&'a str, files::Error> {
        match self.cut(id) {
            Some(cut) => Ok(&cut.text),
            None => self.base.source(id),
        }
    }

    fn line_index(&'a self, id: usize, byte_index: usize) -> Result<usize, files::Error> {
        match self.cut(id) {
            Some(cut) => Ok(cut
                .line_starts
                .binary_search(&byte_index)
                .unwrap_or_else(|next| next - 1)),
            None => self.base.line_index(id, byte_index),
        }
    }

    fn line_range(&'a self, id: usize, line_index: usize) -> Result<Range<usize>, files::Error> {
        let Some(cut) = self.cut(id) else {
            return self.base.line_range(id, line_index);
        };
        let start = *cut
            .line_starts
            .get(line_index)
            .ok_or(files::Error::LineTooLarge {
                given: line_index,
                max: cut.line_starts.len() - 1,
            })?;
        let end = cut
            .line_starts
            .get(line_index + 1)
            .copied()
            .unwrap_or(cut.text.len());
        Ok(start..end)
    }

    /// The location of the original text, so that the `-->` line names the real column.
    fn location(&'a self, id: usize, byte_index: usize) -> Result<files::Location, files::Error> {
        let Some(original) = self.cut(id).and_then(|cut| cut.to_original(byte_index)) else {
            return self.base.location(id, byte_index);
        };
        self.base.location(id, original)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_are_kept_and_long_ones_cut_around_the_points() {
        let long = format!("{}HERE{}", "a".repeat(500), "b".repeat(500));
        let original = format!("fn short() {{}}\n{long}\r\nlast");
        let here = original.find("HERE").unwrap();
        let cut = CutText::new(&original, &[here, here + 4]);
        let lines: Vec<&str> = cut.text.split('\n').collect();
        assert_eq!(lines[0], "fn short() {}");
        assert_eq!(
            lines[1],
            format!("...{}HERE{}...\r", "a".repeat(40), "b".repeat(40))
        );
        assert_eq!(lines[2], "last");
        assert_eq!(&cut.text[cut.to_cut(here)..cut.to_cut(here + 4)], "HERE");
        assert_eq!(cut.to_original(cut.to_cut(here)), Some(here));
        assert_eq!(cut.to_cut(original.len()), cut.text.len());
    }

    #[test]
    fn distant_points_get_windows_of_their_own_and_lines_without_points_a_prefix() {
        let line = format!("X{}Y{}", "-".repeat(1000), "-".repeat(1000));
        let original = format!("{line}\n{}\n", "é".repeat(300));
        let y = original.find('Y').unwrap();
        let cut = CutText::new(&original, &[0, 1, y, y + 1]);
        let lines: Vec<&str> = cut.text.split('\n').collect();
        assert_eq!(
            lines[0],
            format!(
                "X{}...{}Y{}...",
                "-".repeat(40),
                "-".repeat(40),
                "-".repeat(40)
            )
        );
        assert_eq!(lines[1], format!("{}...", "é".repeat(MAX_LINE_CHARS)));
        assert!(has_long_lines(&original));
        assert!(!has_long_lines("short\nlines\n"));
    }
}
