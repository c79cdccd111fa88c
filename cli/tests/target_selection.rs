//! Cargo's target flags pick the targets whose findings are reported, as `cargo check` picks
//! the targets it compiles; named targets that do not exist are errors, as in cargo.

mod support;

use support::{TempTree, assert_usage_error, cargo_deferlint, deferlint, fixture_without_markers};

/// A package whose library, binaries and example each hold the same finding.
fn package() -> TempTree {
    let program = fixture_without_markers(
        "poisoned-lock-unwrap-in-defer/drop_unwraps_lock_shared_with_spawned_thread.rs",
    );
    let mut files: Vec<(&str, &[u8])> = vec![(
        "Cargo.toml",
        b"[package]\nname = \"picked\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )];
    for path in [
        "src/lib.rs",
        "src/main.rs",
        "src/bin/tool.rs",
        "src/bin/other.rs",
        "examples/demo.rs",
        "tests/it.rs",
    ] {
        files.push((path, program.as_bytes()));
    }
    TempTree::new(&files)
}

/// The files with findings, from the short format.
fn reported(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.contains(": warning[poisoned-lock-unwrap-in-defer]"))
        .filter_map(|line| line.split(':').next())
        .collect()
}

#[test]
fn target_flags_pick_the_targets_reported() {
    let tree = package();
    let every = [
        "examples/demo.rs",
        "src/bin/other.rs",
        "src/bin/tool.rs",
        "src/lib.rs",
        "src/main.rs",
    ];
    let cases: [(&[&str], &[&str]); 10] = [
        (&[], &every),
        (&["--all-targets"], &every),
        (&["--lib"], &["src/lib.rs"]),
        (
            &["--bins"],
            &["src/bin/other.rs", "src/bin/tool.rs", "src/main.rs"],
        ),
        (&["--bin", "tool"], &["src/bin/tool.rs"]),
        (
            &["--bin", "t*", "--lib"],
            &["src/bin/tool.rs", "src/lib.rs"],
        ),
        (&["--examples"], &["examples/demo.rs"]),
        (
            &["--example", "demo", "--bin", "picked"],
            &["examples/demo.rs", "src/main.rs"],
        ),
        (
            &["--tests"],
            &[
                "src/bin/other.rs",
                "src/bin/tool.rs",
                "src/lib.rs",
                "src/main.rs",
            ],
        ),
        // The integration test's `main` is not called by the test harness: nothing to report.
        (&["--test", "it"], &[]),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["--message-format", "short"];
        args.extend_from_slice(flags);
        let run = cargo_deferlint(tree.root(), &args);
        assert_eq!(run.code, 0, "{flags:?}: {run:#?}");
        assert_eq!(reported(&run.stderr), expected, "{flags:?}: {run:#?}");
        args.push(".");
        let folder = deferlint(tree.root(), &args);
        assert_eq!(reported(&folder.stderr), expected, "{flags:?}: {folder:#?}");
    }
}

#[test]
fn targets_that_do_not_exist_are_errors() {
    let tree = package();
    assert_usage_error(
        &cargo_deferlint(tree.root(), &["--bin", "nope"]),
        "no bin target named `nope` (`--bin nope`); available bin targets: other, picked, tool",
    );
    assert_usage_error(
        &deferlint(tree.root(), &["--bench", "speed", "."]),
        "no bench target named `speed` (`--bench speed`); there is no bench target",
    );
    let go = TempTree::new(&[("main.go", b"package main\n\nfunc main() {}\n")]);
    assert_usage_error(
        &deferlint(go.root(), &["--lib", "."]),
        "no library targets found in the packages checked",
    );
}

#[test]
fn findings_from_the_cache_keep_their_targets() {
    let tree = package();
    let args = [
        "--message-format",
        "short",
        "--cache-dir",
        "cache",
        "--bin",
        "tool",
        ".",
    ];
    let first = deferlint(tree.root(), &args);
    let second = deferlint(tree.root(), &args);
    assert_eq!(reported(&first.stderr), ["src/bin/tool.rs"], "{first:#?}");
    assert_eq!(reported(&second.stderr), ["src/bin/tool.rs"], "{second:#?}");
}
