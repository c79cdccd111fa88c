//! `--fix`: the machine-applicable edits are applied, the result parses and is no longer
//! reported, a second run changes nothing, and files git could not restore are refused.

mod support;

use std::io::Cursor;
use std::path::Path;
use std::process::Command;

use cargo_metadata::Message;
use support::{Run, TempTree, cargo_deferlint, deferlint, deferlint_with_env};

/// A registry whose entries unregister themselves on drop, shared with a worker thread. Three
/// statements drop a removed entry while a temporary guard still holds the registry
/// (`lock-reentered-in-defer`, fixed by binding the value and dropping it after the
/// statement); the one in `Drop` also unwraps the lock (`poisoned-lock-unwrap-in-defer`, fixed
/// by recovering the guard). Both fixes land in the same statement.
const REGISTRY: &str = r#"use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;

type Registry = Arc<Mutex<HashMap<u64, Registration>>>;

struct Registration {
    id: u64,
    registry: Registry,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().unwrap().remove(&self.id);
    }
}

fn register(registry: &Registry, id: u64) {
    let registration = Registration {
        id,
        registry: Arc::clone(registry),
    };
    registry.lock().unwrap().insert(id, registration);
}

fn unregister(registry: &Registry, id: u64) {
    registry.lock().unwrap().remove(&id);
}

fn main() {
    let registry: Registry = Arc::new(Mutex::new(HashMap::new()));
    let worker_registry = Arc::clone(&registry);
    let worker = thread::spawn(move || {
        register(&worker_registry, 1);
        unregister(&worker_registry, 1);
    });
    worker.join().unwrap();
}
"#;

/// A file with no findings, which `--fix` must not touch.
const CLEAN: &str = "fn main() {}\n";

/// Runs git in `dir` with a fixed identity and no user or system configuration.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args([
            "-c",
            "user.name=deferlint tests",
            "-c",
            "user.email=tests@deferlint.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git is installed");
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// A temporary tree committed to a new git repository.
fn committed_tree(files: &[(&str, &[u8])]) -> TempTree {
    let tree = TempTree::new(files);
    git(tree.root(), &["init", "--quiet"]);
    git(tree.root(), &["add", "--all"]);
    git(tree.root(), &["commit", "--quiet", "--message", "initial"]);
    tree
}

fn read(tree: &TempTree, relative: &str) -> String {
    std::fs::read_to_string(tree.path(relative)).unwrap()
}

/// The files of the tree outside `.git`, sorted.
fn files_in(tree: &TempTree) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(tree.root())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != ".git")
        .collect();
    names.sort();
    names
}

fn assert_success(run: &Run) {
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
}

#[test]
fn fixes_are_applied_and_the_findings_are_gone() {
    let tree = committed_tree(&[
        ("registry.rs", REGISTRY.as_bytes()),
        ("clean.rs", CLEAN.as_bytes()),
    ]);
    let run = deferlint(tree.root(), &["--fix", "."]);
    assert_success(&run);
    // The statement in `unregister` is reported only once the one in `register`, whose
    // finding looks the same, is fixed: the second round finds it.
    assert!(
        run.stderr.starts_with(
            "deferlint: fixed 4 findings in 1 file: lock-reentered-in-defer ×3, poisoned-lock-unwrap-in-defer ×1\n  registry.rs: lock-reentered-in-defer ×3, poisoned-lock-unwrap-in-defer ×1\n"
        ),
        "{run:#?}"
    );
    assert!(
        run.stderr.ends_with(")\n") && run.stderr.contains("deferlint: no findings in 2 files"),
        "{run:#?}"
    );
    insta::assert_snapshot!("registry_fixed", read(&tree, "registry.rs"));
    // Only the file with edits was written, and no temporary file is left behind.
    assert_eq!(
        git(tree.root(), &["status", "--porcelain"]),
        " M registry.rs\n"
    );
    assert_eq!(files_in(&tree), ["clean.rs", "registry.rs"]);
    // The result parses and nothing is reported, whatever the level.
    let check = deferlint(
        tree.root(),
        &["-D", "warnings", "--message-format", "short", "."],
    );
    assert_success(&check);
    assert!(!check.stderr.contains("parse-error"), "{check:#?}");
    assert!(check.stderr.contains("no findings"), "{check:#?}");
}

