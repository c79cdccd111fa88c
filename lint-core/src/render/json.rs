//! The JSON format: cargo's `--message-format=json` stream. One `compiler-message` line per
//! finding, carrying a full rustc diagnostic object, then one `build-finished` line; this is
//! what rust-analyzer and every other tool that reads cargo's output consume.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::diagnostic::{Diagnostic, Help, Label, Severity};
use crate::driver::{CrateInput, Finding, TargetKind, TargetRoot};
use crate::render::human::HumanRenderer;
use crate::render::texts::SourceTexts;
use crate::source::{SourceMap, Span};

/// What the JSON stream needs besides the findings.
#[derive(Clone, Copy, Debug)]
pub struct JsonOptions {
    /// Colour the `rendered` field with ANSI escape codes
    /// (`--message-format=json-diagnostic-rendered-ansi`).
    pub ansi_rendered: bool,
    /// The `success` of the final `build-finished` message: false when findings fail the run.
    pub success: bool,
    /// The long explanation of a rule (`code.explanation`), as rustc gives one for error codes.
    pub explanation: fn(&str) -> Option<String>,
}

/// Renders the stream, one JSON object per line. `crates` are the units the findings'
/// `crate_index` refers to.
pub fn render(
    sources: &SourceMap,
    crates: &[CrateInput],
    findings: &[Finding],
    options: &JsonOptions,
) -> String {
    let texts = SourceTexts::load(sources, findings);
    let human = HumanRenderer::new(sources, &texts);
    let mut output = String::new();
    for finding in findings {
        let input = &crates[finding.crate_index];
        let message = CompilerMessage {
            reason: "compiler-message",
            package_id: package_id(input),
            manifest_path: manifest_path(input),
            target: target_json(sources, input, finding),
            message: rustc_diagnostic(sources, &texts, &human, &finding.diagnostic, options),
        };
        push_line(&mut output, &message);
    }
    push_line(
        &mut output,
        &BuildFinished {
            reason: "build-finished",
            success: options.success,
        },
    );
    output
}

#[derive(Serialize)]
struct CompilerMessage {
    reason: &'static str,
    package_id: String,
    manifest_path: String,
    target: TargetJson,
    message: RustcDiagnostic,
}

#[derive(Serialize)]
struct BuildFinished {
    reason: &'static str,
    success: bool,
}

#[derive(Serialize)]
struct TargetJson {
    kind: Vec<&'static str>,
    crate_types: Vec<&'static str>,
    name: String,
    src_path: String,
    edition: &'static str,
    doc: bool,
    doctest: bool,
    test: bool,
}

/// rustc's JSON diagnostic, as `rustc --error-format=json` writes it.
#[derive(Serialize)]
struct RustcDiagnostic {
    #[serde(rename = "$message_type")]
    message_type: &'static str,
    message: String,
    code: Option<DiagnosticCode>,
    level: &'static str,
    spans: Vec<SpanJson>,
    children: Vec<RustcDiagnostic>,
    rendered: Option<String>,
}

#[derive(Serialize)]
struct DiagnosticCode {
    code: String,
    explanation: Option<String>,
}

#[derive(Serialize)]
struct SpanJson {
    file_name: String,
    byte_start: u32,
    byte_end: u32,
    line_start: u32,
    line_end: u32,
    column_start: u32,
    column_end: u32,
    is_primary: bool,
    text: Vec<SpanLine>,
    label: Option<String>,
    suggested_replacement: Option<String>,
    suggestion_applicability: Option<&'static str>,
    expansion: Option<()>,
}

#[derive(Serialize)]
struct SpanLine {
    text: String,
    highlight_start: u32,
    highlight_end: u32,
}

fn push_line(output: &mut String, value: &impl Serialize) {
    // These structs hold only strings, numbers and booleans, which always serialize.
    output.push_str(&serde_json::to_string(value).expect("plain data serializes to JSON"));
    output.push('\n');
}

