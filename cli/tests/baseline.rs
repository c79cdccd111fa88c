//! `--write-baseline` and `--baseline` on a real finding (the Go fixture whose goroutines write
//! a shared map in a deferred function): recorded findings pass, new ones fail, fixed ones are
//! reported, a line shift changes nothing, and a bad baseline file exits with 2.

mod support;

use std::path::Path;

use support::{Run, TempTree, assert_usage_error, deferlint};

const UNSYNC: &str = "unsync-map-write-in-defer";

/// The fixture without its `//~` markers.
fn program() -> String {
    support::fixture_without_markers(
        "unsync-map-write-in-defer/canonical_defer_write_runs_after_wg_done.go",
    )
}

/// The fixture's racy function again under another name, with another map and another write:
/// one more finding, with code of its own.
fn second_racy_function() -> String {
    identical_racy_function("riskyDeferLengths")
        .replace("m[key] = len(key)", "m[key] = 2 * len(key)")
}

/// The same function under another name with the very same lines: a finding whose
/// fingerprint equals the original's.
fn identical_racy_function(name: &str) -> String {
    program()
        .split("func riskyDeferMap() {")
        .nth(1)
        .and_then(|rest| rest.split("func main()").next())
        .map(|body| format!("func {name}() {{{body}"))
        .unwrap()
}

