//! The human format: rustc-style diagnostics drawn by codespan-reporting, with or without colour.

use std::collections::BTreeMap;

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::termcolor::Buffer;
use codespan_reporting::term::{self, Chars, Config};

use crate::diagnostic::{Diagnostic, Help, Label, Severity};
use crate::driver::Finding;
use crate::render::long_lines::{self, CutText, DiagnosticFiles};
use crate::render::texts::SourceTexts;
use crate::source::{FileId, SourceMap};

/// How to draw the human format.
#[derive(Clone, Copy, Debug, Default)]
pub struct HumanOptions {
    /// Colour with ANSI escape codes.
    pub color: bool,
}

/// Renders every finding; each ends with an empty line, as rustc's do.
pub fn render(sources: &SourceMap, findings: &[Finding], options: &HumanOptions) -> String {
    let texts = SourceTexts::load(sources, findings);
    let renderer = HumanRenderer::new(sources, &texts);
    findings
        .iter()
        .map(|finding| renderer.render(&finding.diagnostic, options.color))
        .collect()
}

/// Draws single diagnostics; the JSON renderer uses it for the `rendered` field.
pub(crate) struct HumanRenderer<'a> {
    sources: &'a SourceMap,
    texts: &'a SourceTexts,
    files: SimpleFiles<&'a str, &'a str>,
    codespan_ids: BTreeMap<FileId, usize>,
    /// The codespan ids of files with lines too long to print whole.
    long_line_files: Vec<usize>,
    config: Config,
}