#[test]
fn a_second_run_changes_nothing() {
    let tree = committed_tree(&[("registry.rs", REGISTRY.as_bytes())]);
    assert_success(&deferlint(tree.root(), &["--fix", "."]));
    let after_first = std::fs::read(tree.path("registry.rs")).unwrap();
    // The file now has uncommitted changes, but there is nothing left to write.
    let run = deferlint(tree.root(), &["--fix", "."]);
    assert_success(&run);
    assert!(
        run.stderr
            .starts_with("deferlint: nothing to fix: no finding has a machine-applicable fix\n"),
        "{run:#?}"
    );
    assert_eq!(
        std::fs::read(tree.path("registry.rs")).unwrap(),
        after_first
    );
}

#[test]
fn files_with_uncommitted_changes_are_refused() {
    let tree = committed_tree(&[
        ("registry.rs", REGISTRY.as_bytes()),
        ("staged.rs", REGISTRY.as_bytes()),
    ]);
    let edited = format!("{REGISTRY}// work in progress\n");
    std::fs::write(tree.path("registry.rs"), &edited).unwrap();
    std::fs::write(tree.path("staged.rs"), &edited).unwrap();
    git(tree.root(), &["add", "staged.rs"]);
    std::fs::write(tree.path("untracked.rs"), REGISTRY).unwrap();
    let run = deferlint(tree.root(), &["--fix", "."]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr
            .starts_with("error: `--fix` would change files that have uncommitted changes"),
        "{run:#?}"
    );
    for named in [
        "  * registry.rs (modified)\n",
        "  * staged.rs (staged)\n",
        "  * untracked.rs (untracked)",
        "pass `--allow-dirty`",
    ] {
        assert!(run.stderr.contains(named), "`{named}` missing: {run:#?}");
    }
    assert_eq!(read(&tree, "registry.rs"), edited);
    assert_eq!(read(&tree, "staged.rs"), edited);
    assert_eq!(read(&tree, "untracked.rs"), REGISTRY);
    assert!(run.stdout.is_empty(), "{run:#?}");
}

#[test]
fn a_dirty_file_without_fixes_does_not_stop_the_others() {
    let tree = committed_tree(&[
        ("registry.rs", REGISTRY.as_bytes()),
        ("clean.rs", CLEAN.as_bytes()),
    ]);
    std::fs::write(tree.path("clean.rs"), "fn main() { println!(); }\n").unwrap();
    assert_success(&deferlint(tree.root(), &["--fix", "."]));
    assert!(read(&tree, "registry.rs").contains("PoisonError::into_inner"));
}

#[test]
fn allow_dirty_fixes_files_with_uncommitted_changes() {
    let tree = committed_tree(&[("registry.rs", REGISTRY.as_bytes())]);
    let edited = format!("{REGISTRY}// work in progress\n");
    std::fs::write(tree.path("registry.rs"), &edited).unwrap();
    let run = deferlint(tree.root(), &["--fix", "--allow-dirty", "."]);
    assert_success(&run);
    let fixed = read(&tree, "registry.rs");
    assert!(fixed.ends_with("// work in progress\n"), "{fixed}");
    assert!(fixed.contains("PoisonError::into_inner"), "{fixed}");
}

#[test]
fn outside_git_only_allow_dirty_fixes() {
    let tree = TempTree::new(&[("registry.rs", REGISTRY.as_bytes())]);
    // Git must not find a repository above the temporary folder either.
    let ceiling = tree.root().parent().unwrap().to_str().unwrap().to_string();
    let env = [("GIT_CEILING_DIRECTORIES", ceiling.as_str())];
    let run = deferlint_with_env(tree.root(), &["--fix", "."], &env);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr
            .contains("  * registry.rs (not in a git repository)"),
        "{run:#?}"
    );
    assert_eq!(read(&tree, "registry.rs"), REGISTRY);
    let run = deferlint_with_env(tree.root(), &["--fix", "--allow-dirty", "."], &env);
    assert_success(&run);
    assert!(read(&tree, "registry.rs").contains("PoisonError::into_inner"));
}

