//! The SARIF 2.1.0 format, for code scanning (GitHub's upload-sarif, GitLab, IDE viewers): one
//! run with a reporting descriptor per rule and a result per finding, columns in Unicode code
//! points, paths relative to the repository's root (`%SRCROOT%`), secondary labels as related
//! locations, machine-applicable edits as fixes, and a line-independent fingerprint so that an
//! alert keeps its identity when lines move.

use std::path::Path;

use serde_json::{Value, json};

use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::driver::Finding;
use crate::render::json::percent_encode;
use crate::render::notes_and_helps;
use crate::render::texts::{FileText, SourceTexts};
use crate::source::{SourceMap, Span, relative_to};

/// What SARIF says about one rule; the cli fills these from the rules' docs.
#[derive(Clone, Debug)]
pub struct RuleDescriptor {
    pub id: String,
    /// One sentence.
    pub summary: String,
    /// The rule's documentation in Markdown (What it does, Why is this bad?, ...).
    pub documentation: String,
    /// `error`, `warning` or `none` (allowed by default).
    pub default_level: &'static str,
    /// `high`, `medium` or `low`, as GitHub code scanning reads `precision`.
    pub precision: &'static str,
    pub tags: Vec<String>,
}

/// What the SARIF log needs besides the findings.
#[derive(Clone, Debug)]
pub struct SarifOptions<'a> {
    pub tool_version: &'a str,
    pub information_uri: &'a str,
    /// Every rule and tool diagnostic, in the order `ruleIndex` refers to.
    pub rules: &'a [RuleDescriptor],
    /// The folder relative paths start from (`%SRCROOT%`), absolute: the repository's root,
    /// which is what code scanning resolves paths against.
    pub root: &'a Path,
}

/// The property `partialFingerprints` uses for deferlint's own fingerprint.
const FINGERPRINT_KEY: &str = "deferlintFingerprint/v1";

/// Renders the whole log, pretty-printed, ending with a newline.
pub fn render(sources: &SourceMap, findings: &[Finding], options: &SarifOptions<'_>) -> String {
    let texts = SourceTexts::load(sources, findings);
    let rules: Vec<Value> = options.rules.iter().map(reporting_descriptor).collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|finding| result(sources, &texts, &finding.diagnostic, options))
        .collect();
    let root_uri = file_uri(options.root, true);
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "deferlint",
                    "version": options.tool_version,
                    "semanticVersion": options.tool_version,
                    "informationUri": options.information_uri,
                    "rules": rules,
                }
            },
            "originalUriBaseIds": { "%SRCROOT%": { "uri": root_uri } },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut text = serde_json::to_string_pretty(&log).expect("a JSON value always serialises");
    text.push('\n');
    text
}

fn reporting_descriptor(rule: &RuleDescriptor) -> Value {
    json!({
        "id": rule.id,
        "name": rule.id,
        "shortDescription": { "text": rule.summary },
        "fullDescription": { "text": first_paragraph(&rule.documentation, &rule.summary) },
        "help": { "text": rule.documentation, "markdown": rule.documentation },
        "defaultConfiguration": {
            "level": rule.default_level,
            "enabled": rule.default_level != "none",
        },
        "properties": {
            "precision": rule.precision,
            "problem.severity": match rule.default_level {
                "error" => "error",
                "warning" => "warning",
                _ => "recommendation",
            },
            "tags": rule.tags,
        },
    })
}

