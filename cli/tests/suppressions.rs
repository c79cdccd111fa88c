//! Inline suppressions, `// deferlint: allow(rule) reason`, on real findings of the fixtures:
//! each form used (the finding vanishes from every output format and from the exit code) and
//! unused (reported as `unused-suppression` with the edit that removes it), unknown rule names
//! (an `unknown-rule` warning), and malformed comments, which exit with 2.

mod support;

use support::{TempTree, deferlint};

const POISONED: &str = "poisoned-lock-unwrap-in-defer";
const UNSYNC: &str = "unsync-map-write-in-defer";

/// A fixture's text without its `//~` markers, and the 0-based index of the line a marker for
/// `rule` pointed at.
fn fixture(relative: &str, rule: &str) -> (Vec<String>, usize) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(relative);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut marked = None;
    let lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| match line.split_once("//~") {
            Some((code, marker)) => {
                if marker.trim() == rule {
                    marked = Some(index);
                }
                code.trim_end().to_string()
            }
            None => line.to_string(),
        })
        .collect();
    (lines, marked.expect("the fixture marks the rule"))
}

/// The Rust fixture whose `Drop` unwraps a lock shared with a spawned thread.
fn poisoned() -> (Vec<String>, usize) {
    fixture(
        "poisoned-lock-unwrap-in-defer/drop_unwraps_lock_shared_with_spawned_thread.rs",
        POISONED,
    )
}

/// The Go fixture whose goroutines write a shared map in a deferred function.
fn unsync_go() -> (Vec<String>, usize) {
    fixture(
        "unsync-map-write-in-defer/canonical_defer_write_runs_after_wg_done.go",
        UNSYNC,
    )
}

fn with_trailing(mut lines: Vec<String>, line: usize, comment: &str) -> String {
    lines[line].push_str(&format!(" {comment}"));
    lines.join("\n") + "\n"
}

/// The Rust fixture with `comment` after the code of its finding's line.
fn poisoned_with_trailing(comment: &str) -> String {
    let (lines, line) = poisoned();
    with_trailing(lines, line, comment)
}

fn with_line_above(mut lines: Vec<String>, line: usize, comment: &str) -> String {
    let indent: String = lines[line]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    lines.insert(line, format!("{indent}{comment}"));
    lines.join("\n") + "\n"
}

/// The compiler messages of a JSON stream.
fn compiler_messages(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|message| message["reason"] == "compiler-message")
        .collect()
}

/// The rule codes of a JSON stream's compiler messages.
fn json_codes(stdout: &str) -> Vec<String> {
    compiler_messages(stdout)
        .iter()
        .map(|message| code_of(message).to_string())
        .collect()
}

/// A compiler message's rule, without the `deferlint::` prefix cargo's format gives it.
fn code_of(message: &serde_json::Value) -> &str {
    let code = message["message"]["code"]["code"].as_str().unwrap();
    code.strip_prefix("deferlint::").unwrap_or(code)
}

/// Runs the file in every output format with the rule denied, and checks that nothing is
/// reported and the exit code is 0.
fn assert_suppressed_everywhere(name: &str, text: &str, rule: &str) {
    let tree = TempTree::new(&[(name, text.as_bytes())]);
    let human = deferlint(tree.root(), &["-D", rule, "."]);
    assert_eq!(human.code, 0, "{text}\n{human:#?}");
    assert!(human.stderr.contains("no findings"), "{human:#?}");
    let short = deferlint(tree.root(), &["-D", rule, "--message-format", "short", "."]);
    assert_eq!(short.code, 0, "{short:#?}");
    assert!(!short.stderr.contains(rule), "{short:#?}");
    let json = deferlint(tree.root(), &["-D", rule, "--message-format", "json", "."]);
    assert_eq!(json.code, 0, "{json:#?}");
    assert_eq!(json_codes(&json.stdout), Vec::<String>::new());
}

