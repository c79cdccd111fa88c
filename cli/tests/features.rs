//! Cargo features decide which `cfg(feature = ..)` code is checked, in both modes: `deferlint
//! PATH` reads the `[features]` table of the `Cargo.toml`, `cargo deferlint` asks cargo. Each
//! gated module holds the same hazard (a `Drop` that unwraps a lock poisoned by the panicking
//! thread that owns the guard), told apart by the message of its `expect`.

mod support;

use support::{Run, TempTree, cargo_deferlint, deferlint, fixture_without_markers};

/// The fixture as a module body: no `//@` header, `main` renamed, and its `expect` message
/// naming the module, which the rendered finding shows.
fn hazard(name: &str) -> String {
    fixture_without_markers("poisoned-lock-unwrap-in-defer/drop_expects_lock.rs")
        .lines()
        .filter(|line| !line.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("fn main()", "pub fn run()")
        .replace(
            "in-flight table poisoned",
            &format!("table {name} poisoned"),
        )
}

/// `src/lib.rs` with one hazard per gate, `src/gated.rs` behind `feature = "b"`, a file that
/// does not parse behind `feature = "b"` too, and `src/main.rs` whose `Mutex` is tokio's with
/// the `tokio` feature (an optional dependency) and std's without.
fn package() -> TempTree {
    let module = |name: &str, gate: &str| format!("{gate}\nmod {name} {{\n{}\n}}\n", hazard(name));
    let lib = [
        module("always", ""),
        module("only_b", "#[cfg(feature = \"b\")]"),
        module("without_a", "#[cfg(not(feature = \"a\"))]"),
        module("unix_only", "#[cfg(unix)]"),
        "#[cfg(feature = \"b\")]\nmod gated;\n#[cfg(feature = \"b\")]\nmod broken;\n".to_string(),
    ]
    .concat();
    let main = hazard("main").replace("pub fn run()", "fn main()").replace(
        "use std::sync::{Arc, Mutex};",
        "use std::sync::Arc;\n\
             #[cfg(feature = \"tokio\")]\n\
             use tokio::sync::Mutex;\n\
             #[cfg(not(feature = \"tokio\"))]\n\
             use std::sync::Mutex;",
    );
    TempTree::new(&[
        (
            "Cargo.toml",
            b"[package]\nname = \"probe\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
              [features]\ndefault = [\"a\"]\na = []\nb = []\n\n\
              [dependencies]\ntokio = { version = \"1\", optional = true }\n",
        ),
        ("src/lib.rs", lib.as_bytes()),
        ("src/gated.rs", hazard("gated").as_bytes()),
        ("src/broken.rs", b"fn broken( {\n"),
        ("src/main.rs", main.as_bytes()),
    ])
}

/// The gated modules whose hazard was reported, sorted, and whether a parse error was.
fn reported(run: &Run) -> (Vec<String>, bool) {
    assert!(run.code == 0 || run.code == 1, "{run:#?}");
    let mut names: Vec<String> = run
        .stderr
        .lines()
        .filter_map(|line| {
            let start = line.find("\"table ")? + "\"table ".len();
            let rest = &line[start..];
            Some(rest[..rest.find(' ')?].to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    (names, run.stderr.contains("parse-error"))
}

fn names(list: &[&str]) -> (Vec<String>, bool) {
    (list.iter().map(|name| name.to_string()).collect(), false)
}

fn with_parse_error(list: &[&str]) -> (Vec<String>, bool) {
    (names(list).0, true)
}

/// Both modes, with the same flags, report the same modules.
fn check(flags: &[&str], expected: (Vec<String>, bool)) {
    let tree = package();
    let mut path_args = vec!["."];
    path_args.extend(flags);
    assert_eq!(
        reported(&deferlint(tree.root(), &path_args)),
        expected,
        "deferlint . {flags:?}"
    );
    assert_eq!(
        reported(&cargo_deferlint(tree.root(), flags)),
        expected,
        "cargo deferlint {flags:?}"
    );
}

#[test]
fn default_features_leave_out_code_for_other_features() {
    // `gated.rs` and `broken.rs` are behind `feature = "b"`: neither their hazard nor their
    // syntax error is seen. `cfg(unix)` is not a feature: always checked.
    check(&[], names(&["always", "main", "unix_only"]));
}

#[test]
fn features_asked_for_are_checked() {
    let with_b = with_parse_error(&["always", "gated", "main", "only_b", "unix_only"]);
    check(&["--features", "b"], with_b.clone());
    check(&["-F", "a,b"], with_b.clone());
    check(&["--features", "probe/b"], with_b);
    // Another package's feature is not this one's.
    check(
        &["--features", "other/b"],
        names(&["always", "main", "unix_only"]),
    );
}

#[test]
fn no_default_features_checks_code_for_their_absence() {
    check(
        &["--no-default-features"],
        names(&["always", "main", "unix_only", "without_a"]),
    );
}

#[test]
fn all_features_check_every_feature_and_pick_tokio() {
    // With `tokio` on, `main.rs` locks a tokio mutex, which cannot be poisoned.
    check(
        &["--all-features"],
        with_parse_error(&["always", "gated", "only_b", "unix_only"]),
    );
    check(&["--features", "tokio"], names(&["always", "unix_only"]));
}

#[test]
fn rust_analyzer_feature_flags_keep_working() {
    // rust-analyzer's check command with `cargo.features = "all"`, and with a list.
    let tree = package();
    let run = cargo_deferlint(
        tree.root(),
        &[
            "--workspace",
            "--message-format=json-diagnostic-rendered-ansi",
            "--all-targets",
            "--all-features",
            "--keep-going",
        ],
    );
    assert_ne!(run.code, 2, "{run:#?}");
    assert!(run.stdout.contains("table only_b poisoned"), "{run:#?}");
    let run = cargo_deferlint(
        tree.root(),
        &[
            "--workspace",
            "--message-format=json",
            "--features",
            "b",
            "--no-default-features",
        ],
    );
    assert_ne!(run.code, 2, "{run:#?}");
    assert!(run.stdout.contains("table only_b poisoned"), "{run:#?}");
    assert!(run.stdout.contains("table without_a poisoned"), "{run:#?}");
}

#[test]
fn the_cache_does_not_answer_for_another_feature_set() {
    let tree = package();
    let cache = tree.path("cache");
    let cache = cache.to_str().unwrap();
    let first = reported(&deferlint(tree.root(), &[".", "--cache-dir", cache]));
    assert_eq!(first, names(&["always", "main", "unix_only"]));
    let with_b = deferlint(tree.root(), &[".", "--cache-dir", cache, "--features", "b"]);
    assert_eq!(
        reported(&with_b),
        with_parse_error(&["always", "gated", "main", "only_b", "unix_only"])
    );
    let again = reported(&deferlint(tree.root(), &[".", "--cache-dir", cache]));
    assert_eq!(again, first);
}