/// The "What it does" paragraph of a rule's docs, without its heading.
fn first_paragraph(documentation: &str, fallback: &str) -> String {
    let paragraph: Vec<&str> = documentation
        .lines()
        .skip_while(|line| line.starts_with('#') || line.trim().is_empty())
        .take_while(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .collect();
    if paragraph.is_empty() {
        fallback.to_string()
    } else {
        paragraph.join(" ")
    }
}

fn result(
    sources: &SourceMap,
    texts: &SourceTexts,
    diagnostic: &Diagnostic,
    options: &SarifOptions<'_>,
) -> Value {
    let rule_index = options
        .rules
        .iter()
        .position(|rule| rule.id == diagnostic.rule);
    let mut message = diagnostic.message.clone();
    if !diagnostic.primary.message.is_empty() {
        message.push_str(&format!(": {}", diagnostic.primary.message));
    }
    message.push_str(&notes_and_helps(diagnostic));
    let related: Vec<Value> = diagnostic
        .secondary
        .iter()
        .enumerate()
        .map(|(index, label)| {
            json!({
                "id": index + 1,
                "physicalLocation": physical_location(sources, texts, label.span, options.root),
                "message": { "text": if label.message.is_empty() { "related code" } else { &label.message } },
            })
        })
        .collect();
    let fixes: Vec<Value> = diagnostic
        .helps
        .iter()
        .filter_map(|help| {
            let suggestion = help.suggestion.as_ref()?;
            (suggestion.applicability == Applicability::MachineApplicable).then(|| {
                let changes: Vec<Value> = suggestion
                    .edits
                    .iter()
                    .map(|edit| {
                        json!({
                            "artifactLocation": artifact_location(sources, edit.span, options.root),
                            "replacements": [{
                                "deletedRegion": region(texts, edit.span, false),
                                "insertedContent": { "text": edit.replacement },
                            }],
                        })
                    })
                    .collect();
                json!({ "description": { "text": help.message }, "artifactChanges": changes })
            })
        })
        .collect();
    let mut result = json!({
        "ruleId": diagnostic.rule,
        "level": match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        "message": { "text": message },
        "locations": [{ "physicalLocation": physical_location(sources, texts, diagnostic.primary.span, options.root) }],
    });
    let object = result.as_object_mut().expect("a result is an object");
    if let Some(index) = rule_index {
        object.insert("ruleIndex".into(), json!(index));
    }
    if !related.is_empty() {
        object.insert("relatedLocations".into(), Value::Array(related));
    }
    if !fixes.is_empty() {
        object.insert("fixes".into(), Value::Array(fixes));
    }
    if let Ok(file_text) = texts.get(diagnostic.primary.span.file) {
        object.insert(
            "partialFingerprints".into(),
            json!({ FINGERPRINT_KEY: fingerprint(file_text, diagnostic.primary.span) }),
        );
    }
    result
}

fn fingerprint(file_text: &FileText, span: Span) -> String {
    let range = file_text.body_range(span);
    let body_span = Span::new(span.file, range.start as u32, range.end as u32);
    crate::baseline::fingerprint(file_text.body(), body_span)
}

fn physical_location(sources: &SourceMap, texts: &SourceTexts, span: Span, root: &Path) -> Value {
    json!({
        "artifactLocation": artifact_location(sources, span, root),
        "region": region(texts, span, true),
    })
}

/// A file's URI: relative to `%SRCROOT%` for a file under it, absolute otherwise.
fn artifact_location(sources: &SourceMap, span: Span, root: &Path) -> Value {
    match relative_to(&sources.get(span.file).path, root) {
        Some(relative) => json!({ "uri": uri_path(&relative), "uriBaseId": "%SRCROOT%" }),
        None => json!({ "uri": file_uri(&sources.get(span.file).path, false) }),
    }
}

/// Lines and code-point columns, 1-based, the end column exclusive as SARIF defines it; the
/// snippet only on locations (not on a fix's deleted region, where it would be redundant).
fn region(texts: &SourceTexts, span: Span, with_snippet: bool) -> Value {
    match texts.get(span.file) {
        Ok(file_text) => {
            let start = file_text.locate(span.lo);
            let end = file_text.locate(span.hi.max(span.lo));
            let mut region = json!({
                "startLine": start.line,
                "startColumn": start.column,
                "endLine": end.line,
                "endColumn": end.column,
            });
            if with_snippet {
                region
                    .as_object_mut()
                    .expect("a region is an object")
                    .insert("snippet".into(), json!({ "text": file_text.snippet(span) }));
            }
            region
        }
        // The file could not be read again: the line is unknown, and SARIF requires one.
        Err(_) => json!({ "startLine": 1 }),
    }
}

/// A path with `/` separators, percent-encoding what a URI reference may not hold as is.
fn uri_path(path: &str) -> String {
    percent_encode(&path.replace('\\', "/"), "/!$&'()*+,;=:@")
}

/// `file:///abs/path`; a folder's with the trailing slash that relative references resolve
/// against.
fn file_uri(path: &Path, folder: bool) -> String {
    let mut uri = uri_path(&path.to_string_lossy());
    if folder && !uri.ends_with('/') {
        uri.push('/');
    }
    if !uri.starts_with('/') {
        uri.insert(0, '/');
    }
    format!("file://{uri}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded_and_folders_end_with_a_slash() {
        assert_eq!(uri_path("src/a b/ü.rs"), "src/a%20b/%C3%BC.rs");
        assert_eq!(file_uri(Path::new("/w/repo"), true), "file:///w/repo/");
        assert_eq!(
            file_uri(Path::new("/w/a b.rs"), false),
            "file:///w/a%20b.rs"
        );
    }

    #[test]
    fn the_full_description_is_the_first_paragraph() {
        let docs = "### What it does\nFinds this.\nAnd that.\n\n### Why is this bad?\nBecause.";
        assert_eq!(first_paragraph(docs, "x"), "Finds this. And that.");
        assert_eq!(first_paragraph("", "fallback"), "fallback");
    }
}
