//! `--cache-dir`: a unit whose files, rules and configuration did not change is taken from the
//! cache; anything else is analysed again. To see which path a run took, the tests rewrite
//! the message stored in an entry: a run that prints the rewritten message read the entry, a
//! run that prints the rule's own message analysed the unit.

mod support;

use std::path::{Path, PathBuf};

use support::{TempTree, deferlint, deferlint_with_env};

const UNSYNC: &str = "unsync-map-write-in-defer";
const FROM_CACHE: &str = "message read from the cache";

/// A Go program with one finding: goroutines write a shared map in a deferred function (the
/// fixture without its `//~` markers).
fn program() -> String {
    support::fixture_without_markers(
        "unsync-map-write-in-defer/canonical_defer_write_runs_after_wg_done.go",
    )
}

/// Two Go packages, each with its finding: two units. The test file is not checked (without
/// `--tests`), so it is not counted either, with or without the cache.
fn two_units() -> TempTree {
    TempTree::new(&[
        ("a/main.go", program().as_bytes()),
        (
            "a/main_test.go",
            b"package main\n\nimport \"testing\"\n\nfunc TestNothing(t *testing.T) {}\n",
        ),
        ("b/main.go", program().as_bytes()),
    ])
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    entries.sort();
    entries
}

/// Rewrites the message of every finding stored in the entries whose unit mentions `unit`.
fn rewrite_messages(dir: &Path, unit: &str) {
    let mut rewritten = 0;
    for path in entries(dir) {
        let mut entry: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if !entry["unit"].as_str().unwrap().contains(unit) {
            continue;
        }
        for finding in entry["findings"].as_array_mut().unwrap() {
            finding["message"] = FROM_CACHE.into();
            rewritten += 1;
        }
        std::fs::write(&path, entry.to_string()).unwrap();
    }
    assert!(rewritten > 0, "no finding stored for {unit}");
}

fn short(tree: &TempTree, extra: &[&str]) -> support::Run {
    let mut args = vec!["--cache-dir", "cache", "--message-format", "short"];
    args.extend_from_slice(extra);
    args.push(".");
    deferlint(tree.root(), &args)
}

#[test]
fn a_second_run_takes_the_findings_from_the_cache() {
    let tree = two_units();
    let first = short(&tree, &[]);
    assert_eq!(first.code, 1, "{first:#?}");
    assert_eq!(first.stderr.matches(UNSYNC).count(), 2, "{first:#?}");
    assert_eq!(entries(&tree.path("cache")).len(), 2);
    rewrite_messages(&tree.path("cache"), "/a");
    rewrite_messages(&tree.path("cache"), "/b");
    let second = short(&tree, &[]);
    assert_eq!(second.code, 1, "{second:#?}");
    assert_eq!(second.stderr.matches(FROM_CACHE).count(), 2, "{second:#?}");
    // Same places, same rule, same count of files as the first run.
    let places = |run: &support::Run| -> Vec<String> {
        run.stderr
            .lines()
            .map(|line| line.split(": ").next().unwrap().to_string())
            .collect()
    };
    assert_eq!(places(&first), places(&second));
    let summary = |run: &support::Run| {
        let last = run.stderr.lines().last().unwrap();
        last.split(" (").next().unwrap().to_string()
    };
    assert_eq!(
        summary(&first),
        "deferlint: 2 errors, 0 warnings in 2 files"
    );
    assert_eq!(summary(&first), summary(&second));
}

