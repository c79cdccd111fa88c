//! The human and short formats, colour, and determinism of the output.

mod support;

use support::{BROKEN_GO, LATIN1_RUST, TempTree, deferlint, deferlint_with_env};

/// Enough units and findings for threads to interleave: loose folders, packages, Go packages.
fn busy_tree() -> TempTree {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for index in 0..12 {
        files.push((
            format!("loose{index}/main.rs"),
            b"mod util;\nfn main() {}\n".to_vec(),
        ));
        files.push((format!("loose{index}/util.rs"), b"pub fn f() {}\n".to_vec()));
        files.push((format!("loose{index}/bad.rs"), LATIN1_RUST.to_vec()));
        files.push((format!("go{index}/broken.go"), BROKEN_GO.to_vec()));
        files.push((
            format!("pkg{index}/Cargo.toml"),
            format!("[package]\nname = \"pkg{index}\"\nedition = \"2021\"\n").into_bytes(),
        ));
        files.push((format!("pkg{index}/src/lib.rs"), b"pub mod a;\n".to_vec()));
        files.push((format!("pkg{index}/src/a.rs"), LATIN1_RUST.to_vec()));
    }
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(path, contents)| (path.as_str(), contents.as_slice()))
        .collect();
    TempTree::new(&borrowed)
}

#[test]
fn output_is_the_same_whatever_the_thread_count() {
    let tree = busy_tree();
    let one = deferlint(tree.root(), &["-j1", "--message-format", "json"]);
    assert!(
        one.stdout.lines().count() > 36,
        "the test needs findings to compare: {one:#?}"
    );
    for _ in 0..3 {
        let four = deferlint(tree.root(), &["-j", "4", "--message-format", "json"]);
        assert_eq!(one.stdout, four.stdout);
    }
    let human_one = deferlint(tree.root(), &["-j1", "--quiet"]);
    let human_four = deferlint(tree.root(), &["--jobs", "4", "--quiet"]);
    assert!(!human_one.stderr.is_empty());
    assert_eq!(human_one.stderr, human_four.stderr);
}

#[test]
fn findings_come_sorted_by_file() {
    let tree = busy_tree();
    let run = deferlint(tree.root(), &["--message-format", "short", "--quiet"]);
    let files: Vec<&str> = run
        .stderr
        .lines()
        .map(|line| line.split(':').next().unwrap())
        .collect();
    assert!(files.len() >= 36, "{run:#?}");
    let mut sorted = files.clone();
    sorted.sort_by_key(|file| file.split('/').map(str::to_string).collect::<Vec<_>>());
    assert_eq!(files, sorted);
}

#[test]
fn short_format_is_one_line_per_finding() {
    let tree = TempTree::new(&[("broken.go", BROKEN_GO), ("bad.rs", LATIN1_RUST)]);
    let run = deferlint(tree.root(), &["--message-format", "short"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{run:#?}");
    assert_eq!(
        lines[0],
        "bad.rs: warning[parse-error]: the file is not valid UTF-8"
    );
    let (location, rest) = lines[1].split_once(": ").unwrap();
    let parts: Vec<&str> = location.split(':').collect();
    assert_eq!(parts[0], "broken.go", "{run:#?}");
    assert!(
        parts[1].parse::<u32>().unwrap() >= 1 && parts[2].parse::<u32>().unwrap() >= 1,
        "{run:#?}"
    );
    assert!(rest.starts_with("warning[parse-error]: "), "{run:#?}");
    assert!(
        lines[2].starts_with("deferlint: 0 errors, 2 warnings in 1 file, 1 file not checked ("),
        "{run:#?}"
    );
}

#[test]
fn human_format_shows_the_code() {
    let tree = TempTree::new(&[("svc/broken.go", BROKEN_GO)]);
    let run = deferlint(tree.root(), &["svc"]);
    assert!(run.stderr.starts_with("warning[parse-error]: "), "{run:#?}");
    let location_line = run.stderr.lines().nth(1).unwrap();
    assert!(
        location_line.starts_with("  --> svc/broken.go:"),
        "names are shown from where the user is: {run:#?}"
    );
    assert!(run.stderr.contains(" | "), "{run:#?}");
    assert!(run.stderr.contains('^'), "{run:#?}");
}

#[test]
fn colour_follows_the_flag_then_cargo_term_color() {
    let tree = TempTree::new(&[("broken.go", BROKEN_GO)]);
    let escape = "\u{1b}[";
    assert!(
        deferlint(tree.root(), &["--color", "always"])
            .stderr
            .contains(escape)
    );
    assert!(
        !deferlint(tree.root(), &["--color", "never"])
            .stderr
            .contains(escape)
    );
    // Not a terminal: auto means no colour.
    assert!(!deferlint(tree.root(), &[]).stderr.contains(escape));
    assert!(
        deferlint_with_env(tree.root(), &[], &[("CARGO_TERM_COLOR", "always")])
            .stderr
            .contains(escape)
    );
    assert!(
        !deferlint_with_env(
            tree.root(),
            &["--color", "never"],
            &[("CARGO_TERM_COLOR", "always")]
        )
        .stderr
        .contains(escape)
    );
}

#[test]
fn loose_edition_flag_is_accepted_for_files() {
    let tree = TempTree::new(&[("a.rs", b"fn main() {}\n")]);
    let run = deferlint(tree.root(), &["--edition", "2015", "a.rs"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr.starts_with("deferlint: no findings in 1 file ("),
        "{run:#?}"
    );
}

/// A minified line, a file that is not UTF-8 and one that cannot be read: every diagnostic
/// names its place on a `-->` line, long lines are cut, and no line ends with whitespace.
#[cfg(unix)]
#[test]
fn every_diagnostic_has_a_location_and_long_lines_are_cut() {
    let minified = format!("fn a() {{ {} fn }}\n", "let x = 1; ".repeat(20_000));
    let tree = TempTree::new(&[
        ("min.rs", minified.as_bytes()),
        ("bad.rs", LATIN1_RUST),
        ("broken.go", BROKEN_GO),
    ]);
    std::os::unix::fs::symlink("nowhere.rs", tree.path("gone.rs")).unwrap();
    for color in ["never", "always"] {
        let run = deferlint(tree.root(), &["--keep-going", "--color", color, "."]);
        assert_eq!(run.code, 0, "{run:#?}");
        assert!(
            run.stderr.len() < 4_000,
            "the minified line is cut: {} bytes",
            run.stderr.len()
        );
        let diagnostics: Vec<&str> = run
            .stderr
            .split("\n\n")
            .filter(|block| block.contains("[parse-error]"))
            .collect();
        assert_eq!(diagnostics.len(), 4, "{run:#?}");
        for diagnostic in diagnostics {
            let location = diagnostic.lines().nth(1).unwrap_or_default();
            assert!(strip_colour(location).contains("--> "), "{diagnostic}");
        }
        for line in run.stderr.lines() {
            let visible = strip_colour(line);
            assert!(!visible.ends_with([' ', '\t']), "{line:?} in {run:#?}");
        }
    }
}

fn strip_colour(line: &str) -> String {
    let mut visible = line.to_string();
    while let Some(escape) = visible.find('\u{1b}') {
        let end = visible[escape..]
            .find('m')
            .map_or(visible.len(), |m| escape + m + 1);
        visible.replace_range(escape..end, "");
    }
    visible
}