fn rustc_diagnostic(
    sources: &SourceMap,
    texts: &SourceTexts,
    human: &HumanRenderer<'_>,
    diagnostic: &Diagnostic,
    options: &JsonOptions,
) -> RustcDiagnostic {
    let mut spans = vec![span_json(
        sources,
        texts,
        diagnostic.primary.span,
        true,
        label_text(&diagnostic.primary),
    )];
    spans.extend(
        diagnostic
            .secondary
            .iter()
            .map(|label| span_json(sources, texts, label.span, false, label_text(label))),
    );
    let mut children: Vec<RustcDiagnostic> = Vec::new();
    for label in std::iter::once(&diagnostic.primary).chain(&diagnostic.secondary) {
        if let Err(reason) = texts.get(label.span.file) {
            let name = &sources.get(label.span.file).display_name;
            children.push(child(
                "note",
                format!(
                    "`{name}` could not be read again, so lines and columns are unknown: {reason}"
                ),
                Vec::new(),
            ));
        }
    }
    children.dedup_by(|a, b| a.message == b.message);
    children.extend(
        diagnostic
            .notes
            .iter()
            .map(|note| child("note", note.clone(), Vec::new())),
    );
    children.extend(
        diagnostic
            .helps
            .iter()
            .map(|help| help_child(sources, texts, help)),
    );
    RustcDiagnostic {
        message_type: "diagnostic",
        message: diagnostic.message.clone(),
        code: Some(DiagnosticCode {
            code: format!("deferlint::{}", diagnostic.rule),
            explanation: (options.explanation)(diagnostic.rule),
        }),
        level: match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        spans,
        children,
        rendered: Some(human.render(diagnostic, options.ansi_rendered)),
    }
}

fn child(level: &'static str, message: String, spans: Vec<SpanJson>) -> RustcDiagnostic {
    RustcDiagnostic {
        message_type: "diagnostic",
        message,
        code: None,
        level,
        spans,
        children: Vec::new(),
        rendered: None,
    }
}

/// A help's edits become spans with `suggested_replacement`, which is where rust-analyzer and
/// `cargo fix`-like tools read quick fixes.
fn help_child(sources: &SourceMap, texts: &SourceTexts, help: &Help) -> RustcDiagnostic {
    let spans = match &help.suggestion {
        Some(suggestion) => suggestion
            .edits
            .iter()
            .map(|edit| SpanJson {
                suggested_replacement: Some(edit.replacement.clone()),
                suggestion_applicability: Some(suggestion.applicability.as_str()),
                ..span_json(sources, texts, edit.span, true, None)
            })
            .collect(),
        None => Vec::new(),
    };
    child("help", help.message.clone(), spans)
}

fn label_text(label: &Label) -> Option<String> {
    (!label.message.is_empty()).then(|| label.message.clone())
}

fn span_json(
    sources: &SourceMap,
    texts: &SourceTexts,
    span: Span,
    is_primary: bool,
    label: Option<String>,
) -> SpanJson {
    let file_name = sources.get(span.file).display_name.clone();
    let (start, end, text) = match texts.get(span.file) {
        Ok(file_text) => {
            let start = file_text.locate(span.lo);
            let end = file_text.locate(span.hi.max(span.lo));
            let lines = (start.line..=end.line)
                .map(|line| {
                    let text = file_text.line_text(line).to_string();
                    let highlight_start = if line == start.line { start.column } else { 1 };
                    let highlight_end = if line == end.line {
                        end.column
                    } else {
                        text.chars().count() as u32 + 1
                    };
                    SpanLine {
                        text,
                        highlight_start,
                        highlight_end,
                    }
                })
                .collect();
            ((start.line, start.column), (end.line, end.column), lines)
        }
        // The fields are required by every reader of the format; line 1, column 1 with no text
        // lines is the least wrong answer, and a child note says why.
        Err(_) => ((1, 1), (1, 1), Vec::new()),
    };
    SpanJson {
        file_name,
        byte_start: span.lo,
        byte_end: span.hi,
        line_start: start.0,
        line_end: end.0,
        column_start: start.1,
        column_end: end.1,
        is_primary,
        text,
        label,
        suggested_replacement: None,
        suggestion_applicability: None,
        expansion: None,
    }
}

