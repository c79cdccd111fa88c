//! `cargo deferlint` on a real (temporary) cargo workspace: package selection as cargo does it,
//! one unit per package, and the cargo fields of the JSON stream.

mod support;

use std::io::Cursor;

use cargo_metadata::Message;
use support::{LATIN1_RUST, TempTree, assert_usage_error, cargo_deferlint};

/// A virtual workspace with two members; `beta` has a library, a binary, an integration test,
/// a nested package that is not a member, and a non-UTF-8 file (a finding whatever the engine
/// does with Rust).
fn workspace() -> TempTree {
    TempTree::new(&[
        (
            "Cargo.toml",
            b"[workspace]\nresolver = \"2\"\nmembers = [\"crates/alpha\", \"crates/beta\"]\n",
        ),
        (
            "crates/alpha/Cargo.toml",
            b"[package]\nname = \"alpha\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("crates/alpha/src/lib.rs", b"pub fn alpha() {}\n"),
        (
            "crates/beta/Cargo.toml",
            b"[package]\nname = \"beta\"\nversion = \"0.2.0\"\nedition = \"2018\"\n",
        ),
        ("crates/beta/src/lib.rs", b"pub fn beta() {}\n"),
        ("crates/beta/src/main.rs", b"fn main() {}\n"),
        ("crates/beta/tests/it.rs", b"#[test]\nfn it() {}\n"),
        ("crates/beta/src/legacy.rs", LATIN1_RUST),
        (
            "crates/beta/fixtures/other/Cargo.toml",
            b"[package]\nname = \"other\"\nversion = \"0.1.0\"\n[workspace]\n",
        ),
        ("crates/beta/fixtures/other/src/lib.rs", LATIN1_RUST),
    ])
}

fn files_in_summary(stderr: &str) -> usize {
    let summary = stderr.lines().last().unwrap_or_default();
    let count = summary
        .split(" in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next());
    count
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no summary line in {stderr}"))
}

#[test]
fn checks_every_member_and_nothing_else() {
    let tree = workspace();
    let run = cargo_deferlint(tree.root(), &["--quiet", "--message-format", "json"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let messages: Vec<Message> = Message::parse_stream(Cursor::new(run.stdout.as_bytes()))
        .map(Result::unwrap)
        .collect();
    let compiler_messages: Vec<_> = messages
        .iter()
        .filter_map(|message| match message {
            Message::CompilerMessage(message) => Some(message),
            _ => None,
        })
        .collect();
    // One finding: beta's non-UTF-8 file. The nested package `other` is not a member.
    assert_eq!(compiler_messages.len(), 1, "{run:#?}");
    let message = compiler_messages[0];
    assert_eq!(
        message.message.spans[0].file_name,
        "crates/beta/src/legacy.rs"
    );
    assert!(
        message.package_id.repr.contains("crates/beta"),
        "{}",
        message.package_id.repr
    );
    assert!(
        message.package_id.repr.contains("0.2.0"),
        "{}",
        message.package_id.repr
    );
    assert_eq!(message.target.name, "beta");
    assert!(matches!(messages.last(), Some(Message::BuildFinished(finished)) if finished.success));
    let human = cargo_deferlint(tree.root(), &[]);
    assert_eq!(human.code, 0, "{human:#?}");
    // alpha: lib.rs; beta: lib.rs, main.rs, tests/it.rs, and src/legacy.rs, which is not UTF-8
    // and so counted apart.
    assert_eq!(files_in_summary(&human.stderr), 4, "{human:#?}");
    assert!(
        human.stderr.contains(" in 4 files, 1 file not checked ("),
        "{human:#?}"
    );
}

/// The package id of every compiler message of a JSON run, by file.
fn package_ids(stdout: &str) -> Vec<(String, String)> {
    Message::parse_stream(Cursor::new(stdout.as_bytes()))
        .filter_map(|message| match message.unwrap() {
            Message::CompilerMessage(message) => Some((
                message.message.spans[0].file_name.clone(),
                message.package_id.repr,
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn path_mode_gives_packages_the_ids_cargo_gives_them() {
    let tree = workspace();
    std::fs::write(tree.path("crates/alpha/src/bad.rs"), LATIN1_RUST).unwrap();
    let cargo = cargo_deferlint(tree.root(), &["--message-format=json"]);
    let path = support::deferlint(tree.root(), &["--message-format=json", "crates"]);
    let cargo_ids: Vec<String> = package_ids(&cargo.stdout)
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    let path_ids: Vec<String> = package_ids(&path.stdout)
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(cargo_ids.len(), 2, "{cargo:#?}");
    assert!(cargo_ids[1].ends_with("crates/beta#0.2.0"), "{cargo_ids:?}");
    // Path mode also checks the nested package, a workspace of its own for cargo.
    let (nested, members): (Vec<String>, Vec<String>) = path_ids
        .into_iter()
        .partition(|id| id.contains("/fixtures/other"));
    assert_eq!(members, cargo_ids, "{path:#?}");
    assert_eq!(nested.len(), 1, "{path:#?}");
    assert!(
        nested[0].ends_with("/crates/beta/fixtures/other#0.1.0"),
        "{nested:?}"
    );
}

#[test]
fn exits_with_0_when_there_are_no_findings() {
    let tree = workspace();
    std::fs::remove_file(tree.path("crates/beta/src/legacy.rs")).unwrap();
    let run = cargo_deferlint(tree.root(), &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr
            .starts_with("deferlint: no findings in 4 files ("),
        "{run:#?}"
    );
}

#[test]
fn package_selection_by_name_id_and_exclusion() {
    let tree = workspace();
    let alpha = cargo_deferlint(tree.root(), &["-p", "alpha"]);
    assert_eq!(alpha.code, 0, "{alpha:#?}");
    assert_eq!(files_in_summary(&alpha.stderr), 1, "{alpha:#?}");
    let versioned = cargo_deferlint(tree.root(), &["--package", "beta@0.2.0", "-p", "alpha"]);
    assert_eq!(files_in_summary(&versioned.stderr), 4, "{versioned:#?}");
    let excluded = cargo_deferlint(tree.root(), &["--workspace", "--exclude", "beta"]);
    assert_eq!(files_in_summary(&excluded.stderr), 1, "{excluded:#?}");
    // rust-analyzer names packages by their full id.
    let json = cargo_deferlint(tree.root(), &["--message-format=json", "-p", "beta"]);
    let id = Message::parse_stream(Cursor::new(json.stdout.as_bytes()))
        .find_map(|message| match message.unwrap() {
            Message::CompilerMessage(message) => Some(message.package_id.repr),
            _ => None,
        })
        .expect("beta has a finding");
    let by_id = cargo_deferlint(tree.root(), &["-p", &id]);
    assert_eq!(files_in_summary(&by_id.stderr), 3, "{by_id:#?}");
    assert_usage_error(
        &cargo_deferlint(tree.root(), &["-p", "gamma"]),
        "package `gamma` is not a member of the workspace",
    );
}

#[test]
fn default_members_follow_the_current_package_like_cargo() {
    let tree = workspace();
    let in_alpha = cargo_deferlint(&tree.path("crates/alpha/src"), &[]);
    assert_eq!(in_alpha.code, 0, "{in_alpha:#?}");
    assert_eq!(files_in_summary(&in_alpha.stderr), 1, "{in_alpha:#?}");
}

#[test]
fn rust_analyzer_invocation() {
    let tree = workspace();
    let manifest = tree.path("Cargo.toml");
    let elsewhere = TempTree::new(&[]);
    let target_dir = tree.path("target/rust-analyzer");
    let run = cargo_deferlint(
        elsewhere.root(),
        &[
            "--workspace",
            "--message-format=json-diagnostic-rendered-ansi",
            "--manifest-path",
            manifest.to_str().unwrap(),
            "--keep-going",
            "--all-targets",
            "--target-dir",
            target_dir.to_str().unwrap(),
            "--features",
            "x",
            "--all-features",
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    let messages: Vec<Message> = Message::parse_stream(Cursor::new(run.stdout.as_bytes()))
        .map(Result::unwrap)
        .collect();
    assert!(
        matches!(messages.last(), Some(Message::BuildFinished(_))),
        "{run:#?}"
    );
    let rendered: Vec<String> = messages
        .iter()
        .filter_map(|message| match message {
            Message::CompilerMessage(message) => message.message.rendered.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(rendered.len(), 1, "{run:#?}");
    assert!(rendered[0].contains('\u{1b}'), "{rendered:?}");
}