/// Runs the file as JSON with the rule denied, and checks that its one finding is reported and
/// fails the run.
fn assert_reported_once(name: &str, text: &str, rule: &str) {
    let tree = TempTree::new(&[(name, text.as_bytes())]);
    let run = deferlint(tree.root(), &["-D", rule, "--message-format", "json", "."]);
    assert_eq!(run.code, 1, "{text}\n{run:#?}");
    assert_eq!(json_codes(&run.stdout), [rule]);
}

#[test]
fn the_fixtures_report_without_a_suppression() {
    // Without this, every "suppressed" test below would pass on a fixture that reports nothing.
    for (name, (lines, _), rule) in [
        ("a.rs", poisoned(), POISONED),
        ("main.go", unsync_go(), UNSYNC),
    ] {
        assert_reported_once(name, &(lines.join("\n") + "\n"), rule);
    }
}

#[test]
fn a_trailing_suppression_hides_the_finding_in_every_format() {
    let text = poisoned_with_trailing(&format!(
        "// deferlint: allow({POISONED}) recovered by the supervisor"
    ));
    assert_suppressed_everywhere("a.rs", &text, POISONED);
}

#[test]
fn a_suppression_on_the_line_above_hides_the_finding() {
    let (lines, line) = poisoned();
    let text = with_line_above(lines, line, &format!("// deferlint: allow({POISONED})"));
    assert_suppressed_everywhere("a.rs", &text, POISONED);
    // Stacked under another comment line, with the tool prefix and no reason.
    let (lines, line) = poisoned();
    let stacked = with_line_above(lines, line, "// the supervisor restarts the process");
    let text = with_line_above(
        stacked.lines().map(str::to_string).collect(),
        line,
        &format!("// deferlint: allow(deferlint::{POISONED})"),
    );
    assert_suppressed_everywhere("a.rs", &text, POISONED);
}

#[test]
fn go_suppressions_work_like_rust_ones() {
    let (lines, line) = unsync_go();
    let text = with_trailing(
        lines,
        line,
        &format!("// deferlint: allow({UNSYNC}) reviewed"),
    );
    assert_suppressed_everywhere("main.go", &text, UNSYNC);
    let (lines, line) = unsync_go();
    let text = with_line_above(lines, line, &format!("//deferlint: allow({UNSYNC})"));
    assert_suppressed_everywhere("main.go", &text, UNSYNC);
}

#[test]
fn an_unused_suppression_is_reported_with_the_edit_that_removes_its_line() {
    let (lines, _) = unsync_go();
    let main = lines
        .iter()
        .position(|line| line == "func main() {")
        .unwrap();
    let comment = format!("// deferlint: allow({UNSYNC}) stale");
    let text = with_line_above(lines, main + 1, &comment);
    let tree = TempTree::new(&[("main.go", text.as_bytes())]);
    let run = deferlint(tree.root(), &["--message-format", "json", "."]);
    // The real finding still fails the run; the unused suppression is a warning.
    assert_eq!(run.code, 1, "{run:#?}");
    let messages = compiler_messages(&run.stdout);
    let unused = messages
        .iter()
        .find(|message| code_of(message) == "unused-suppression")
        .unwrap_or_else(|| panic!("no unused-suppression in {run:#?}"));
    assert_eq!(unused["message"]["level"], "warning");
    assert_eq!(
        unused["message"]["message"],
        format!("unused suppression of `{UNSYNC}`")
    );
    let help = &unused["message"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|child| child["level"] == "help")
        .unwrap()["spans"][0];
    assert_eq!(help["suggested_replacement"], "");
    assert_eq!(help["suggestion_applicability"], "MachineApplicable");
    let removed = &text.as_bytes()[help["byte_start"].as_u64().unwrap() as usize
        ..help["byte_end"].as_u64().unwrap() as usize];
    assert_eq!(
        std::str::from_utf8(removed).unwrap(),
        format!("\t{comment}\n")
    );
    let human = deferlint(tree.root(), &["."]);
    assert!(
        human.stderr.contains(
            "warning[unused-suppression]: unused suppression of `unsync-map-write-in-defer`"
        ),
        "{human:#?}"
    );
    assert!(human.stderr.contains("main.go:"), "{human:#?}");
    // Its own level: `-A` hides it, `-D` fails the run on it.
    let allowed = deferlint(
        tree.root(),
        &["-A", "unused-suppression", "-A", UNSYNC, "."],
    );
    assert_eq!(allowed.code, 0, "{allowed:#?}");
    assert!(allowed.stderr.contains("no findings"), "{allowed:#?}");
}