fn target_json(sources: &SourceMap, input: &CrateInput, finding: &Finding) -> TargetJson {
    let primary_file = finding.diagnostic.primary.span.file;
    let target = finding
        .target_index
        .and_then(|index| input.targets.get(index))
        .or_else(|| {
            input
                .targets
                .iter()
                .find(|target| target.file == primary_file)
        })
        .or_else(|| {
            input
                .targets
                .iter()
                .find(|target| target.kind == TargetKind::Lib)
        })
        .or_else(|| input.targets.first());
    // Units without targets (Go packages, empty folders) still need one: cargo's readers
    // require it, so the unit stands in as a library rooted at the finding's file.
    let (kind, name, src_path) = match target {
        Some(TargetRoot { kind, name, file }) => {
            (*kind, name.clone(), sources.get(*file).path.clone())
        }
        None => (
            TargetKind::Lib,
            input.name.clone(),
            sources.get(primary_file).path.clone(),
        ),
    };
    let (kind_name, crate_type, doc, doctest, test) = match kind {
        TargetKind::Lib => ("lib", "lib", true, true, true),
        TargetKind::Bin => ("bin", "bin", true, false, true),
        TargetKind::Test => ("test", "bin", false, false, true),
        TargetKind::Example => ("example", "bin", false, false, false),
        TargetKind::Bench => ("bench", "bin", false, false, false),
        TargetKind::BuildScript => ("custom-build", "bin", false, false, false),
    };
    TargetJson {
        kind: vec![kind_name],
        crate_types: vec![crate_type],
        name,
        src_path: absolute_string(&src_path),
        edition: input.edition.as_str(),
        doc,
        doctest,
        test,
    }
}

/// Cargo's package id, or for units cargo does not know (loose folders, Go packages) a stable
/// one in the same shape, `path+file:///abs/dir#name@0.0.0`.
fn package_id(input: &CrateInput) -> String {
    match &input.package_id {
        Some(id) => id.clone(),
        None => path_package_id(&input.root_dir, &input.name, "0.0.0"),
    }
}

/// The id cargo gives a package at a path: `path+file:///abs/dir#name@version`, or
/// `path+file:///abs/dir#version` when the folder has the package's name.
pub fn path_package_id(root_dir: &Path, name: &str, version: &str) -> String {
    let mut path = absolute_string(root_dir).replace('\\', "/");
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    let folder_is_name = root_dir.file_name().is_some_and(|folder| folder == name);
    let fragment = if folder_is_name {
        version.to_string()
    } else {
        format!("{}@{version}", percent_encode(name, ""))
    };
    format!("path+file://{}#{fragment}", percent_encode(&path, "/:"))
}

/// The package's manifest; for units without one, where it would be, so that its parent is the
/// unit's folder as tools expect.
fn manifest_path(input: &CrateInput) -> String {
    match &input.manifest_path {
        Some(path) => absolute_string(path),
        None => absolute_string(&input.root_dir.join("Cargo.toml")),
    }
}

fn absolute_string(path: &Path) -> String {
    let absolute: PathBuf = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    absolute.to_string_lossy().into_owned()
}

