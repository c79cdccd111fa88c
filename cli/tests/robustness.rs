//! Inputs that must not break a run: files nested too deep to parse, a 20 MB file, bytes that
//! are not UTF-8, byte-order marks and CRLF line ends, files that cannot be read, loops of
//! symbolic links, folders named like source files, empty files and files of only comments or
//! macros. Each sits beside ordinary files with real findings, which must still be reported:
//! a bad file gives a diagnostic or a note, and the rest of the run goes on, with the
//! documented exit code. Also: the output is the same whatever the thread count and from run
//! to run, and a run writes nothing and runs none of the checked project's code.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use support::{LATIN1_RUST, Run, TempTree, cargo_deferlint, deferlint};

/// A Rust file with a failing finding: `lock-reentered-in-defer` (an error) on line 6.
const RUST_FINDING: &str = "use std::collections::HashMap;
use std::sync::Mutex;

fn bump(m: &Mutex<HashMap<u32, u32>>, id: u32) -> usize {
    let (mut g, started) = (m.lock().unwrap(), std::time::Instant::now());
    scopeguard::defer! { m.lock().unwrap().remove(&id); }
    g.insert(id, started.elapsed().as_millis() as u32);
    g.len()
}
";

/// Where [`RUST_FINDING`]'s finding is, and what it says, as `--message-format short` shows it.
const RUST_REPORTED: &str =
    "6:26: error[lock-reentered-in-defer]: deferred code locks `m` while `g` still holds it";

/// A Go file with a failing finding: `nil-map-write` (an error) on line 5.
const GO_FINDING: &str = "package main

func main() {
\tvar flags map[string]bool
\tflags[\"dark-mode\"] = true
}
";

const GO_REPORTED: &str = "5:2: error[nil-map-write]: `flags` is nil here: writing it panics";

/// The two files with findings that every test puts beside its odd inputs.
fn with_findings<'a>(odd_files: &[(&'a str, &'a [u8])]) -> Vec<(&'a str, &'a [u8])> {
    let mut files = vec![
        ("good.rs", RUST_FINDING.as_bytes()),
        ("good.go", GO_FINDING.as_bytes()),
    ];
    files.extend_from_slice(odd_files);
    files
}

fn short(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--message-format", "short"];
    all.extend_from_slice(args);
    deferlint(dir, &all)
}

/// `expected` is one of the lines the run printed on stderr.
fn assert_line(run: &Run, expected: &str) {
    assert!(
        run.stderr.lines().any(|line| line == expected),
        "expected `{expected}` in {run:#?}"
    );
}

/// The run ended normally with exit code 1, and the findings of the good files are there:
/// whatever else was in the tree, the rest of the run went on.
fn assert_the_rest_goes_on(run: &Run) {
    assert_eq!(run.code, 1, "{run:#?}");
    assert_line(run, &format!("good.rs:{RUST_REPORTED}"));
    assert_line(run, &format!("good.go:{GO_REPORTED}"));
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
}

/// The `warning[parse-error]` lines of a short run, by file.
fn parse_errors(run: &Run) -> BTreeMap<String, String> {
    run.stderr
        .lines()
        .filter_map(|line| {
            let (location, message) = line.split_once(": warning[parse-error]: ")?;
            let file = location.split(':').next()?;
            Some((file.to_string(), message.to_string()))
        })
        .collect()
}

fn summary_counts(run: &Run) -> &str {
    run.stderr
        .lines()
        .find_map(|line| line.strip_prefix("deferlint: "))
        .and_then(|summary| summary.split(" (").next())
        .unwrap_or_else(|| panic!("no summary in {run:#?}"))
}

