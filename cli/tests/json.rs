//! The JSON stream: every line must be a message cargo_metadata (the parser rust-analyzer and
//! most cargo tools use) accepts, and the stream must end with `build-finished`.

mod support;

use std::io::Cursor;
use std::path::PathBuf;

use cargo_metadata::diagnostic::{Applicability, DiagnosticLevel};
use cargo_metadata::{CompilerMessage, Message};
use deferlint_core::diagnostic::{
    Applicability as OurApplicability, Diagnostic, Edit, Label, Severity,
};
use deferlint_core::driver::{CrateInput, Edition, Finding, TargetKind, TargetRoot};
use deferlint_core::render::json::{JsonOptions, render};
use deferlint_core::source::{Language, SourceMap, Span};
use support::{BROKEN_GO, LATIN1_RUST, TempTree, deferlint};

/// Parses a stream, failing on any line cargo_metadata does not take as a cargo message (it
/// turns those into `TextLine`), and checks that `build-finished` comes last and only there.
fn parse_stream(stdout: &str) -> (Vec<CompilerMessage>, bool) {
    let mut compiler_messages = Vec::new();
    let mut finished = None;
    for (index, message) in Message::parse_stream(Cursor::new(stdout.as_bytes())).enumerate() {
        assert!(
            finished.is_none(),
            "line {index} comes after build-finished:\n{stdout}"
        );
        match message.expect("reading from memory does not fail") {
            Message::CompilerMessage(message) => compiler_messages.push(message),
            Message::BuildFinished(build_finished) => finished = Some(build_finished.success),
            other => panic!("line {index} is not a compiler message or build-finished: {other:?}"),
        }
    }
    (
        compiler_messages,
        finished.expect("the stream ends with build-finished"),
    )
}

#[test]
fn rendered_findings_parse_as_cargo_messages() {
    let text = "\u{feff}// ü\r\nfn drop(&mut self) { self.map.lock().unwrap().insert(1, 2); }\r\n";
    let tree = TempTree::new(&[("src/lib.rs", text.as_bytes())]);
    let mut sources = SourceMap::new();
    let file = sources.add(tree.path("src/lib.rs"), "src/lib.rs".into(), Language::Rust);
    let span = |needle: &str| {
        let lo = text.find(needle).unwrap() as u32;
        Span::new(file, lo, lo + needle.len() as u32)
    };
    let diagnostic = Diagnostic::new(
        "poisoned-lock-unwrap-in-defer",
        Severity::Error,
        "`unwrap` on a lock in `drop`",
        Label::new(span("unwrap()"), "panics if poisoned"),
    )
    .with_label(Label::new(span("fn drop"), "runs while unwinding"))
    .with_note("a panic while unwinding aborts")
    .with_suggestion(
        "recover the guard",
        vec![Edit {
            span: span("unwrap()"),
            replacement: "unwrap_or_else(PoisonError::into_inner)".into(),
        }],
        OurApplicability::MachineApplicable,
    )
    .with_help("or use `try_lock`");
    let crates = [CrateInput {
        language: Language::Rust,
        name: "demo".into(),
        lib_name: Some("demo".into()),
        edition: Edition::E2021,
        root_dir: tree.root().to_path_buf(),
        targets: vec![TargetRoot {
            kind: TargetKind::Lib,
            name: "demo".into(),
            file,
        }],
        files: vec![file],
        package_id: None,
        manifest_path: None,
        extensions: Default::default(),
        features: None,
    }];
    let findings = [Finding {
        crate_index: 0,
        target_index: Some(0),
        diagnostic,
    }];
    let options = JsonOptions {
        ansi_rendered: false,
        success: false,
        explanation: |_| Some("docs".to_string()),
    };
    let stdout = render(&sources, &crates, &findings, &options);
    let (messages, success) = parse_stream(&stdout);
    assert!(!success);
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert!(
        message.package_id.repr.starts_with("path+file:///"),
        "{}",
        message.package_id.repr
    );
    assert!(
        message.package_id.repr.ends_with("#demo@0.0.0"),
        "{}",
        message.package_id.repr
    );
    assert_eq!(message.target.name, "demo");
    assert_eq!(
        message.target.src_path.as_std_path(),
        tree.path("src/lib.rs")
    );
    let diagnostic = &message.message;
    assert_eq!(diagnostic.level, DiagnosticLevel::Error);
    let code = diagnostic.code.as_ref().unwrap();
    assert_eq!(
        (code.code.as_str(), code.explanation.as_deref()),
        ("deferlint::poisoned-lock-unwrap-in-defer", Some("docs"))
    );
    let primary = &diagnostic.spans[0];
    assert!(primary.is_primary);
    assert_eq!(
        PathBuf::from(&primary.file_name),
        PathBuf::from("src/lib.rs")
    );
    assert_eq!(
        &text[primary.byte_start as usize..primary.byte_end as usize],
        "unwrap()"
    );
    // The byte-order mark is not a column; "ü" is one character.
    let expected_column = "fn drop(&mut self) { self.map.lock().".chars().count() + 1;
    assert_eq!(
        (primary.line_start, primary.column_start),
        (2, expected_column)
    );
    assert_eq!(primary.column_end, expected_column + "unwrap()".len());
    assert_eq!(primary.label.as_deref(), Some("panics if poisoned"));
    assert!(!diagnostic.spans[1].is_primary);
    assert_eq!(diagnostic.spans[1].line_start, 2);
    let levels: Vec<&DiagnosticLevel> = diagnostic
        .children
        .iter()
        .map(|child| &child.level)
        .collect();
    assert_eq!(
        levels,
        [
            &DiagnosticLevel::Note,
            &DiagnosticLevel::Help,
            &DiagnosticLevel::Help
        ]
    );
    let fix = &diagnostic.children[1].spans[0];
    assert_eq!(
        fix.suggested_replacement.as_deref(),
        Some("unwrap_or_else(PoisonError::into_inner)")
    );
    assert_eq!(
        fix.suggestion_applicability,
        Some(Applicability::MachineApplicable)
    );
    assert!(diagnostic.children[2].spans.is_empty());
    let rendered = diagnostic.rendered.as_deref().unwrap();
    assert!(rendered.starts_with("error[poisoned-lock-unwrap-in-defer]: `unwrap` on a lock in `drop`\n  --> src/lib.rs:2:"), "{rendered}");
    assert!(
        rendered.contains("= help: recover the guard: `unwrap_or_else(PoisonError::into_inner)`"),
        "{rendered}"
    );
}