#[test]
fn without_git_only_allow_dirty_fixes() {
    let tree = committed_tree(&[("registry.rs", REGISTRY.as_bytes())]);
    // A PATH where no git can be found, though the tree is a repository.
    let env = [("PATH", "")];
    let run = deferlint_with_env(tree.root(), &["--fix", "."], &env);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.contains("  * registry.rs (git was not found)"),
        "{run:#?}"
    );
    assert_eq!(read(&tree, "registry.rs"), REGISTRY);
    assert_success(&deferlint_with_env(
        tree.root(),
        &["--fix", "--allow-dirty", "."],
        &env,
    ));
    assert!(read(&tree, "registry.rs").contains("PoisonError::into_inner"));
}

#[test]
fn allow_dirty_needs_fix() {
    let tree = TempTree::new(&[("main.rs", CLEAN.as_bytes())]);
    let run = deferlint(tree.root(), &["--allow-dirty", "."]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stderr.contains("--fix"), "{run:#?}");
}

#[test]
fn one_fix_suggested_by_two_findings_is_applied_once() {
    // `Drop` locks the registry twice, so each statement that drops a removed registration
    // under a temporary guard is two findings, each suggesting the same edits.
    let source = r#"use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Registry = Arc<Mutex<HashMap<u64, Subscription>>>;

struct Subscription {
    id: u64,
    registry: Registry,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let left = self.registry.lock().unwrap().len();
        self.registry.lock().unwrap().remove(&self.id);
        println!("{left}");
    }
}

fn subscribe(registry: &Registry, id: u64) {
    let subscription = Subscription {
        id,
        registry: Arc::clone(registry),
    };
    registry.lock().unwrap().insert(id, subscription);
}

fn main() {
    let registry: Registry = Arc::new(Mutex::new(HashMap::new()));
    subscribe(&registry, 1);
    subscribe(&registry, 1);
}
"#;
    let tree = committed_tree(&[("overlap.rs", source.as_bytes())]);
    let before = deferlint(tree.root(), &["--message-format", "short", "."]);
    assert_eq!(
        before
            .stderr
            .matches("error[lock-reentered-in-defer]")
            .count(),
        4,
        "{before:#?}"
    );
    let run = deferlint(tree.root(), &["--fix", "."]);
    assert_success(&run);
    assert!(
        run.stderr
            .starts_with("deferlint: fixed 4 findings in 1 file"),
        "{run:#?}"
    );
    let expected = source
        .replace(
            "        self.registry.lock().unwrap().remove(&self.id);",
            "        let removed = self.registry.lock().unwrap().remove(&self.id); drop(removed);",
        )
        .replace(
            "    registry.lock().unwrap().insert(id, subscription);",
            "    let removed = registry.lock().unwrap().insert(id, subscription); drop(removed);",
        );
    assert_eq!(read(&tree, "overlap.rs"), expected);
}

#[test]
fn crlf_line_endings_are_kept() {
    let crlf = REGISTRY.replace('\n', "\r\n");
    let tree = committed_tree(&[
        ("lf/registry.rs", REGISTRY.as_bytes()),
        ("crlf/registry.rs", crlf.as_bytes()),
    ]);
    assert_success(&deferlint(tree.root(), &["--fix", "lf", "crlf"]));
    let fixed_lf = read(&tree, "lf/registry.rs");
    assert!(fixed_lf.contains("PoisonError::into_inner"), "{fixed_lf}");
    assert_eq!(
        read(&tree, "crlf/registry.rs"),
        fixed_lf.replace('\n', "\r\n")
    );
}

#[test]
fn findings_without_a_machine_applicable_fix_are_left_and_fail_the_run() {
    // `clear()` drops the values inside the critical section: the help says what to do, but
    // there is no mechanical edit. The two statements that discard a removed value are fixed.
    let source = r#"use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Subscriptions = Arc<Mutex<HashMap<u64, Subscription>>>;

struct Subscription {
    id: u64,
    registry: Subscriptions,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.registry.lock().unwrap().remove(&self.id);
    }
}