#[test]
fn files_nested_too_deep_are_skipped_with_a_parse_error_and_the_rest_is_checked() {
    let n = 100_000;
    let deep = [
        (
            "parens.rs",
            format!(
                "fn f() {{ let x = {}1{}; }}\n",
                "(".repeat(n),
                ")".repeat(n)
            ),
        ),
        (
            "blocks.rs",
            format!("fn f() {}{}\n", "{".repeat(n), "}".repeat(n)),
        ),
        // syn parses a chain of calls in a loop, but the tree it builds is as deep.
        ("calls.rs", format!("fn f() {{ a{}; }}\n", ".b()".repeat(n))),
        (
            "operators.rs",
            format!("fn f() -> u32 {{ 1{} }}\n", " + 1".repeat(n)),
        ),
        (
            "closures.rs",
            format!("fn f() {{ let c = {}1; }}\n", "|| ".repeat(n)),
        ),
        (
            "generics.rs",
            format!("type T = {}u8{};\n", "Vec<".repeat(n), ">".repeat(n)),
        ),
        (
            "parens.go",
            format!(
                "package main\n\nfunc f() int {{\n\treturn {}1{}\n}}\n",
                "(".repeat(n),
                ")".repeat(n)
            ),
        ),
        (
            "blocks.go",
            format!(
                "package main\n\nfunc f() {}{}\n",
                "{".repeat(n),
                "}".repeat(n)
            ),
        ),
        (
            "calls.go",
            format!("package main\n\nfunc f() {{\n\ta{}\n}}\n", ".b()".repeat(n)),
        ),
        (
            "operators.go",
            format!(
                "package main\n\nfunc f() int {{\n\treturn 1{}\n}}\n",
                " + 1".repeat(n)
            ),
        ),
    ];
    let odd: Vec<(&str, &[u8])> = deep
        .iter()
        .map(|(name, text)| (*name, text.as_bytes()))
        .collect();
    let tree = TempTree::new(&with_findings(&odd));
    let run = short(tree.root(), &[]);
    assert_the_rest_goes_on(&run);
    let errors = parse_errors(&run);
    assert_eq!(
        errors.keys().collect::<Vec<_>>(),
        {
            let mut names: Vec<&str> = deep.iter().map(|(name, _)| *name).collect();
            names.sort_unstable();
            names
        },
        "{run:#?}"
    );
    for (file, message) in &errors {
        let depth: u32 = message
            .strip_prefix("nested ")
            .and_then(|rest| {
                rest.strip_suffix(" deep; deferlint skips files nested deeper than 10000")
            })
            .and_then(|depth| depth.parse().ok())
            .unwrap_or_else(|| panic!("{file}: unexpected message `{message}`"));
        assert!(depth > 100_000, "{file}: {message}");
    }
    assert_eq!(
        summary_counts(&run),
        "2 errors, 10 warnings in 12 files",
        "{run:#?}"
    );
    // The human format shows the same, and a warning alone does not fail the run.
    let human = deferlint(
        tree.root(),
        &[
            "--color",
            "never",
            "-A",
            "nil-map-write",
            "-A",
            "lock-reentered-in-defer",
        ],
    );
    assert_eq!(human.code, 0, "{human:#?}");
    assert_eq!(
        human
            .stderr
            .matches("warning[parse-error]: nested ")
            .count(),
        10,
        "{human:#?}"
    );
}

#[test]
fn files_nested_just_under_the_limit_are_checked() {
    // The deepest of the costliest constructs measured, a little under the limit: a debug
    // build, which needs the most stack, parses, lowers and analyses them.
    let rust = format!(
        "{RUST_FINDING}\nfn parens() -> u32 {{ {}1{} }}\n\nfn calls() {{ a{}; }}\n\nfn closures() {{ let c = {}1; }}\n",
        "(".repeat(9_900),
        ")".repeat(9_900),
        ".b()".repeat(4_950),
        "|| ".repeat(9_900),
    );
    let go = format!(
        "{GO_FINDING}\nfunc parens() int {{\n\treturn {}1{}\n}}\n\nfunc calls() {{\n\ta{}\n}}\n",
        "(".repeat(9_900),
        ")".repeat(9_900),
        ".b()".repeat(4_950),
    );
    let tree = TempTree::new(&[("good.rs", rust.as_bytes()), ("good.go", go.as_bytes())]);
    let run = short(tree.root(), &[]);
    assert_the_rest_goes_on(&run);
    assert_eq!(
        summary_counts(&run),
        "2 errors, 0 warnings in 2 files",
        "{run:#?}"
    );
}

#[test]
fn a_twenty_megabyte_file_is_checked() {
    let function = "pub fn function_{}(value: u32) -> u32 {\n    let doubled = value * 2;\n    if doubled > 10 { doubled - 1 } else { doubled + 1 }\n}\n\n";
    let mut text = String::with_capacity(21 << 20);
    let mut index = 0;
    while text.len() < 20 << 20 {
        text.push_str(&function.replace("{}", &index.to_string()));
        index += 1;
    }
    let lines_before = text.lines().count();
    text.push_str(RUST_FINDING);
    let tree = TempTree::new(&with_findings(&[("big.rs", text.as_bytes())]));
    let run = short(tree.root(), &[]);
    assert_the_rest_goes_on(&run);
    let reported = format!(
        "big.rs:{}:{}",
        lines_before + 6,
        RUST_REPORTED.split_once(':').unwrap().1
    );
    assert_line(&run, &reported);
    assert_eq!(
        summary_counts(&run),
        "3 errors, 0 warnings in 3 files",
        "{run:#?}"
    );
}

