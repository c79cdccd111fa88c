//! Tests about the codebase itself: every rule has fixtures and complete docs, every fixture
//! folder names a rule, the registry is sorted, messages read like rustc's, every module says
//! what it is for, syn and tree-sitter stay in their frontends, and the tool finds nothing in
//! its own code, and no merge conflict markers are left behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use deferlint_rules::{RULES, TOOL_DIAGNOSTICS};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// Every `.rs` file under a folder of the workspace.
fn rust_files(folder: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![workspace().join(folder)];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn registry_is_sorted_and_unique() {
    let names: Vec<&str> = RULES.iter().map(|rule| rule.meta.name).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        names, sorted,
        "RULES must be sorted by name, without duplicates"
    );
}

#[test]
fn rule_names_and_summaries_read_well() {
    for rule in RULES {
        let name = rule.meta.name;
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                && !name.starts_with('-')
                && !name.ends_with('-'),
            "`{name}` is not kebab-case"
        );
        let summary = rule.meta.summary;
        assert!(
            !summary.ends_with('.'),
            "the summary of `{name}` ends with a period"
        );
        assert!(
            !summary.starts_with(|c: char| c.is_ascii_uppercase()),
            "the summary of `{name}` starts with a capital"
        );
    }
}

#[test]
fn every_rule_has_docs_with_the_required_sections() {
    for rule in RULES {
        for section in [
            "### What it does",
            "### Why is this bad?",
            "### Example",
            "### Use instead",
        ] {
            assert!(
                rule.meta.docs.contains(section),
                "the docs of `{}` lack `{section}`",
                rule.meta.name
            );
        }
    }
}

#[test]
fn every_rule_has_fixtures_both_ways_and_every_fixture_folder_names_a_rule() {
    let fixtures = workspace().join("fixtures");
    for rule in RULES {
        let folder = fixtures.join(rule.meta.name);
        assert!(
            folder.is_dir(),
            "`{}` has no fixture folder",
            rule.meta.name
        );
        let (mut bad, mut good) = (0, 0);
        for entry in std::fs::read_dir(&folder).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            if text.lines().any(|line| line.trim() == "//@ check-pass") {
                good += 1;
            } else if text.contains(&format!("//~ {}", rule.meta.name))
                || text.contains(&format!("//~^ {}", rule.meta.name))
            {
                bad += 1;
            }
        }
        assert!(
            bad >= 1 && good >= 1,
            "`{}` needs bad and good fixtures (has {bad} bad, {good} good)",
            rule.meta.name
        );
    }
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_dir() {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        assert!(
            RULES.iter().any(|rule| rule.meta.name == name)
                || TOOL_DIAGNOSTICS.contains(&name.as_str()),
            "fixture folder `{name}` names no rule"
        );
    }
}

#[test]
fn messages_are_lowercase_without_a_trailing_period() {
    let snapshots = workspace().join("rules/tests/snapshots");
    let mut checked = 0;
    for entry in std::fs::read_dir(snapshots).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            let Some((_, message)) = line.split_once("]: ") else {
                continue;
            };
            if !(line.starts_with("error[") || line.starts_with("warning[")) {
                continue;
            }
            checked += 1;
            assert!(
                !message.ends_with('.'),
                "message ends with a period: {line}"
            );
            assert!(
                !message.starts_with(|c: char| c.is_ascii_uppercase()),
                "message starts with a capital: {line}"
            );
        }
    }
    assert!(checked > 0, "no rendered messages found in the snapshots");
}

#[test]
fn every_module_starts_with_a_doc_line() {
    for folder in [
        "lint-core/src",
        "rules/src",
        "cli/src",
        "cli/tests",
        "rules/tests",
        "testkit/src",
        "testkit/tests",
        "cli/benches",
        "lint-core/examples",
        "fuzz/src",
        "fuzz/fuzz_targets",
    ] {
        let files = rust_files(folder);
        assert!(!files.is_empty(), "no Rust file in {folder}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                text.starts_with("//!"),
                "{} does not start with a `//!` line",
                file.display()
            );
        }
    }
}