fn subscribe(registry: &Subscriptions, id: u64) {
    let subscription = Subscription {
        id,
        registry: Arc::clone(registry),
    };
    registry.lock().unwrap().insert(id, subscription);
}

fn shutdown(registry: &Subscriptions) {
    let mut subscriptions = registry.lock().unwrap();
    subscriptions.clear();
}

fn main() {
    let registry: Subscriptions = Arc::new(Mutex::new(HashMap::new()));
    subscribe(&registry, 1);
    shutdown(&registry);
}
"#;
    let tree = committed_tree(&[("shutdown.rs", source.as_bytes())]);
    let run = deferlint(tree.root(), &["--fix", "--message-format", "short", "."]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr
            .starts_with("deferlint: fixed 2 findings in 1 file: lock-reentered-in-defer ×2\n"),
        "{run:#?}"
    );
    let left: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains("error["))
        .collect();
    assert_eq!(
        left,
        [
            "shutdown.rs:13:23: error[lock-reentered-in-defer]: deferred code locks `registry` while `subscriptions` still holds it"
        ],
        "{run:#?}"
    );
    let fixed = read(&tree, "shutdown.rs");
    assert!(fixed.contains("\n    subscriptions.clear();\n"), "{fixed}");
    assert_eq!(fixed.matches("let removed = ").count(), 2, "{fixed}");
}

#[test]
fn json_output_after_fixing_is_a_cargo_stream_of_what_is_left() {
    let source = REGISTRY.replace(
        "fn unregister(registry: &Registry, id: u64) {\n    registry.lock().unwrap().remove(&id);\n}",
        "fn unregister(registry: &Registry, id: u64) {\n    let mut entries = registry.lock().unwrap();\n    entries.clear();\n    entries.insert(id, Registration { id, registry: Arc::clone(registry) });\n}",
    );
    let tree = committed_tree(&[("registry.rs", source.as_bytes())]);
    let run = deferlint(tree.root(), &["--fix", "--message-format", "json", "."]);
    assert!(run.stderr.starts_with("deferlint: fixed "), "{run:#?}");
    let mut codes = Vec::new();
    let mut finished = None;
    for message in Message::parse_stream(Cursor::new(run.stdout.as_bytes())) {
        match message.unwrap() {
            Message::CompilerMessage(message) => codes.push(
                message
                    .message
                    .code
                    .map(|code| code.code)
                    .unwrap_or_default(),
            ),
            Message::BuildFinished(build_finished) => finished = Some(build_finished.success),
            other => panic!("not a compiler message or build-finished: {other:?}\n{run:#?}"),
        }
    }
    assert!(!codes.is_empty(), "{run:#?}");
    assert!(
        codes
            .iter()
            .all(|code| code == "deferlint::lock-reentered-in-defer"),
        "{codes:?}"
    );
    assert_eq!(finished, Some(run.code == 0), "{run:#?}");
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stdout
            .ends_with("\"build-finished\",\"success\":false}\n"),
        "{run:#?}"
    );
}

#[test]
fn cargo_deferlint_fixes_the_workspace() {
    let manifest = "[package]\nname = \"registry\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";
    let tree = committed_tree(&[
        ("Cargo.toml", manifest.as_bytes()),
        ("src/main.rs", REGISTRY.as_bytes()),
    ]);
    let run = cargo_deferlint(tree.root(), &["--fix"]);
    assert_success(&run);
    assert!(
        run.stderr.contains(
            "\n  src/main.rs: lock-reentered-in-defer ×3, poisoned-lock-unwrap-in-defer ×1\n"
        ),
        "{run:#?}"
    );
    // The same edits as `deferlint --fix` makes on the file alone.
    let alone = committed_tree(&[("registry.rs", REGISTRY.as_bytes())]);
    assert_success(&deferlint(alone.root(), &["--fix", "."]));
    assert_eq!(read(&tree, "src/main.rs"), read(&alone, "registry.rs"));
}