#[test]
fn an_edited_unit_is_analysed_again_and_the_others_stay_cached() {
    let tree = two_units();
    assert_eq!(short(&tree, &[]).code, 1);
    rewrite_messages(&tree.path("cache"), "/a");
    rewrite_messages(&tree.path("cache"), "/b");
    let edited = program() + "\n// edited\n";
    std::fs::write(tree.path("a/main.go"), edited).unwrap();
    let run = short(&tree, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    let line_of = |folder: &str| {
        run.stderr
            .lines()
            .find(|line| line.starts_with(folder))
            .unwrap_or_else(|| panic!("no finding in {folder}: {run:#?}"))
            .to_string()
    };
    assert!(!line_of("a/").contains(FROM_CACHE), "{run:#?}");
    assert!(line_of("a/").contains(UNSYNC), "{run:#?}");
    assert!(line_of("b/").contains(FROM_CACHE), "{run:#?}");
    // The entry of the edited unit was replaced, not added to.
    assert_eq!(entries(&tree.path("cache")).len(), 2);
}

#[test]
fn other_levels_or_configuration_are_not_answered_from_the_cache() {
    let tree = two_units();
    assert_eq!(short(&tree, &[]).code, 1);
    rewrite_messages(&tree.path("cache"), "/a");
    // Another rule set: the unit is analysed again, with the rule denied.
    let denied = short(&tree, &["-D", "warnings"]);
    assert!(!denied.stderr.contains(FROM_CACHE), "{denied:#?}");
    assert_eq!(denied.code, 1, "{denied:#?}");
    assert!(
        denied.stderr.contains(&format!("error[{UNSYNC}]")),
        "{denied:#?}"
    );
    // A configuration that allows the rule: no finding, from no entry.
    rewrite_messages(&tree.path("cache"), "/a");
    std::fs::write(
        tree.path("deferlint.toml"),
        format!("[rules]\n{UNSYNC} = \"allow\"\n"),
    )
    .unwrap();
    let allowed = short(&tree, &[]);
    assert_eq!(allowed.code, 0, "{allowed:#?}");
    assert!(!allowed.stderr.contains(UNSYNC), "{allowed:#?}");
}

#[test]
fn output_is_the_same_with_and_without_the_cache() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let fixtures = fixtures.to_str().unwrap();
    let cache = TempTree::new(&[]);
    let cache_dir = cache.path("cache");
    let cache_dir = cache_dir.to_str().unwrap();
    for format in ["json", "short", "human"] {
        let plain = deferlint(cache.root(), &["--message-format", format, fixtures]);
        let cached = || {
            deferlint(
                cache.root(),
                &[
                    "--cache-dir",
                    cache_dir,
                    "--message-format",
                    format,
                    fixtures,
                ],
            )
        };
        let cold = cached();
        let warm = cached();
        assert_eq!(plain.code, 1);
        // The summary line ends with the time taken, which differs.
        let findings = |run: &support::Run| {
            let mut text = run.stdout.clone();
            text.push_str(run.stderr.rsplit_once(" (").map_or("", |(head, _)| head));
            text
        };
        assert!(findings(&plain).len() > 10_000, "{plain:#?}");
        assert_eq!(findings(&plain), findings(&cold), "{format}: cold cache");
        assert_eq!(findings(&plain), findings(&warm), "{format}: warm cache");
        // Without the units' findings every unit is analysed again, from the files' facts.
        // (The runs above wrote entries: else the comparisons say nothing about the cache.)
        let written = entries(Path::new(cache_dir));
        assert!(!written.is_empty(), "{format}: no cache entry written");
        for entry in written {
            std::fs::remove_file(entry).unwrap();
        }
        let from_facts = cached();
        assert_eq!(findings(&plain), findings(&from_facts), "{format}: facts");
        assert_eq!(
            (cold.code, warm.code, from_facts.code),
            (plain.code, plain.code, plain.code)
        );
    }
}

#[test]
fn an_unreadable_entry_is_a_miss_and_is_written_again() {
    let tree = two_units();
    assert_eq!(short(&tree, &[]).code, 1);
    // Two entries, one per unit: without them both loops below would check nothing.
    let spoiled = entries(&tree.path("cache"));
    assert_eq!(spoiled.len(), 2, "{spoiled:#?}");
    for path in spoiled {
        std::fs::write(path, "{ not json").unwrap();
    }
    let run = short(&tree, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.stderr.matches(UNSYNC).count(), 2, "{run:#?}");
    let rewritten = entries(&tree.path("cache"));
    assert_eq!(rewritten.len(), 2, "{rewritten:#?}");
    for path in rewritten {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
    }
}