/// Percent-encodes every byte outside RFC 3986's unreserved set and `keep`.
pub(crate) fn percent_encode(text: &str, keep: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric()
            || b"-._~".contains(&byte)
            || keep.as_bytes().contains(&byte)
        {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Applicability, Edit};
    use crate::render::test_support::{TempFile, finding};
    use crate::source::{FileId, Language};
    use crate::unit::Edition;

    fn no_explanation(_rule: &str) -> Option<String> {
        None
    }

    fn unit(root_dir: PathBuf, targets: Vec<TargetRoot>) -> CrateInput {
        CrateInput {
            language: Language::Rust,
            name: "my folder".into(),
            lib_name: None,
            edition: Edition::E2021,
            root_dir,
            targets,
            files: vec![FileId(0)],
            package_id: None,
            manifest_path: None,
            extensions: Default::default(),
            features: None,
        }
    }

    fn lines(output: &str) -> Vec<serde_json::Value> {
        output
            .lines()
            .map(|line| serde_json::from_str(line).expect("every line is one JSON object"))
            .collect()
    }

    #[test]
    fn stream_of_compiler_messages_then_build_finished() {
        let text = "\u{feff}// ü\r\nfn f() { m.insert(1, «2»); }\r\n";
        let file = TempFile::new("json.rs", text.as_bytes());
        let mut sources = SourceMap::new();
        sources.add(
            file.path().to_path_buf(),
            "src/lib.rs".into(),
            Language::Rust,
        );
        let insert = text.find("insert").unwrap() as u32;
        let guillemet = text.find('«').unwrap() as u32;
        let diagnostic = Diagnostic::new(
            "unsync-map-write-in-defer",
            Severity::Error,
            "a write",
            Label::new(Span::new(FileId(0), insert, insert + 6), "written here"),
        )
        .with_label(Label::new(
            Span::new(FileId(0), guillemet, guillemet + "«2»".len() as u32),
            "",
        ))
        .with_note("a note")
        .with_suggestion(
            "use a mutex",
            vec![Edit {
                span: Span::new(FileId(0), insert, insert + 6),
                replacement: "lock().insert".into(),
            }],
            Applicability::MaybeIncorrect,
        );
        let crates = [unit(
            PathBuf::from("/tmp/my folder"),
            vec![TargetRoot {
                kind: TargetKind::Bin,
                name: "tool".into(),
                file: FileId(0),
            }],
        )];
        fn explain(rule: &str) -> Option<String> {
            (rule == "unsync-map-write-in-defer").then(|| "the docs".to_string())
        }
        let output = render(
            &sources,
            &crates,
            &[finding(diagnostic)],
            &JsonOptions {
                ansi_rendered: false,
                success: false,
                explanation: explain,
            },
        );
        let values = lines(&output);
        assert_eq!(values.len(), 2);
        let message = &values[0];
        assert_eq!(message["reason"], "compiler-message");
        assert_eq!(message["package_id"], "path+file:///tmp/my%20folder#0.0.0");
        assert_eq!(message["manifest_path"], "/tmp/my folder/Cargo.toml");
        assert_eq!(message["target"]["kind"], serde_json::json!(["bin"]));
        assert_eq!(message["target"]["name"], "tool");
        assert_eq!(message["target"]["edition"], "2021");
        let diagnostic = &message["message"];
        assert_eq!(
            diagnostic["code"],
            serde_json::json!({"code": "deferlint::unsync-map-write-in-defer", "explanation": "the docs"})
        );
        assert_eq!(diagnostic["level"], "error");
        let primary = &diagnostic["spans"][0];
        assert_eq!(primary["file_name"], "src/lib.rs");
        assert_eq!(primary["byte_start"], insert);
        assert_eq!(
            (
                primary["line_start"].as_u64(),
                primary["column_start"].as_u64()
            ),
            (Some(2), Some(12))
        );
        assert_eq!(
            (primary["line_end"].as_u64(), primary["column_end"].as_u64()),
            (Some(2), Some(18))
        );
        assert_eq!(primary["is_primary"], true);
        assert_eq!(primary["label"], "written here");
        assert_eq!(
            primary["text"],
            serde_json::json!([{"text": "fn f() { m.insert(1, «2»); }", "highlight_start": 12, "highlight_end": 18}])
        );
        let secondary = &diagnostic["spans"][1];
        assert_eq!(
            (
                secondary["column_start"].as_u64(),
                secondary["column_end"].as_u64()
            ),
            (Some(22), Some(25))
        );
        assert_eq!(secondary["label"], serde_json::Value::Null);
        assert_eq!(secondary["is_primary"], false);
        assert_eq!(
            diagnostic["children"][0],
            serde_json::json!({"$message_type": "diagnostic", "message": "a note", "code": null, "level": "note", "spans": [], "children": [], "rendered": null})
        );
        let help = &diagnostic["children"][1];
        assert_eq!(help["level"], "help");
        assert_eq!(help["spans"][0]["suggested_replacement"], "lock().insert");
        assert_eq!(
            help["spans"][0]["suggestion_applicability"],
            "MaybeIncorrect"
        );
        let rendered = diagnostic["rendered"].as_str().unwrap();
        assert!(
            rendered
                .starts_with("error[unsync-map-write-in-defer]: a write\n  --> src/lib.rs:2:12\n"),
            "{rendered}"
        );
        assert!(!rendered.contains('\u{1b}'));
        assert_eq!(
            values[1],
            serde_json::json!({"reason": "build-finished", "success": false})
        );
    }

    #[test]
    fn multi_line_span_highlights_each_line() {
        let text = "ab\ncdé\nfg\n";
        let file = TempFile::new("json-multi.rs", text.as_bytes());
        let mut sources = SourceMap::new();
        sources.add(file.path().to_path_buf(), "a.rs".into(), Language::Rust);
        let diagnostic = Diagnostic::new(
            "parse-error",
            Severity::Warning,
            "m",
            Label::new(Span::new(FileId(0), 1, text.find('g').unwrap() as u32), ""),
        );
        let crates = [unit(PathBuf::from("/w"), Vec::new())];
        let output = render(
            &sources,
            &crates,
            &[finding(diagnostic)],
            &JsonOptions {
                ansi_rendered: true,
                success: true,
                explanation: no_explanation,
            },
        );
        let values = lines(&output);
        let span = &values[0]["message"]["spans"][0];
        assert_eq!(
            span["text"],
            serde_json::json!([
                {"text": "ab", "highlight_start": 2, "highlight_end": 3},
                {"text": "cdé", "highlight_start": 1, "highlight_end": 4},
                {"text": "fg", "highlight_start": 1, "highlight_end": 2},
            ])
        );
        assert_eq!(values[0]["target"]["kind"], serde_json::json!(["lib"]));
        assert_eq!(values[0]["target"]["name"], "my folder");
        assert!(
            values[0]["message"]["rendered"]
                .as_str()
                .unwrap()
                .contains('\u{1b}')
        );
        assert_eq!(values[1]["success"], true);
    }

    #[test]
    fn path_package_ids_are_shaped_like_cargos() {
        assert_eq!(
            path_package_id(Path::new("/w/crates/beta"), "beta", "0.2.0"),
            "path+file:///w/crates/beta#0.2.0"
        );
        assert_eq!(
            path_package_id(Path::new("/w/my dir"), "other", "1.0.0-rc.1"),
            "path+file:///w/my%20dir#other@1.0.0-rc.1"
        );
    }

    #[test]
    fn cargo_package_ids_are_kept_and_unreadable_files_explained() {
        let mut sources = SourceMap::new();
        sources.add(
            std::env::temp_dir().join("deferlint-json-missing.rs"),
            "gone.rs".into(),
            Language::Rust,
        );
        let mut input = unit(PathBuf::from("/w"), Vec::new());
        input.package_id = Some("path+file:///w#0.1.0".into());
        input.manifest_path = Some(PathBuf::from("/w/Cargo.toml"));
        let diagnostic = Diagnostic::new(
            "parse-error",
            Severity::Warning,
            "m",
            Label::new(Span::new(FileId(0), 5, 9), ""),
        );
        let output = render(
            &sources,
            &[input],
            &[finding(diagnostic)],
            &JsonOptions {
                ansi_rendered: false,
                success: true,
                explanation: no_explanation,
            },
        );
        let values = lines(&output);
        assert_eq!(values[0]["package_id"], "path+file:///w#0.1.0");
        let span = &values[0]["message"]["spans"][0];
        assert_eq!(
            (
                span["byte_start"].as_u64(),
                span["byte_end"].as_u64(),
                span["line_start"].as_u64()
            ),
            (Some(5), Some(9), Some(1))
        );
        let note = values[0]["message"]["children"][0]["message"]
            .as_str()
            .unwrap();
        assert!(
            note.starts_with("`gone.rs` could not be read again"),
            "{note}"
        );
    }

    #[test]
    fn no_findings_is_just_build_finished() {
        let output = render(
            &SourceMap::new(),
            &[],
            &[],
            &JsonOptions {
                ansi_rendered: false,
                success: true,
                explanation: no_explanation,
            },
        );
        assert_eq!(output, "{\"reason\":\"build-finished\",\"success\":true}\n");
    }
}