/// A baseline file, parsed.
fn read_baseline(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write_baseline(tree: &TempTree, baseline: &str) -> serde_json::Value {
    let run = deferlint(tree.root(), &["--write-baseline", baseline, "."]);
    assert_eq!(run.code, 0, "{run:#?}");
    read_baseline(&tree.path(baseline))
}

/// The run's stderr ends with `tail`: the baseline's summary comes last.
fn assert_ends_with(run: &Run, tail: &str) {
    assert!(
        run.stderr.ends_with(tail),
        "expected `{tail}` last in {run:#?}"
    );
}

#[test]
fn a_written_baseline_lets_the_same_findings_pass() {
    let tree = TempTree::new(&[("main.go", program().as_bytes())]);
    assert_eq!(deferlint(tree.root(), &["."]).code, 1);
    let run = deferlint(
        tree.root(),
        &["--write-baseline", "deferlint-baseline.json", "."],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(
        run.stderr,
        "deferlint: wrote 1 finding to `deferlint-baseline.json`\n"
    );
    let written = read_baseline(&tree.path("deferlint-baseline.json"));
    assert_eq!(written["version"], 1);
    let entries = written["findings"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["rule"], UNSYNC);
    assert_eq!(entries[0]["path"], "main.go");
    assert_eq!(entries[0]["line"], 19);
    assert_eq!(entries[0]["fingerprint"].as_str().unwrap().len(), 16);
    assert!(
        entries[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("deferred code writes `m`"),
        "{written:#}"
    );
    let run = deferlint(tree.root(), &["--baseline", "deferlint-baseline.json", "."]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stderr.contains("no findings"), "{run:#?}");
    assert_ends_with(&run, "deferlint: 1 finding in the baseline\n");
    let json = deferlint(
        tree.root(),
        &[
            "--baseline",
            "deferlint-baseline.json",
            "--message-format",
            "json",
            ".",
        ],
    );
    assert_eq!(json.code, 0, "{json:#?}");
    assert_eq!(
        json.stdout,
        "{\"reason\":\"build-finished\",\"success\":true}\n"
    );
}

#[test]
fn only_a_new_finding_is_reported_and_decides_the_exit_code() {
    let tree = TempTree::new(&[("main.go", program().as_bytes())]);
    write_baseline(&tree, "baseline.json");
    let changed = program() + "\n" + &second_racy_function();
    std::fs::write(tree.path("main.go"), &changed).unwrap();
    let run = deferlint(
        tree.root(),
        &[
            "--baseline",
            "baseline.json",
            "--message-format",
            "short",
            ".",
        ],
    );
    assert_eq!(run.code, 1, "{run:#?}");
    let findings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains(&format!("error[{UNSYNC}]")))
        .collect();
    let new_line = changed
        .lines()
        .position(|line| line.contains("m[key] = 2 * len(key)"))
        .unwrap()
        + 1;
    assert_eq!(findings.len(), 1, "{run:#?}");
    assert!(
        findings[0].starts_with(&format!("main.go:{new_line}:")),
        "{run:#?}"
    );
    assert_ends_with(&run, "deferlint: 1 finding in the baseline\n");
}

#[test]
fn a_fixed_finding_is_reported_as_fixed() {
    let tree = TempTree::new(&[("main.go", program().as_bytes())]);
    write_baseline(&tree, "baseline.json");
    let fixed = program().replace(
        "defer func() { m[key] = len(key) }()",
        "defer func() { _ = len(key) }()",
    );
    std::fs::write(tree.path("main.go"), fixed).unwrap();
    let run = deferlint(tree.root(), &["--baseline", "baseline.json", "."]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_ends_with(
        &run,
        "deferlint: 0 findings in the baseline; 1 baseline finding is fixed, run --write-baseline to update it\n",
    );
}

#[test]
fn lines_inserted_above_a_finding_leave_it_matched_and_an_edit_of_it_does_not() {
    let tree = TempTree::new(&[("main.go", program().as_bytes())]);
    write_baseline(&tree, "baseline.json");
    let shifted = program().replace(
        "func riskyDeferMap() {",
        "// Records the length of every key.\n\nfunc helper() int { return 1 }\n\nfunc riskyDeferMap() {\n\t// Keys are short.",
    );
    std::fs::write(tree.path("main.go"), &shifted).unwrap();
    let run = deferlint(tree.root(), &["--baseline", "baseline.json", "."]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_ends_with(&run, "deferlint: 1 finding in the baseline\n");
    // Editing the flagged code makes it a new finding, and the old one fixed.
    let edited = shifted.replace("m[key] = len(key)", "m[key] = len(key) + 1");
    std::fs::write(tree.path("main.go"), edited).unwrap();
    let run = deferlint(tree.root(), &["--baseline", "baseline.json", "."]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(
        run.stderr.contains("1 baseline finding is fixed"),
        "{run:#?}"
    );
}

#[test]
fn identical_findings_are_counted() {
    let two = program() + "\n" + &identical_racy_function("riskyCopy");
    let tree = TempTree::new(&[("main.go", two.as_bytes())]);
    let written = write_baseline(&tree, "baseline.json");
    let entries = written["findings"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["fingerprint"], entries[1]["fingerprint"]);
    let three = two.clone() + "\n" + &identical_racy_function("riskyThirdCopy");
    std::fs::write(tree.path("main.go"), three).unwrap();
    let run = deferlint(tree.root(), &["--baseline", "baseline.json", "."]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.stderr.contains("1 error, 0 warnings"), "{run:#?}");
    assert_ends_with(&run, "deferlint: 2 findings in the baseline\n");
}

#[test]
fn paths_are_relative_to_the_baseline_so_any_current_folder_works() {
    let tree = TempTree::new(&[
        ("project/main.go", program().as_bytes()),
        ("project/ci/.keep", b""),
    ]);
    let run = deferlint(
        &tree.path("project"),
        &["--write-baseline", "ci/baseline.json", "."],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    let written = read_baseline(&tree.path("project/ci/baseline.json"));
    assert_eq!(written["findings"][0]["path"], "../main.go");
    let run = deferlint(
        tree.root(),
        &["--baseline", "project/ci/baseline.json", "project"],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert_ends_with(&run, "deferlint: 1 finding in the baseline\n");
}

#[test]
fn a_bad_baseline_exits_with_2_and_names_the_file() {
    let tree = TempTree::new(&[
        ("main.go", program().as_bytes()),
        ("broken.json", b"{ \"version\": 1, "),
        ("future.json", b"{ \"version\": 7, \"findings\": [] }"),
        ("other.json", b"{ \"version\": 1, \"rules\": [] }"),
    ]);
    assert_usage_error(
        &deferlint(tree.root(), &["--baseline", "broken.json", "."]),
        "cannot use the baseline `broken.json`: it is not valid JSON",
    );
    assert_usage_error(
        &deferlint(tree.root(), &["--baseline", "future.json", "."]),
        "cannot use the baseline `future.json`: it has version 7; this deferlint reads version 1",
    );
    assert_usage_error(
        &deferlint(tree.root(), &["--baseline", "other.json", "."]),
        "cannot use the baseline `other.json`: it is not a deferlint baseline (missing field `findings`",
    );
    assert_usage_error(
        &deferlint(tree.root(), &["--baseline", "missing.json", "."]),
        "could not read the baseline `missing.json`",
    );
    assert_usage_error(
        &deferlint(
            tree.root(),
            &["--write-baseline", "no/such/folder/b.json", "."],
        ),
        "could not write the baseline `no/such/folder/b.json`",
    );
}

#[test]
fn no_baseline_is_written_while_a_suppression_comment_is_invalid() {
    let text = program().replace(
        "func main() {",
        "func main() { // deferlint: allow no-such-rule",
    );
    let tree = TempTree::new(&[("main.go", text.as_bytes())]);
    let run = deferlint(tree.root(), &["--write-baseline", "baseline.json", "."]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert_ends_with(&run, "; the baseline was not written\n");
    assert!(!tree.path("baseline.json").exists());
}