#[test]
fn the_binary_writes_a_cargo_stream_to_stdout() {
    let tree = TempTree::new(&[
        ("bad.rs", LATIN1_RUST),
        ("go/broken.go", BROKEN_GO),
        ("good.rs", b"fn main() {}\n"),
    ]);
    let run = deferlint(tree.root(), &["--message-format", "json"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr.is_empty(),
        "human output and the summary stay off JSON runs: {run:#?}"
    );
    let (messages, success) = parse_stream(&run.stdout);
    assert!(success);
    let files: Vec<&str> = messages
        .iter()
        .map(|message| message.message.spans[0].file_name.as_str())
        .collect();
    assert_eq!(files, ["bad.rs", "go/broken.go"]);
    for message in &messages {
        let diagnostic = &message.message;
        assert_eq!(
            diagnostic.code.as_ref().unwrap().code,
            "deferlint::parse-error"
        );
        assert_eq!(diagnostic.level, DiagnosticLevel::Warning);
        let rendered = diagnostic.rendered.as_deref().unwrap();
        assert!(rendered.starts_with("warning[parse-error]: "), "{rendered}");
        assert!(!rendered.contains('\u{1b}'), "{rendered}");
    }
    let go = &messages[1].message.spans[0];
    assert!(
        go.line_start >= 1 && go.column_start >= 1 && !go.text.is_empty(),
        "{go:?}"
    );
    let go_target = &messages[1].target;
    assert_eq!(go_target.src_path.as_std_path(), tree.path("go/broken.go"));

    let denied = deferlint(tree.root(), &["--message-format=json", "-D", "parse-error"]);
    assert_eq!(denied.code, 1, "{denied:#?}");
    let (messages, success) = parse_stream(&denied.stdout);
    assert!(!success);
    assert!(
        messages
            .iter()
            .all(|message| message.message.level == DiagnosticLevel::Error)
    );
}

#[test]
fn rendered_carries_ansi_colours_when_asked() {
    let tree = TempTree::new(&[("broken.go", BROKEN_GO)]);
    let run = deferlint(
        tree.root(),
        &["--message-format=json-diagnostic-rendered-ansi"],
    );
    let (messages, _) = parse_stream(&run.stdout);
    assert!(!messages.is_empty(), "{run:#?}");
    assert!(messages.iter().all(|message| {
        message
            .message
            .rendered
            .as_deref()
            .unwrap()
            .contains("\u{1b}[")
    }));
}

#[test]
fn no_findings_is_just_build_finished() {
    let tree = TempTree::new(&[("empty.rs", b"")]);
    let run = deferlint(tree.root(), &["--message-format", "json"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(
        run.stdout,
        "{\"reason\":\"build-finished\",\"success\":true}\n"
    );
}

/// A run that fails with exit code 2 says so in cargo's `build-finished` too.
#[cfg(unix)]
#[test]
fn a_run_that_could_not_read_a_file_is_not_a_success() {
    let tree = TempTree::new(&[("good.rs", b"fn main() {}\n")]);
    std::os::unix::fs::symlink("nowhere.rs", tree.path("gone.rs")).unwrap();
    let run = deferlint(tree.root(), &["--message-format", "json"]);
    assert_eq!(run.code, 2, "{run:#?}");
    let (_, success) = parse_stream(&run.stdout);
    assert!(!success, "{run:#?}");
    let kept_going = deferlint(tree.root(), &["--message-format", "json", "--keep-going"]);
    assert_eq!(kept_going.code, 0, "{kept_going:#?}");
    assert!(parse_stream(&kept_going.stdout).1, "{kept_going:#?}");
}