#[test]
fn bytes_that_are_not_utf8_are_a_parse_error() {
    let go_latin1: &[u8] = b"package main\n\n// caf\xe9\nfunc f() {}\n";
    let tree = TempTree::new(&with_findings(&[
        ("latin1.rs", LATIN1_RUST),
        ("latin1.go", go_latin1),
    ]));
    let run = short(tree.root(), &[]);
    assert_the_rest_goes_on(&run);
    let errors = parse_errors(&run);
    assert_eq!(
        errors["latin1.rs"], "the file is not valid UTF-8",
        "{run:#?}"
    );
    assert_eq!(
        errors["latin1.go"], "the file is not valid UTF-8",
        "{run:#?}"
    );
    // The code cannot be shown; the human format names the file and says where the first bad
    // byte is.
    let human = deferlint(tree.root(), &["--color", "never"]);
    for (name, offset) in [("latin1.rs", 6), ("latin1.go", 20)] {
        assert!(
            human.stderr.contains(&format!(
                "\n --> {name}\n = note: at byte {offset}; the code cannot be shown"
            )),
            "{human:#?}"
        );
    }
}

/// Files whose finding is on the first line, where a byte-order mark sits.
const RUST_ON_ONE_LINE: &str = "use std::collections::HashMap; use std::sync::Mutex; fn bump(m: &Mutex<HashMap<u32, u32>>, id: u32) -> usize { let (mut g, s) = (m.lock().unwrap(), 1); scopeguard::defer! { m.lock().unwrap().remove(&id); } g.insert(id, s); g.len() }\n// é\n";
const GO_ON_ONE_LINE: &str =
    "package main; func main() { var flags map[string]bool; flags[\"é\"] = true }\n";

#[test]
fn byte_order_marks_and_crlf_line_ends_leave_lines_and_columns_as_they_are() {
    let originals = [
        ("multi_line.rs", RUST_FINDING),
        ("multi_line.go", GO_FINDING),
        ("one_line.rs", RUST_ON_ONE_LINE),
        ("one_line.go", GO_ON_ONE_LINE),
    ];
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, text) in originals {
        files.push((format!("plain/{name}"), text.as_bytes().to_vec()));
        files.push((
            format!("bom/{name}"),
            format!("\u{feff}{text}").into_bytes(),
        ));
        files.push((
            format!("crlf/{name}"),
            text.replace('\n', "\r\n").into_bytes(),
        ));
        files.push((
            format!("mixed/{name}"),
            format!("\u{feff}{}", text.replace('\n', "\r\n")).into_bytes(),
        ));
    }
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
        .collect();
    let tree = TempTree::new(&borrowed);
    // Each folder's findings, with the folder's name taken out of the paths: a human
    // diagnostic ends with an empty line, a short one with its line.
    let in_folder = |run: &Run, folder: &str| -> String {
        let separator = if run.stderr.contains("\n\n") {
            "\n\n"
        } else {
            "\n"
        };
        let path = format!("{folder}/");
        run.stderr
            .split(separator)
            .filter(|block| block.starts_with(&path) || block.contains(&format!(" {path}")))
            .map(|block| block.replace(&path, "FOLDER/") + separator)
            .collect()
    };
    for format in [&["--message-format", "short"][..], &["--color", "never"]] {
        let run = deferlint(tree.root(), format);
        assert_eq!(run.code, 1, "{run:#?}");
        assert!(
            !run.stderr.contains('\u{feff}') && !run.stderr.contains('\r'),
            "{run:#?}"
        );
        let plain = in_folder(&run, "plain");
        assert_eq!(plain.matches("error[").count(), 4, "{plain}");
        for folder in ["bom", "crlf", "mixed"] {
            assert_eq!(in_folder(&run, folder), plain, "{format:?} in {folder}");
        }
    }
    // JSON: the same lines and columns. Byte offsets are into the file as it is on disk, so
    // they differ by the mark and the carriage returns.
    let run = deferlint(tree.root(), &["--message-format", "json"]);
    assert_eq!(run.code, 1, "{run:#?}");
    let mut positions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in run.stdout.lines() {
        let message: serde_json::Value = serde_json::from_str(line).unwrap();
        if message["reason"] != "compiler-message" {
            continue;
        }
        for span in message["message"]["spans"].as_array().unwrap() {
            let file = span["file_name"].as_str().unwrap();
            let (folder, name) = file.split_once('/').unwrap();
            let texts: Vec<&str> = span["text"]
                .as_array()
                .unwrap()
                .iter()
                .map(|text| text["text"].as_str().unwrap())
                .collect();
            assert!(
                texts.iter().all(|text| !text.contains(['\r', '\u{feff}'])),
                "{span}"
            );
            positions
                .entry(folder.to_string())
                .or_default()
                .push(format!(
                    "{name} {}:{}-{}:{} {:?}",
                    span["line_start"],
                    span["column_start"],
                    span["line_end"],
                    span["column_end"],
                    texts
                ));
        }
    }
    // Primary and secondary labels of the four findings.
    assert!(positions["plain"].len() > 4, "{positions:#?}");
    for folder in ["bom", "crlf", "mixed"] {
        assert_eq!(positions[folder], positions["plain"], "{folder}");
    }
}