impl<'a> HumanRenderer<'a> {
    pub(crate) fn new(sources: &'a SourceMap, texts: &'a SourceTexts) -> HumanRenderer<'a> {
        let mut files = SimpleFiles::new();
        let mut codespan_ids = BTreeMap::new();
        let mut long_line_files = Vec::new();
        for (file, text) in texts.readable() {
            let id = files.add(sources.get(file).display_name.as_str(), text.body());
            codespan_ids.insert(file, id);
            if long_lines::has_long_lines(text.body()) {
                long_line_files.push(id);
            }
        }
        // ASCII borders look like rustc's and survive CI logs and terminals without box-drawing
        // glyphs.
        let config = Config {
            chars: Chars::ascii(),
            ..Config::default()
        };
        HumanRenderer {
            sources,
            texts,
            files,
            codespan_ids,
            long_line_files,
            config,
        }
    }

    /// One diagnostic, ending with a newline: a location line even when the code cannot be
    /// shown, long lines cut around the labels, no whitespace at the ends of lines.
    pub(crate) fn render(&self, diagnostic: &Diagnostic, color: bool) -> String {
        let mut codespan_diagnostic = self.to_codespan(diagnostic);
        let files = self.cut_long_lines(&mut codespan_diagnostic);
        let mut buffer = if color {
            Buffer::ansi()
        } else {
            Buffer::no_color()
        };
        if let Err(error) =
            term::emit_to_write_style(&mut buffer, &self.config, &files, &codespan_diagnostic)
        {
            // Ranges are clamped to the texts, so this only happens on a bug; the finding must
            // still reach the user.
            return format!(
                "{}[{}]: {}\n  --> {}\n  = note: the code could not be shown: {error}\n\n",
                diagnostic.severity.as_str(),
                diagnostic.rule,
                diagnostic.message,
                self.sources.get(diagnostic.primary.span.file).display_name,
            );
        }
        let mut rendered = String::from_utf8_lossy(buffer.as_slice()).into_owned();
        if !self.can_show(diagnostic.primary.span.file) {
            // codespan draws no location without a label; rustc always names the file.
            let name = &self.sources.get(diagnostic.primary.span.file).display_name;
            let header_end = rendered.find('\n').map_or(rendered.len(), |end| end + 1);
            // Indented like the notes below it, as codespan indents both by the gutter.
            rendered.insert_str(header_end, &format!(" --> {name}\n"));
        }
        trim_line_ends(&rendered)
    }

    fn can_show(&self, file: FileId) -> bool {
        self.texts.get(file).is_ok() && self.codespan_ids.contains_key(&file)
    }

    /// Gives the files with long lines a cut view around this diagnostic's labels, and moves
    /// the labels into it.
    fn cut_long_lines(&self, diagnostic: &mut cs::Diagnostic<usize>) -> DiagnosticFiles<'_> {
        let mut cut = Vec::new();
        for &id in &self.long_line_files {
            if !diagnostic.labels.iter().any(|label| label.file_id == id) {
                continue;
            }
            let points: Vec<usize> = diagnostic
                .labels
                .iter()
                .filter(|label| label.file_id == id)
                .flat_map(|label| [label.range.start, label.range.end])
                .collect();
            let source = self.files.get(id).map_or("", |file| *file.source());
            let text = CutText::new(source, &points);
            for label in diagnostic
                .labels
                .iter_mut()
                .filter(|label| label.file_id == id)
            {
                label.range = text.to_cut(label.range.start)..text.to_cut(label.range.end);
            }
            cut.push((id, text));
        }
        DiagnosticFiles {
            base: &self.files,
            cut,
        }
    }

    fn to_codespan(&self, diagnostic: &Diagnostic) -> cs::Diagnostic<usize> {
        let severity = match diagnostic.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
        };
        let mut labels = Vec::new();
        let mut notes = Vec::new();
        self.push_label(
            &diagnostic.primary,
            cs::LabelStyle::Primary,
            &mut labels,
            &mut notes,
        );
        for label in &diagnostic.secondary {
            self.push_label(label, cs::LabelStyle::Secondary, &mut labels, &mut notes);
        }
        notes.extend(diagnostic.notes.iter().map(|note| format!("note: {note}")));
        notes.extend(diagnostic.helps.iter().map(|help| self.help_line(help)));
        cs::Diagnostic::new(severity)
            .with_code(diagnostic.rule)
            .with_message(&diagnostic.message)
            .with_labels(labels)
            .with_notes(notes)
    }

    fn push_label(
        &self,
        label: &Label,
        style: cs::LabelStyle,
        labels: &mut Vec<cs::Label<usize>>,
        notes: &mut Vec<String>,
    ) {
        let file = label.span.file;
        if let (Ok(text), Some(&codespan_id)) = (self.texts.get(file), self.codespan_ids.get(&file))
        {
            labels.push(
                cs::Label::new(style, codespan_id, text.body_range(label.span))
                    .with_message(&label.message),
            );
            return;
        }
        let reason = self
            .texts
            .get(file)
            .err()
            .unwrap_or("the file was not loaded");
        let (lo, hi) = (label.span.lo, label.span.hi);
        let place = if lo == hi {
            format!("at byte {lo}")
        } else {
            format!("at bytes {lo}..{hi}")
        };
        // The primary label's file is named on the location line.
        let place = if style == cs::LabelStyle::Primary {
            place
        } else {
            format!("in `{}` {place}", self.sources.get(file).display_name)
        };
        if style == cs::LabelStyle::Primary && label.message.is_empty() && lo == 0 && hi == 0 {
            // The whole file: the message says why, and the location line names it.
        } else if label.message.is_empty() {
            notes.push(format!("note: {place}; the code cannot be shown: {reason}"));
        } else {
            notes.push(format!(
                "note: {place}: {}; the code cannot be shown: {reason}",
                label.message
            ));
        }
    }

    /// rustc shows a short one-edit suggestion inline (`help: use: \`new\``); longer ones are
    /// listed one edit per line with their location.
    fn help_line(&self, help: &Help) -> String {
        let Some(suggestion) = &help.suggestion else {
            return format!("help: {}", help.message);
        };
        if let [edit] = suggestion.edits.as_slice() {
            if edit.replacement.is_empty() {
                if let Ok(text) = self.texts.get(edit.span.file) {
                    let removed = text.snippet(edit.span);
                    if !removed.is_empty() && !removed.contains('\n') {
                        return format!("help: {}: remove `{removed}`", help.message);
                    }
                }
                return format!("help: {}", help.message);
            }
            if !edit.replacement.contains('\n') {
                return format!("help: {}: `{}`", help.message, edit.replacement);
            }
        }
        let mut line = format!("help: {}", help.message);
        for edit in &suggestion.edits {
            let name = &self.sources.get(edit.span.file).display_name;
            let location = match self.texts.get(edit.span.file) {
                Ok(text) => {
                    let start = text.locate(edit.span.lo);
                    format!("{name}:{}:{}", start.line, start.column)
                }
                Err(_) => name.clone(),
            };
            line.push_str(&format!("\n{location}: `{}`", edit.replacement));
        }
        line
    }
}

