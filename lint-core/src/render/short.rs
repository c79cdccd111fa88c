//! The short format: one line per finding, `file:line:column: severity[rule]: message`.

use crate::driver::Finding;
use crate::render::texts::SourceTexts;
use crate::source::SourceMap;

/// Renders one line per finding.
pub fn render(sources: &SourceMap, findings: &[Finding]) -> String {
    let texts = SourceTexts::load(sources, findings);
    let mut output = String::new();
    for finding in findings {
        let diagnostic = &finding.diagnostic;
        let span = diagnostic.primary.span;
        let name = &sources.get(span.file).display_name;
        let location = match texts.get(span.file) {
            Ok(text) => {
                let start = text.locate(span.lo);
                format!("{name}:{}:{}", start.line, start.column)
            }
            // Without the text there is no line to point at; the file name alone still lets
            // editors and `grep` find the finding.
            Err(_) => name.clone(),
        };
        output.push_str(&format!(
            "{location}: {}[{}]: {}\n",
            diagnostic.severity.as_str(),
            diagnostic.rule,
            diagnostic.message
        ));
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Diagnostic, Label, Severity};
    use crate::render::test_support::{TempFile, finding};
    use crate::source::{FileId, Language, Span};

    #[test]
    fn one_line_per_finding_with_character_columns() {
        let text = "\u{feff}\r\nlet é = map.insert(1);\r\n";
        let file = TempFile::new("short.rs", text.as_bytes());
        let mut sources = SourceMap::new();
        sources.add(file.path().to_path_buf(), "src/a.rs".into(), Language::Rust);
        sources.add(
            std::env::temp_dir().join("deferlint-short-missing.rs"),
            "src/gone.rs".into(),
            Language::Rust,
        );
        let lo = text.find("insert").unwrap() as u32;
        let findings = [
            finding(Diagnostic::new(
                "unsync-map-write-in-defer",
                Severity::Error,
                "a write",
                Label::new(Span::new(FileId(0), lo, lo + 6), ""),
            )),
            finding(Diagnostic::new(
                "parse-error",
                Severity::Warning,
                "gone",
                Label::new(Span::new(FileId(1), 0, 0), ""),
            )),
        ];
        assert_eq!(
            render(&sources, &findings),
            "src/a.rs:2:13: error[unsync-map-write-in-defer]: a write\nsrc/gone.rs: warning[parse-error]: gone\n"
        );
    }
}
