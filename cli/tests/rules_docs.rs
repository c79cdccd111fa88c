//! `--list-rules` and `--explain`, which print the rules crate's metadata and docs.

mod support;

use deferlint_rules::{RULES, TOOL_DIAGNOSTICS};
use support::{TempTree, assert_usage_error, cargo_deferlint, deferlint};

#[test]
fn list_rules_has_a_row_per_rule_with_languages_level_and_summary() {
    let tree = TempTree::new(&[]);
    let run = deferlint(tree.root(), &["--list-rules"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        // The rules, the tool diagnostics and `invalid-suppression`, which no level changes.
        1 + RULES.len() + TOOL_DIAGNOSTICS.len() + 1,
        "{run:#?}"
    );
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["NAME", "LANGUAGES", "DEFAULT", "SUMMARY"]);
    let summary_column = lines[0].find("SUMMARY").unwrap();
    for (rule, line) in RULES.iter().zip(&lines[1..]) {
        let languages: Vec<String> = rule
            .meta
            .languages
            .iter()
            .map(|language| format!("{language:?}"))
            .collect();
        let columns: Vec<&str> = line[..summary_column]
            .split("  ")
            .map(str::trim)
            .filter(|column| !column.is_empty())
            .collect();
        assert_eq!(
            columns,
            [
                rule.meta.name,
                &languages.join(", "),
                rule.meta.default_level().as_str()
            ],
            "{line}"
        );
        assert_eq!(&line[summary_column..], rule.meta.summary, "{line}");
    }
    for (name, line) in TOOL_DIAGNOSTICS.iter().zip(&lines[1 + RULES.len()..]) {
        assert!(line.starts_with(&format!("{name} ")), "{run:#?}");
    }
    assert!(
        run.stdout.contains("suppressed nothing\n"),
        "the unused-suppression row has its own summary: {run:#?}"
    );
    assert!(
        run.stdout.contains("does not have\n"),
        "the unknown-rule row has its own summary: {run:#?}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|line| line.starts_with("invalid-suppression ") && line.contains(" deny ")),
        "{run:#?}"
    );
    assert_eq!(
        cargo_deferlint(tree.root(), &["--list-rules"]).stdout,
        run.stdout
    );
}

#[test]
fn explain_prints_the_docs_of_a_rule() {
    let tree = TempTree::new(&[]);
    for rule in RULES {
        let run = deferlint(tree.root(), &["--explain", rule.meta.name]);
        assert_eq!(run.code, 0, "{run:#?}");
        let first_line = format!(
            "{} ({}, {} by default; ",
            rule.meta.name,
            rule.meta.category.as_str(),
            rule.meta.default_level().as_str()
        );
        assert!(run.stdout.starts_with(&first_line), "{run:#?}");
        for doc_line in rule.meta.docs.lines() {
            let unindented = doc_line.strip_prefix(' ').unwrap_or(doc_line);
            assert!(
                run.stdout.contains(&format!("\n{unindented}\n")),
                "`{unindented}` missing from {run:#?}"
            );
        }
        let prefixed = deferlint(
            tree.root(),
            &["--explain", &format!("deferlint::{}", rule.meta.name)],
        );
        assert_eq!(prefixed.stdout, run.stdout);
    }
    let parse_error = deferlint(tree.root(), &["--explain", "parse-error"]);
    assert_eq!(parse_error.code, 0, "{parse_error:#?}");
    assert!(
        parse_error.stdout.contains("### What it does\n"),
        "{parse_error:#?}"
    );
    let unused = deferlint(tree.root(), &["--explain", "unused-suppression"]);
    assert_eq!(unused.code, 0, "{unused:#?}");
    let invalid = deferlint(tree.root(), &["--explain", "invalid-suppression"]);
    assert_eq!(invalid.code, 0, "{invalid:#?}");
    let unknown = deferlint(tree.root(), &["--explain", "unknown-rule"]);
    assert_eq!(unknown.code, 0, "{unknown:#?}");
    assert!(
        unknown
            .stdout
            .starts_with("unknown-rule (tool diagnostic, warn by default"),
        "{unknown:#?}"
    );
    for section in [
        "### What it does\n",
        "### Why is this bad?\n",
        "### Example\n",
        "### Use instead\n",
    ] {
        assert!(unused.stdout.contains(section), "{section}: {unused:#?}");
        assert!(invalid.stdout.contains(section), "{section}: {invalid:#?}");
        assert!(unknown.stdout.contains(section), "{section}: {unknown:#?}");
    }
    assert!(
        invalid
            .stdout
            .starts_with("invalid-suppression (tool diagnostic, always an error"),
        "{invalid:#?}"
    );
    assert!(
        unused
            .stdout
            .starts_with("unused-suppression (tool diagnostic, warn by default; Rust, Go)\n\n"),
        "{unused:#?}"
    );
}

#[test]
fn explain_of_an_unknown_rule_exits_with_2() {
    let tree = TempTree::new(&[]);
    let run = deferlint(tree.root(), &["--explain", "no-such-rule"]);
    assert_usage_error(&run, "unknown rule `no-such-rule`; valid names are ");
    assert!(run.stdout.is_empty(), "{run:#?}");
}