#[test]
fn syn_and_tree_sitter_stay_in_their_frontends() {
    for folder in ["lint-core/src", "rules/src", "cli/src"] {
        for file in rust_files(folder) {
            let relative = file
                .strip_prefix(workspace())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&file).unwrap();
            let uses = |krate: &str| {
                text.lines().any(|line| {
                    let line = line.trim_start();
                    !line.starts_with("//")
                        && (line.contains(&format!("{krate}::"))
                            || line.starts_with(&format!("use {krate}")))
                })
            };
            if !relative.starts_with("lint-core/src/frontend/rust/") {
                for krate in ["syn", "quote", "proc_macro2"] {
                    assert!(
                        !uses(krate),
                        "{relative} uses `{krate}`: only frontend::rust may"
                    );
                }
            }
            if !relative.starts_with("lint-core/src/frontend/go") {
                assert!(
                    !uses("tree_sitter"),
                    "{relative} uses `tree_sitter`: only frontend::go may"
                );
            }
        }
    }
}

#[test]
fn the_model_and_the_analyses_do_not_depend_on_the_driver() {
    // The driver runs the pipeline over units; what a unit is lives in `unit`. The layers it
    // runs never reach back into it (a doc comment may name it).
    for folder in [
        "lint-core/src/frontend",
        "lint-core/src/model",
        "lint-core/src/graph",
        "lint-core/src/analysis",
        "lint-core/src/unit.rs",
    ] {
        let files = if folder.ends_with(".rs") {
            vec![workspace().join(folder)]
        } else {
            rust_files(folder)
        };
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (number, line) in text.lines().enumerate() {
                let code = line.trim_start();
                assert!(
                    code.starts_with("//") || !code.contains("driver::"),
                    "{}:{}: the model layers must not use the driver: {line}",
                    file.display(),
                    number + 1
                );
            }
        }
    }
}

#[test]
fn deferlint_finds_nothing_in_its_own_code() {
    let output = Command::new(env!("CARGO_BIN_EXE_deferlint"))
        .args([
            "--quiet",
            "--message-format",
            "short",
            "lint-core",
            "rules",
            "cli",
        ])
        .current_dir(workspace())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "deferlint reports on itself:\n{stderr}"
    );
}

#[test]
fn no_merge_conflict_markers_are_left() {
    let root = workspace();
    let mut offenders = Vec::new();
    let mut checked = Vec::new();
    for entry in walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            !(name.starts_with('.') && entry.depth() > 0) && name != "target" && name != "corpus"
        })
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
    {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        checked.push(entry.path().to_path_buf());
        for (number, line) in text.lines().enumerate() {
            let marker = ["<<<<<<< ", ">>>>>>> "]
                .iter()
                .any(|marker| line.starts_with(marker))
                || line == "=======";
            if marker {
                offenders.push(format!("{}:{}", entry.path().display(), number + 1));
            }
        }
    }
    // The walk reached the sources: a filter that skipped everything would find nothing.
    for expected in ["Cargo.toml", "cli/tests/tidy.rs", "rules/src/lib.rs"] {
        assert!(
            checked.contains(&root.join(expected)),
            "{expected} was not checked"
        );
    }
    assert!(offenders.is_empty(), "conflict markers: {offenders:#?}");
}

/// deferlint never builds or runs the code it checks: the only process it starts is
/// `cargo metadata --no-deps`, which runs no build script and resolves no dependency (and git,
/// for `--fix`).
#[test]
fn the_only_process_started_is_cargo_metadata_without_dependencies() {
    let mut metadata_commands = 0;
    for folder in ["lint-core/src", "rules/src", "cli/src"] {
        for file in rust_files(folder) {
            if file.ends_with("test_support.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            // `--fix` asks git which files have uncommitted changes before it writes; git is
            // the only other program deferlint starts, and only then.
            if file.ends_with("cli/src/fix.rs") {
                for line in text.lines().filter(|line| line.contains("Command::new(")) {
                    assert!(
                        line.contains("Command::new(\"git\")"),
                        "fix.rs starts `{line}`"
                    );
                }
                continue;
            }
            let code: Vec<&str> = text
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect();
            for forbidden in ["process::Command", "Command::new", ".spawn()"] {
                assert!(
                    !code
                        .iter()
                        .any(|line| line.replace("MetadataCommand::new", "").contains(forbidden)),
                    "{} starts a process (`{forbidden}`)",
                    file.display()
                );
            }
            for (index, line) in code.iter().enumerate() {
                if line.contains("MetadataCommand::new()") {
                    metadata_commands += 1;
                    assert!(
                        code[index..(index + 3).min(code.len())]
                            .iter()
                            .any(|line| line.contains(".no_deps()")),
                        "{} runs `cargo metadata` without `--no-deps`",
                        file.display()
                    );
                }
            }
        }
    }
    assert_eq!(metadata_commands, 1);
}