/// Removes the spaces codespan leaves at the ends of lines (after an empty gutter), also
/// when colour escape codes follow them.
fn trim_line_ends(text: &str) -> String {
    let mut trimmed = String::with_capacity(text.len());
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            trimmed.push('\n');
        }
        let mut rest = line;
        let mut escapes = Vec::new();
        loop {
            let without_spaces = rest.trim_end_matches([' ', '\t']);
            // A trailing `ESC [ .. m` colour code: look before it.
            match without_spaces.rfind('\u{1b}') {
                Some(escape) if is_colour_code(&without_spaces[escape..]) => {
                    escapes.push(&without_spaces[escape..]);
                    rest = &without_spaces[..escape];
                }
                _ => {
                    rest = without_spaces;
                    break;
                }
            }
        }
        trimmed.push_str(rest);
        for escape in escapes.iter().rev() {
            trimmed.push_str(escape);
        }
    }
    trimmed
}

/// `ESC [ 1 ; 34 m` and the like, alone.
fn is_colour_code(text: &str) -> bool {
    text.strip_prefix("\u{1b}[")
        .and_then(|rest| rest.strip_suffix('m'))
        .is_some_and(|parameters| parameters.bytes().all(|b| b.is_ascii_digit() || b == b';'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Applicability, Edit};
    use crate::render::test_support::{TempFile, finding};
    use crate::source::{Language, Span};

    fn sources_with(file: &TempFile) -> SourceMap {
        let mut sources = SourceMap::new();
        sources.add(
            file.path().to_path_buf(),
            "src/shared.rs".to_string(),
            Language::Rust,
        );
        sources
    }

    fn span_of(text: &str, needle: &str) -> Span {
        let lo = text.find(needle).expect("the needle is in the text") as u32;
        Span::new(FileId(0), lo, lo + needle.len() as u32)
    }

    #[test]
    fn error_with_labels_notes_and_suggestion() {
        let text = "fn drop(&mut self) {\n    let guard = self.map.lock().unwrap();\n    guard.insert(1, 2);\n}\n";
        let file = TempFile::new("human-basic.rs", text.as_bytes());
        let sources = sources_with(&file);
        let diagnostic = Diagnostic::new(
            "poisoned-lock-unwrap-in-defer",
            Severity::Error,
            "`unwrap` on a lock in a `drop` body",
            Label::new(span_of(text, "unwrap()"), "panics if the lock is poisoned"),
        )
        .with_label(Label::new(
            span_of(text, "fn drop"),
            "runs during unwinding",
        ))
        .with_note("a panic during unwinding aborts the process")
        .with_suggestion(
            "recover the guard",
            vec![Edit {
                span: span_of(text, "unwrap()"),
                replacement: "unwrap_or_else(PoisonError::into_inner)".into(),
            }],
            Applicability::MachineApplicable,
        )
        .with_help("or use `try_lock`");
        let output = render(
            &sources,
            &[finding(diagnostic)],
            &HumanOptions { color: false },
        );
        insta::assert_snapshot!(output, @r"
        error[poisoned-lock-unwrap-in-defer]: `unwrap` on a lock in a `drop` body
          --> src/shared.rs:2:33
          |
        1 | fn drop(&mut self) {
          | ------- runs during unwinding
        2 |     let guard = self.map.lock().unwrap();
          |                                 ^^^^^^^^ panics if the lock is poisoned
          |
          = note: a panic during unwinding aborts the process
          = help: recover the guard: `unwrap_or_else(PoisonError::into_inner)`
          = help: or use `try_lock`
        ");
    }

    #[test]
    fn crlf_byte_order_mark_and_non_ascii_columns() {
        let text = "\u{feff}// é\r\nlet x = «map».insert(1);\r\n";
        let file = TempFile::new("human-crlf.rs", text.as_bytes());
        let sources = sources_with(&file);
        let diagnostic = Diagnostic::new(
            "unsync-map-write-in-defer",
            Severity::Warning,
            "write",
            Label::new(span_of(text, "insert"), "here"),
        );
        let on_first_line = Diagnostic::new(
            "parse-error",
            Severity::Warning,
            "accent",
            Label::new(span_of(text, "é"), ""),
        );
        let output = render(
            &sources,
            &[finding(diagnostic), finding(on_first_line)],
            &HumanOptions { color: false },
        );
        assert!(
            !output.contains('\r'),
            "carriage returns leak into the output: {output:?}"
        );
        assert!(
            !output.contains('\u{feff}'),
            "the byte-order mark leaks into the output: {output:?}"
        );
        assert!(
            output.ends_with("^\n\n"),
            "a diagnostic ends with an empty line: {output:?}"
        );
        insta::assert_snapshot!(output, @r"
        warning[unsync-map-write-in-defer]: write
          --> src/shared.rs:2:15
          |
        2 | let x = «map».insert(1);
          |               ^^^^^^ here

        warning[parse-error]: accent
          --> src/shared.rs:1:4
          |
        1 | // é
          |    ^
        ");
    }

    #[test]
    fn colour_adds_escape_codes_only_when_asked() {
        let text = "let a = 1;\n";
        let file = TempFile::new("human-colour.rs", text.as_bytes());
        let sources = sources_with(&file);
        let findings = [finding(Diagnostic::new(
            "parse-error",
            Severity::Warning,
            "bad",
            Label::new(span_of(text, "a"), ""),
        ))];
        assert!(render(&sources, &findings, &HumanOptions { color: true }).contains("\u{1b}["));
        assert!(!render(&sources, &findings, &HumanOptions { color: false }).contains('\u{1b}'));
    }

    #[test]
    fn unreadable_file_degrades_to_a_note() {
        let mut sources = SourceMap::new();
        sources.add(
            std::env::temp_dir().join("deferlint-render-no-such-file.rs"),
            "gone.rs".into(),
            Language::Rust,
        );
        let diagnostic = Diagnostic::new(
            "parse-error",
            Severity::Warning,
            "could not parse",
            Label::new(Span::new(FileId(0), 3, 9), ""),
        );
        let output = render(
            &sources,
            &[finding(diagnostic)],
            &HumanOptions { color: false },
        );
        assert!(
            output.starts_with("warning[parse-error]: could not parse\n --> gone.rs\n"),
            "{output}"
        );
        assert!(
            output.contains("= note: at bytes 3..9; the code cannot be shown:"),
            "{output}"
        );
    }

    #[test]
    fn invalid_utf8_file_degrades_to_a_note() {
        let file = TempFile::new("human-latin1.rs", b"let caf\xe9 = 1;\n");
        let sources = sources_with(&file);
        let diagnostic = Diagnostic::new(
            "parse-error",
            Severity::Warning,
            "the file is not valid UTF-8",
            Label::new(Span::new(FileId(0), 7, 7), ""),
        );
        let output = render(
            &sources,
            &[finding(diagnostic)],
            &HumanOptions { color: false },
        );
        assert!(output.contains("not valid UTF-8"), "{output}");
        assert!(output.contains("\n --> src/shared.rs\n"), "{output}");
        assert!(output.contains("= note: at byte 7; "), "{output}");
    }

    #[test]
    fn long_lines_are_cut_around_the_labels_and_keep_their_columns() {
        let text = format!(
            "fn short() {{}}\nlet table = [{}]; let m = shared.insert(1);{}\n",
            "0, ".repeat(30_000),
            " 1,".repeat(30_000)
        );
        let file = TempFile::new("human-long.rs", text.as_bytes());
        let sources = sources_with(&file);
        let diagnostic = Diagnostic::new(
            "unsync-map-write-in-defer",
            Severity::Warning,
            "write",
            Label::new(span_of(&text, "shared.insert(1)"), "here"),
        )
        .with_label(Label::new(span_of(&text, "fn short"), "and here"));
        let output = render(
            &sources,
            &[finding(diagnostic)],
            &HumanOptions { color: false },
        );
        let column = "let table = [".len() + "0, ".repeat(30_000).len() + "]; let m = ".len() + 1;
        insta::assert_snapshot!(output.replace(&column.to_string(), "COLUMN"), @r"
        warning[unsync-map-write-in-defer]: write
          --> src/shared.rs:2:COLUMN
          |
        1 | fn short() {}
          | -------- and here
        2 | ..., 0, 0, 0, 0, 0, 0, 0, 0, 0, ]; let m = shared.insert(1); 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,...
          |                                            ^^^^^^^^^^^^^^^^ here
        ");
    }

    #[test]
    fn no_line_ends_with_whitespace_with_or_without_colour() {
        let text = "fn f() {\n    defer! {\n        m.lock();\n    }\n}\n";
        let file = TempFile::new("human-trailing.rs", text.as_bytes());
        let sources = sources_with(&file);
        let diagnostic = Diagnostic::new(
            "lock-reentered-in-defer",
            Severity::Error,
            "m",
            Label::new(span_of(text, "m.lock()"), "locks"),
        )
        .with_label(Label::new(
            span_of(text, "defer! {\n        m.lock();\n    }"),
            "deferred",
        ));
        for color in [false, true] {
            let output = render(
                &sources,
                &[finding(diagnostic.clone())],
                &HumanOptions { color },
            );
            for line in output.lines() {
                let mut visible = line.to_string();
                while let Some(escape) = visible.find('\u{1b}') {
                    let end = visible[escape..]
                        .find('m')
                        .map_or(visible.len(), |m| escape + m + 1);
                    visible.replace_range(escape..end, "");
                }
                assert!(!visible.ends_with(' '), "{line:?} in {output}");
            }
        }
        assert_eq!(trim_line_ends("x \u{1b}[1mitem"), "x \u{1b}[1mitem");
    }

    #[test]
    fn deletion_and_multi_edit_suggestions() {
        let text = "let a = b.clone();\n";
        let file = TempFile::new("human-edits.rs", text.as_bytes());
        let sources = sources_with(&file);
        let diagnostic = Diagnostic::new(
            "lock-reentered-in-defer",
            Severity::Error,
            "m",
            Label::new(span_of(text, "b"), ""),
        )
        .with_suggestion(
            "drop the clone",
            vec![Edit {
                span: span_of(text, ".clone()"),
                replacement: String::new(),
            }],
            Applicability::MaybeIncorrect,
        )
        .with_suggestion(
            "rename",
            vec![
                Edit {
                    span: span_of(text, "a"),
                    replacement: "c".into(),
                },
                Edit {
                    span: span_of(text, "b"),
                    replacement: "d".into(),
                },
            ],
            Applicability::HasPlaceholders,
        );
        let output = render(
            &sources,
            &[finding(diagnostic)],
            &HumanOptions { color: false },
        );
        assert!(
            output.contains("= help: drop the clone: remove `.clone()`\n"),
            "{output}"
        );
        assert!(
            output.contains(
                "= help: rename\n    src/shared.rs:1:5: `c`\n    src/shared.rs:1:9: `d`\n"
            ),
            "{output}"
        );
    }
}
