//! The GitHub Actions format: one workflow command per finding
//! (`::error file=..,line=..,col=..,endLine=..,endColumn=..,title=..::message`), which the
//! runner turns into an annotation on the pull request's diff.

use std::path::Path;

use crate::diagnostic::Severity;
use crate::driver::Finding;
use crate::render::notes_and_helps;
use crate::render::texts::SourceTexts;
use crate::source::{SourceMap, relative_to};

/// Renders one line per finding, with file names relative to `root`, the repository's root,
/// which is how GitHub matches annotations to the diff.
pub fn render(sources: &SourceMap, findings: &[Finding], root: &Path) -> String {
    let texts = SourceTexts::load(sources, findings);
    let mut output = String::new();
    for finding in findings {
        let diagnostic = &finding.diagnostic;
        let command = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let span = diagnostic.primary.span;
        let source = sources.get(span.file);
        let file = relative_to(&source.path, root).unwrap_or_else(|| source.display_name.clone());
        let mut properties = vec![format!("file={}", escape_property(&file))];
        if let Ok(file_text) = texts.get(span.file) {
            let start = file_text.locate(span.lo);
            let end = file_text.locate(span.hi.max(span.lo));
            // Columns only within one line, which is all GitHub accepts them for; its end
            // column is inclusive, ours is the column after the span.
            let one_line = start.line == end.line;
            properties.push(format!("line={}", start.line));
            if one_line {
                properties.push(format!("col={}", start.column));
            }
            properties.push(format!("endLine={}", end.line));
            if one_line {
                properties.push(format!(
                    "endColumn={}",
                    end.column.saturating_sub(1).max(start.column)
                ));
            }
        }
        properties.push(format!(
            "title={}",
            escape_property(&format!("deferlint({})", diagnostic.rule))
        ));
        let mut message = diagnostic.message.clone();
        if !diagnostic.primary.message.is_empty() {
            message.push_str(&format!("\n{}", diagnostic.primary.message));
        }
        for label in &diagnostic.secondary {
            if let Ok(file_text) = texts.get(label.span.file) {
                let at = file_text.locate(label.span.lo);
                message.push_str(&format!(
                    "\n{}:{}:{}: {}",
                    sources.get(label.span.file).display_name,
                    at.line,
                    at.column,
                    label.message
                ));
            }
        }
        message.push_str(&notes_and_helps(diagnostic));
        output.push_str(&format!(
            "::{command} {}::{}\n",
            properties.join(","),
            escape_data(&message)
        ));
    }
    output
}

/// A command's message, escaped as the runner unescapes it.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: also `:` and `,`, which separate properties.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