#[cfg(unix)]
#[test]
fn files_and_folders_that_cannot_be_read_fail_the_run_unless_keep_going() {
    use std::os::unix::fs::{PermissionsExt, symlink};

    let tree = TempTree::new(&with_findings(&[
        ("locked.rs", RUST_FINDING.as_bytes()),
        ("locked/inner.rs", RUST_FINDING.as_bytes()),
    ]));
    symlink("nowhere.rs", tree.path("x.rs")).unwrap();
    symlink("nowhere.go", tree.path("x.go")).unwrap();
    // Two links to each other: reading either is a loop.
    symlink("loop_b.rs", tree.path("loop_a.rs")).unwrap();
    symlink("loop_a.rs", tree.path("loop_b.rs")).unwrap();
    let set_mode = |relative: &str, mode: u32| {
        std::fs::set_permissions(tree.path(relative), std::fs::Permissions::from_mode(mode))
            .unwrap();
    };
    set_mode("locked.rs", 0o000);
    set_mode("locked", 0o000);
    // Root reads whatever the mode says: then only the links are unreadable.
    let permissions_hold = std::fs::read(tree.path("locked.rs")).is_err();
    let run = short(tree.root(), &["--keep-going"]);
    let gate = short(tree.root(), &[]);
    set_mode("locked", 0o755);
    set_mode("locked.rs", 0o644);
    assert_the_rest_goes_on(&run);
    // Without `--keep-going`, the same findings, then an error and exit code 2.
    assert_eq!(gate.code, 2, "{gate:#?}");
    assert_eq!(parse_errors(&gate), parse_errors(&run), "{gate:#?}");
    let unreadable_files = if permissions_hold { 5 } else { 4 };
    let what = if permissions_hold {
        format!("{unreadable_files} files and 1 folder")
    } else {
        format!("{unreadable_files} files")
    };
    assert_line(
        &gate,
        &format!("error: {what} could not be read; `--keep-going` checks the rest without failing"),
    );
    assert!(
        summary_counts(&run).ends_with(&format!(", {unreadable_files} files not checked")),
        "{run:#?}"
    );
    let errors = parse_errors(&run);
    assert_eq!(
        errors["x.rs"], "could not read the file: No such file or directory (os error 2)",
        "{run:#?}"
    );
    assert_eq!(
        errors["x.go"], "could not read the file: No such file or directory (os error 2)",
        "{run:#?}"
    );
    for name in ["loop_a.rs", "loop_b.rs"] {
        assert!(
            errors[name].starts_with("could not read the file: "),
            "{run:#?}"
        );
    }
    if permissions_hold {
        assert_eq!(
            errors["locked.rs"], "could not read the file: Permission denied (os error 13)",
            "{run:#?}"
        );
        assert_line(
            &run,
            &format!(
                "warning: could not read the folder `{}` (Permission denied (os error 13)); the files in it are not checked",
                tree.path("locked").display()
            ),
        );
    } else {
        assert_line(&run, &format!("locked/inner.rs:{RUST_REPORTED}"));
    }
    // The same files alone: with `--keep-going`, warnings only, so the run succeeds.
    std::fs::remove_file(tree.path("good.rs")).unwrap();
    std::fs::remove_file(tree.path("good.go")).unwrap();
    std::fs::remove_file(tree.path("locked.rs")).unwrap();
    std::fs::remove_dir_all(tree.path("locked")).unwrap();
    let run = short(tree.root(), &["--keep-going"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(parse_errors(&run).len(), 4, "{run:#?}");
    assert_eq!(
        summary_counts(&run),
        "0 errors, 4 warnings in 0 files, 4 files not checked"
    );
    // Given as a path, a tree of which nothing could be checked fails even then.
    let run = short(tree.root(), &["--keep-going", "."]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert_line(
        &run,
        "error: no Rust or Go file was checked in the paths given",
    );
}

#[cfg(unix)]
#[test]
fn loops_of_folder_links_are_not_followed() {
    use std::os::unix::fs::symlink;

    let tree = TempTree::new(&with_findings(&[
        ("loop/a/a.rs", b"fn a() {}\n"),
        ("loop/b/b.rs", b"fn b() {}\n"),
    ]));
    symlink("..", tree.path("loop/a/up")).unwrap();
    symlink("../b", tree.path("loop/a/to_b")).unwrap();
    symlink("../a", tree.path("loop/b/to_a")).unwrap();
    symlink(".", tree.path("loop/itself")).unwrap();
    let run = short(tree.root(), &[]);
    assert_the_rest_goes_on(&run);
    // Each file once, by its real path.
    assert_eq!(
        summary_counts(&run),
        "2 errors, 0 warnings in 4 files",
        "{run:#?}"
    );
    // A link given on the command line is followed, and its loops are not.
    let run = short(tree.root(), &["loop/a/up"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(summary_counts(&run), "no findings in 2 files", "{run:#?}");
}

#[test]
fn folders_named_like_source_files_are_folders() {
    let tree = TempTree::new(&with_findings(&[
        ("x.rs/inner.rs", RUST_FINDING.as_bytes()),
        ("y.go/inner.go", GO_FINDING.as_bytes()),
    ]));
    let run = short(tree.root(), &[]);
    assert_the_rest_goes_on(&run);
    assert_line(&run, &format!("x.rs/inner.rs:{RUST_REPORTED}"));
    assert_line(&run, &format!("y.go/inner.go:{GO_REPORTED}"));
    assert_eq!(
        summary_counts(&run),
        "4 errors, 0 warnings in 4 files",
        "{run:#?}"
    );
}

#[test]
fn empty_files_and_files_of_only_comments_or_macros_are_checked_quietly() {
    let tree = TempTree::new(&with_findings(&[
        ("empty.rs", b""),
        ("empty.go", b""),
        (
            "comments.rs",
            b"// nothing here\n/* nor /* here */ */\n//! inner\n",
        ),
        ("comments.go", b"// nothing here\n/* nor here */\n"),
        (
            "macro_rules.rs",
            b"macro_rules! m { ($($x:tt)*) => { $($x)* }; }\nm! { fn f() {} }\n",
        ),
        ("invocation.rs", b"foo! { a b c => { d } [e] (f) }\n"),
        ("invocation_only.rs", b"bar!(x.lock().unwrap());\n"),
    ]));
    let run = short(tree.root(), &[]);
    assert_the_rest_goes_on(&run);
    assert_eq!(
        summary_counts(&run),
        "2 errors, 0 warnings in 9 files",
        "{run:#?}"
    );
}

/// Found on a real package (nomad's `nomad`): Go structs that embed each other through
/// pointers made the method lookup through embedded fields recurse until the stack overflowed.
#[test]
fn go_structs_embedding_each_other_are_checked() {
    let tree = TempTree::new(&with_findings(&[(
        "cycle.go",
        b"package main\n\ntype A struct{ *B }\ntype B struct{ *A }\n\nfunc main() {\n\ta := &A{}\n\ta.Missing()\n\t_ = a.B.A.Missing\n}\n",
    )]));
    let run = short(tree.root(), &[]);
    assert_the_rest_goes_on(&run);
    assert_eq!(
        summary_counts(&run),
        "2 errors, 0 warnings in 3 files",
        "{run:#?}"
    );
}

/// `--message-format` and the options that go with it, for each format compared.
const FORMATS: [&[&str]; 3] = [
    &["--message-format", "human", "--color", "never"],
    &["--message-format", "short"],
    &["--message-format", "json"],
];

#[test]
fn output_is_the_same_for_any_thread_count_and_from_run_to_run() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let fixtures = fixtures.to_str().unwrap();
    for format in FORMATS {
        let mut outputs: Vec<(String, String)> = Vec::new();
        for jobs in ["1", "2", "4", "4"] {
            let mut args = vec!["-j", jobs];
            args.extend_from_slice(format);
            args.push(fixtures);
            let run = deferlint(Path::new(env!("CARGO_MANIFEST_DIR")), &args);
            assert_eq!(run.code, 1, "{run:#?}");
            assert!(run.stderr.contains("error[") || run.stdout.contains("\"error\""));
            // The summary's time is the only part that may differ.
            let stderr: String = run
                .stderr
                .lines()
                .map(|line| match line.strip_prefix("deferlint: ") {
                    Some(summary) => summary.split(" (").next().unwrap().to_string(),
                    None => line.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n");
            outputs.push((format!("{format:?} -j {jobs}"), run.stdout + &stderr));
        }
        for (label, output) in &outputs[1..] {
            assert!(
                *output == outputs[0].1,
                "{label} differs from {}",
                outputs[0].0
            );
        }
    }
}

/// Every path under `root` with its size and modification time.
fn listing(root: &Path) -> BTreeMap<PathBuf, (u64, Option<SystemTime>)> {
    let mut entries = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let metadata = std::fs::symlink_metadata(&path).unwrap();
            if metadata.is_dir() {
                pending.push(path.clone());
            }
            entries.insert(path, (metadata.len(), metadata.modified().ok()));
        }
    }
    entries
}

/// A workspace whose build script and proc macro each leave a marker file when they run.
const BUILD_SCRIPT: &str = "fn main() {
    let dir = std::env::var(\"CARGO_MANIFEST_DIR\").unwrap();
    std::fs::write(format!(\"{dir}/build-script-ran\"), \"\").unwrap();
}
";
const PROC_MACRO: &str = "use proc_macro::TokenStream;

#[proc_macro_attribute]
pub fn mark(_: TokenStream, item: TokenStream) -> TokenStream {
    let dir = std::env::var(\"CARGO_MANIFEST_DIR\").unwrap();
    std::fs::write(format!(\"{dir}/proc-macro-ran\"), \"\").unwrap();
    item
}
";

#[test]
fn a_run_writes_nothing_and_runs_none_of_the_checked_code() {
    let app_main = format!("#[marker::mark]\nfn main() {{}}\n\n{RUST_FINDING}");
    let tree = TempTree::new(&[
        (
            "Cargo.toml",
            b"[workspace]\nmembers = [\"app\", \"marker\"]\nresolver = \"2\"\n",
        ),
        (
            "app/Cargo.toml",
            b"[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nmarker = { path = \"../marker\" }\n",
        ),
        ("app/build.rs", BUILD_SCRIPT.as_bytes()),
        ("app/src/main.rs", app_main.as_bytes()),
        (
            "marker/Cargo.toml",
            b"[package]\nname = \"marker\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = true\n",
        ),
        ("marker/src/lib.rs", PROC_MACRO.as_bytes()),
        ("go/main.go", GO_FINDING.as_bytes()),
    ]);
    let before = listing(tree.root());
    for format in FORMATS {
        let run = cargo_deferlint(
            tree.root(),
            &[&["--workspace", "--all-targets"], format].concat(),
        );
        assert_eq!(run.code, 1, "{run:#?}");
        let run = deferlint(tree.root(), format);
        assert_eq!(run.code, 1, "{run:#?}");
    }
    assert_eq!(listing(tree.root()), before);
    // The markers do appear when cargo builds the workspace: the check above could fail.
    let target_dir = tree.path("target");
    let built = std::process::Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
        .args([
            "check",
            "--quiet",
            "--offline",
            "--workspace",
            "--target-dir",
        ])
        .arg(&target_dir)
        .current_dir(tree.root())
        .output()
        .unwrap();
    // (`scopeguard` is missing, so the build fails, after both ran.)
    assert!(tree.path("app/build-script-ran").exists(), "{built:#?}");
    assert!(tree.path("app/proc-macro-ran").exists(), "{built:#?}");
}