#[test]
fn an_unused_trailing_suppression_is_reported_in_rust() {
    let mut text = poisoned_with_trailing(&format!("// deferlint: allow({POISONED})"));
    text.push_str(&format!(
        "const UNUSED: u8 = 1; // deferlint: allow({POISONED})\n"
    ));
    let tree = TempTree::new(&[("a.rs", text.as_bytes())]);
    let run = deferlint(tree.root(), &["--message-format", "short", "."]);
    assert_eq!(run.code, 0, "{run:#?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    let last_line = text.lines().count();
    assert_eq!(
        lines[0],
        format!(
            "a.rs:{last_line}:23: warning[unused-suppression]: unused suppression of `{POISONED}`"
        ),
        "{run:#?}"
    );
    assert_eq!(
        lines.len(),
        2,
        "only the unused one and the summary: {run:#?}"
    );
    // Denied, it fails the run.
    let denied = deferlint(tree.root(), &["-D", "warnings", "."]);
    assert_eq!(denied.code, 1, "{denied:#?}");
}

#[test]
fn of_several_names_only_the_unused_one_is_reported_and_removed_from_the_list() {
    let text = poisoned_with_trailing(&format!(
        "// deferlint: allow({POISONED}, lock-reentered-in-defer) reviewed"
    ));
    let tree = TempTree::new(&[("a.rs", text.as_bytes())]);
    let run = deferlint(tree.root(), &["--color", "never", "."]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        !run.stderr.contains(&format!("warning[{POISONED}]")),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains(
            "warning[unused-suppression]: unused suppression of `lock-reentered-in-defer`"
        ),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains(&format!(
            "help: keep only the names that suppress a finding: `{POISONED}`"
        )),
        "{run:#?}"
    );
    assert!(run.stderr.contains("1 warning"), "{run:#?}");
}

#[test]
fn suppressions_of_rules_that_did_not_run_are_not_called_unused() {
    // `nil-map-write` is a Go rule; `contended-map-write-in-defer` is allowed by default.
    let text = poisoned_with_trailing(&format!(
        "// deferlint: allow({POISONED}, nil-map-write, contended-map-write-in-defer)"
    ));
    let tree = TempTree::new(&[("a.rs", text.as_bytes())]);
    let run = deferlint(tree.root(), &["."]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stderr.contains("no findings"), "{run:#?}");
    // Allowed with -A, the suppressed rule itself says nothing either.
    let (lines, _) = poisoned();
    let text = with_line_above(lines, 0, &format!("// deferlint: allow({POISONED})"));
    let tree = TempTree::new(&[("a.rs", text.as_bytes())]);
    let run = deferlint(tree.root(), &["-A", POISONED, "."]);
    assert!(run.stderr.contains("no findings"), "{run:#?}");
    let run = deferlint(tree.root(), &["."]);
    assert!(run.stderr.contains("unused suppression"), "{run:#?}");
}

#[test]
fn suppressions_in_test_code_are_judged_only_when_test_code_is_checked() {
    let text = format!(
        "#[cfg(test)]\nmod tests {{\n    #[test]\n    fn t() {{\n        let _ = 1; // deferlint: allow({POISONED})\n    }}\n}}\n"
    );
    let tree = TempTree::new(&[("a.rs", text.as_bytes())]);
    let run = deferlint(tree.root(), &["."]);
    assert!(run.stderr.contains("no findings"), "{run:#?}");
    let run = deferlint(tree.root(), &["--all-targets", "."]);
    assert!(
        run.stderr.contains("a.rs:5:20") && run.stderr.contains("unused suppression"),
        "{run:#?}"
    );
}

#[test]
fn a_marker_inside_a_string_literal_is_not_a_suppression() {
    for (name, (lines, line), rule, literal) in [
        (
            "a.rs",
            poisoned(),
            POISONED,
            format!("let _note = \"// deferlint: allow({POISONED})\";"),
        ),
        (
            "main.go",
            unsync_go(),
            UNSYNC,
            format!("; _ = `// deferlint: allow({UNSYNC})`"),
        ),
    ] {
        assert_reported_once(name, &with_trailing(lines, line, &literal), rule);
    }
}

#[test]
fn an_unknown_rule_name_in_a_comment_is_a_warning_with_the_closest_name() {
    let line = poisoned().1;
    let text = poisoned_with_trailing("// deferlint: allow(poisoned-lock-unwrap-in-defr) typo");
    let tree = TempTree::new(&[("a.rs", text.as_bytes())]);
    let run = deferlint(tree.root(), &["--color", "never", "."]);
    // The misspelt name suppresses nothing: the finding stays, and decides the exit code.
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stderr.contains(
            "warning[unknown-rule]: unknown rule `poisoned-lock-unwrap-in-defr` in a suppression comment"
        ),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains(&format!("warning[{POISONED}]")),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains(&format!("--> a.rs:{}:", line + 1)),
        "{run:#?}"
    );
    assert!(
        run.stderr
            .contains(&format!("help: did you mean: `{POISONED}`")),
        "{run:#?}"
    );
    assert!(run.stderr.contains(" 0 errors, 2 warnings "), "{run:#?}");
    assert!(!run.stderr.contains("error:"), "{run:#?}");
    // A level like any warning's.
    let denied = deferlint(tree.root(), &["-D", "unknown-rule", "."]);
    assert_eq!(denied.code, 1, "{denied:#?}");
    assert!(denied.stderr.contains("error[unknown-rule]"), "{denied:#?}");
    let allowed = deferlint(tree.root(), &["-A", "unknown-rule", "."]);
    assert!(!allowed.stderr.contains("unknown-rule"), "{allowed:#?}");
}