#[test]
fn a_cache_that_cannot_be_written_is_reported_and_the_run_goes_on() {
    let tree = two_units();
    std::fs::write(tree.path("not-a-folder"), "").unwrap();
    let run = deferlint(
        tree.root(),
        &[
            "--cache-dir",
            "not-a-folder/cache",
            "--message-format",
            "short",
            ".",
        ],
    );
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.stderr.matches(UNSYNC).count(), 2, "{run:#?}");
    assert_eq!(
        run.stderr
            .matches("warning: could not write the cache in `not-a-folder/cache`")
            .count(),
        1,
        "{run:#?}"
    );
}

#[test]
fn the_environment_variable_names_the_cache_folder() {
    let tree = two_units();
    let run = deferlint_with_env(
        tree.root(),
        &["--message-format", "short", "."],
        &[("DEFERLINT_CACHE_DIR", "from-env")],
    );
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(entries(&tree.path("from-env")).len(), 2);
}

#[test]
fn without_the_flag_nothing_is_written() {
    let tree = two_units();
    let run = deferlint(tree.root(), &["--message-format", "short", "."]);
    assert_eq!(run.code, 1, "{run:#?}");
    let mut names: Vec<String> = std::fs::read_dir(tree.root())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "b"]);
}

/// The facts of every file of the tree's cache replaced: by empty facts, or by text that is not
/// facts at all.
fn replace_facts(dir: &Path, replacement: &str) {
    let entries = entries(&dir.join("facts"));
    assert!(!entries.is_empty());
    for path in entries {
        let text = std::fs::read_to_string(&path).unwrap();
        let (key, _) = text.split_once('\n').unwrap();
        std::fs::write(&path, format!("{key}\n{replacement}")).unwrap();
    }
}

/// A package of two files: the finding in `main.go`, and `util.go`, which the test edits so
/// that the package is analysed again.
fn package_of_two_files() -> TempTree {
    TempTree::new(&[
        ("main.go", program().as_bytes()),
        (
            "util.go",
            b"package main\n\nfunc twice(x int) int { return 2 * x }\n",
        ),
    ])
}

#[test]
fn an_edit_parses_only_the_edited_file_again() {
    let tree = package_of_two_files();
    assert_eq!(short(&tree, &[]).code, 1);
    assert_eq!(entries(&tree.path("cache/facts")).len(), 2);
    // Facts that say the files hold nothing: a run that reads them cannot find the write.
    let empty = deferlint_core::model::facts::FileFacts::default()
        .to_json(deferlint_core::source::FileId(1))
        .unwrap();
    replace_facts(&tree.path("cache"), &empty);
    std::fs::write(
        tree.path("util.go"),
        "package main\n\nfunc twice(x int) int { return x + x }\n",
    )
    .unwrap();
    let run = short(&tree, &[]);
    assert_eq!(run.code, 0, "main.go's facts were not read: {run:#?}");
    // The edited file's entry holds its new facts, not the empty ones.
    let util_entry = entries(&tree.path("cache/facts"))
        .into_iter()
        .find(|path| std::fs::read_to_string(path).unwrap().contains("twice"));
    assert!(util_entry.is_some(), "util.go's facts were not written");
}

#[test]
fn facts_that_cannot_be_read_are_parsed_again() {
    let tree = package_of_two_files();
    assert_eq!(short(&tree, &[]).code, 1);
    replace_facts(&tree.path("cache"), "{ not facts");
    std::fs::write(tree.path("util.go"), "package main\n\n// edited\n").unwrap();
    let run = short(&tree, &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert_eq!(run.stderr.matches(UNSYNC).count(), 1, "{run:#?}");
}