#[test]
fn a_malformed_suppression_exits_with_2() {
    let text = "package main\n\nfunc main() {} // deferlint: alow(shared-map-write)\n";
    let tree = TempTree::new(&[("main.go", text.as_bytes())]);
    let run = deferlint(tree.root(), &["--message-format", "short", "."]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stderr.starts_with(
            "main.go:3:16: error[invalid-suppression]: malformed suppression comment: expected `allow(rule-name)` after `deferlint:`"
        ),
        "{run:#?}"
    );
}

#[test]
fn rendered_suppression_diagnostics_snapshot() {
    // Every wording at once: an unused comment alone on its line, an unused trailing one, an
    // unused name in a list, an unknown name and a malformed comment.
    let mut text = poisoned_with_trailing(&format!(
        "// deferlint: allow({POISONED}, exit-skips-deferred-cleanup)"
    ));
    text.push_str(&format!(
        "\n// deferlint: allow({POISONED}) left over\n// explains the line below\nconst A: u8 = 1;\nconst B: u8 = 2; // deferlint: allow(lock-reentered-in-defer)\nconst C: u8 = 3; // deferlint: allow(lock-reentred-in-defer)\nconst D: u8 = 4; // deferlint: allow {POISONED}\n"
    ));
    let tree = TempTree::new(&[("a.rs", text.as_bytes())]);
    let run = deferlint(tree.root(), &["--quiet", "--color", "never", "."]);
    assert_eq!(run.code, 2, "{run:#?}");
    insta::assert_snapshot!(run.stderr);
}
