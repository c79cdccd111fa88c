//! Inline suppressions: `// deferlint: allow(rule-name) reason` comments, found in a file's text
//! while the driver has it in memory, and applied to the findings of the file's unit.
//!
//! A directive is a line comment (`//`, Rust and Go alike) whose text starts with `deferlint:`.
//! Trailing code on its line, it covers the findings of the rules it names whose primary span
//! starts on that line; alone on its line, it covers the next line that is not itself only a
//! line comment, so that several directives (or a directive and an explanation) can be stacked
//! above one line. Block comments are not read: a directive belongs to a line, and a block
//! comment can span several. Doc comments (`///`, `//!`) are not directives either, since their
//! text starts with `/` or `!`, so documentation can show the syntax.
//!
//! The comments are found by a small lexer that skips string, character and raw string
//! literals and block comments, so a `// deferlint:` inside a string is not a directive. It
//! runs only on files whose text contains the marker at all, which a substring search decides;
//! the frontends' own tokenizers are no help here: proc-macro2 drops comments, and taking them
//! from tree-sitter would need a second walk of the tree for Go only.

use rustc_hash::FxHashMap;

use crate::diagnostic::{Applicability, Diagnostic, Edit, Label, Severity};
use crate::frontend::comments::{Comment, CommentKind, comments};
use crate::source::{FileId, Language, Span};

/// A directive, or one of the rule names in it, that suppressed nothing in a run where its
/// rule ran. A tool diagnostic: warn by default, named in `-A`/`-W`/`-D`.
pub const UNUSED_SUPPRESSION: &str = "unused-suppression";

/// A comment that starts with `deferlint:` but does not read as a directive. Always an error,
/// and the cli exits with 2 for it: the input is wrong, as with a malformed flag.
pub const INVALID_SUPPRESSION: &str = "invalid-suppression";

/// A directive names a rule that does not exist. A tool diagnostic, warn by default, as rustc's
/// `unknown_lints`: a comment written for a newer or older deferlint must not break the build.
pub const UNKNOWN_RULE: &str = "unknown-rule";

/// What starts a directive's comment text.
const MARKER: &str = "deferlint:";

/// The suppression comments of one file.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct FileSuppressions {
    pub directives: Vec<Directive>,
    /// Comments that start with the marker but do not read as a directive.
    pub malformed: Vec<Malformed>,
    /// Byte offsets of the line starts, to match findings by line.
    line_starts: Vec<u32>,
}

/// One `// deferlint: allow(..)` comment.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Directive {
    /// The comment, from `//` to the end of its line.
    pub comment: Span,
    /// The 0-based line whose findings it covers.
    pub target_line: u32,
    /// The comment is alone on its line.
    pub standalone: bool,
    pub names: Vec<DirectiveName>,
    /// The text between the parentheses.
    pub list: Span,
    /// The text after `)`, trimmed; a directive without a reason is accepted.
    pub reason: Option<String>,
    /// What removing the whole directive deletes: its line when it is alone on it, else the
    /// comment and the blanks before it.
    pub removal: Span,
}

/// A rule name in a directive's list.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DirectiveName {
    /// Without a `deferlint::` prefix, which is accepted as in `-A deferlint::name`.
    pub name: String,
    /// The name as written, prefix included.
    pub span: Span,
    pub written: String,
}

/// A comment that starts with the marker but is not a directive.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Malformed {
    pub comment: Span,
    pub problem: String,
}

impl FileSuppressions {
    fn line_of(&self, offset: u32) -> u32 {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line as u32,
            Err(next) => next.saturating_sub(1) as u32,
        }
    }
}

/// Finds the directives of a file; `None` when its text does not contain the marker, which is
/// every file but a few, at the cost of one substring search.
pub fn scan(file: FileId, text: &str, language: Language) -> Option<Box<FileSuppressions>> {
    if !text.contains(MARKER) {
        return None;
    }
    let mut line_starts = vec![0u32];
    line_starts.extend(
        text.bytes()
            .enumerate()
            .filter(|(_, byte)| *byte == b'\n')
            .map(|(offset, _)| offset as u32 + 1),
    );
    let mut suppressions = FileSuppressions {
        line_starts,
        ..FileSuppressions::default()
    };
    let comments: Vec<Comment> = comments(text, language)
        .into_iter()
        .filter(|comment| comment.kind == CommentKind::Line)
        .collect();
    // Lines that hold nothing but a line comment: a directive alone on its line skips them to
    // find the line it covers.
    let comment_only_lines: Vec<u32> = comments
        .iter()
        .filter(|comment| is_alone_on_its_line(text, comment.start))
        .map(|comment| suppressions.line_of(comment.start as u32))
        .collect();
    for comment in comments {
        let body = &text[comment.start + 2..comment.end];
        let trimmed = body.trim_start();
        if !trimmed.starts_with(MARKER) {
            continue;
        }
        let after_marker = comment.end - trimmed.len() + MARKER.len();
        let comment_span = Span::new(file, comment.start as u32, comment.end as u32);
        match parse_directive(text, after_marker, comment.end) {
            Err(problem) => suppressions.malformed.push(Malformed {
                comment: comment_span,
                problem: problem.to_string(),
            }),
            Ok(parsed) => {
                let line = suppressions.line_of(comment.start as u32);
                let standalone = is_alone_on_its_line(text, comment.start);
                let mut target_line = line;
                if standalone {
                    target_line += 1;
                    while comment_only_lines.binary_search(&target_line).is_ok() {
                        target_line += 1;
                    }
                }
                let removal = if standalone {
                    let line_start = suppressions.line_starts[line as usize];
                    let next_line = suppressions
                        .line_starts
                        .get(line as usize + 1)
                        .copied()
                        .unwrap_or(text.len() as u32);
                    Span::new(file, line_start, next_line)
                } else {
                    let code_end = text[..comment.start].trim_end_matches([' ', '\t']).len();
                    Span::new(file, code_end as u32, comment.end as u32)
                };
                let span = |(lo, hi): (usize, usize)| Span::new(file, lo as u32, hi as u32);
                suppressions.directives.push(Directive {
                    comment: comment_span,
                    target_line,
                    standalone,
                    names: parsed
                        .names
                        .iter()
                        .map(|&(lo, hi)| {
                            let written = &text[lo..hi];
                            DirectiveName {
                                name: written
                                    .strip_prefix("deferlint::")
                                    .unwrap_or(written)
                                    .to_string(),
                                span: span((lo, hi)),
                                written: written.to_string(),
                            }
                        })
                        .collect(),
                    list: span(parsed.list),
                    reason: parsed.reason,
                    removal,
                });
            }
        }
    }
    Some(Box::new(suppressions))
}

/// Removes from `diagnostics` the findings a directive covers, and returns the diagnostics
/// about the directives themselves: `invalid-suppression` for malformed comments,
/// `unknown-rule` for unknown rule names, `unused-suppression` for names that covered nothing. A name counts as unused
/// only where `rule_ran_at(name, comment)` says its rule ran on that code in this run: a rule
/// set to allow, a rule of the other language, or test code that is not checked can say
/// nothing about whether the suppression is still needed.
pub fn apply(
    diagnostics: &mut Vec<Diagnostic>,
    files: &[(FileId, Box<FileSuppressions>)],
    rule_names: &[&'static str],
    rule_ran_at: &dyn Fn(&str, Span) -> bool,
) -> Vec<Diagnostic> {
    if files.is_empty() {
        return Vec::new();
    }
    let by_file: FxHashMap<FileId, usize> = files
        .iter()
        .enumerate()
        .map(|(index, (file, _))| (*file, index))
        .collect();
    // used[file][directive][name]
    let mut used: Vec<Vec<Vec<bool>>> = files
        .iter()
        .map(|(_, suppressions)| {
            suppressions
                .directives
                .iter()
                .map(|directive| vec![false; directive.names.len()])
                .collect()
        })
        .collect();
    diagnostics.retain(|diagnostic| {
        let span = diagnostic.primary.span;
        let Some(&file_index) = by_file.get(&span.file) else {
            return true;
        };
        let suppressions = &files[file_index].1;
        let line = suppressions.line_of(span.lo);
        let mut suppressed = false;
        for (directive_index, directive) in suppressions.directives.iter().enumerate() {
            if directive.target_line != line {
                continue;
            }
            for (name_index, name) in directive.names.iter().enumerate() {
                if name.name == diagnostic.rule {
                    used[file_index][directive_index][name_index] = true;
                    suppressed = true;
                }
            }
        }
        !suppressed
    });
    let mut reports = Vec::new();
    for (file_index, (_, suppressions)) in files.iter().enumerate() {
        for malformed in &suppressions.malformed {
            reports.push(malformed_diagnostic(malformed));
        }
        for (directive_index, directive) in suppressions.directives.iter().enumerate() {
            let mut unused = Vec::new();
            for (name_index, name) in directive.names.iter().enumerate() {
                if !rule_names.contains(&name.name.as_str()) {
                    reports.push(unknown_name_diagnostic(name, rule_names));
                } else if !used[file_index][directive_index][name_index]
                    && rule_ran_at(&name.name, directive.comment)
                {
                    unused.push(name_index);
                }
            }
            if !unused.is_empty() {
                let own_line = suppressions.line_of(directive.comment.lo);
                reports.push(unused_diagnostic(directive, &unused, own_line));
            }
        }
    }
    reports
}

/// The diagnostic for names of a directive that covered nothing, with the edit that removes
/// them: the whole directive when every name is unused, else the names from the list.
fn unused_diagnostic(directive: &Directive, unused: &[usize], own_line: u32) -> Diagnostic {
    let quoted: Vec<String> = unused
        .iter()
        .map(|&index| format!("`{}`", directive.names[index].written))
        .collect();
    let listed = join_list(&quoted, "and");
    let place = if directive.target_line == own_line {
        "on this line".to_string()
    } else {
        format!("on line {}", directive.target_line + 1)
    };
    let note = "a suppression comment covers the findings of the rules it names on its own line, \
                or, alone on its line, on the next line that is not a comment";
    let message = format!("unused suppression of {listed}");
    if unused.len() == directive.names.len() {
        let alternatives = join_list(&quoted, "or");
        return Diagnostic::new(
            UNUSED_SUPPRESSION,
            Severity::Warning,
            message,
            Label::new(
                directive.comment,
                format!("no finding of {alternatives} {place}"),
            ),
        )
        .with_note(note)
        .with_suggestion(
            "the suppression comment is not needed",
            vec![Edit {
                span: directive.removal,
                replacement: String::new(),
            }],
            Applicability::MachineApplicable,
        );
    }
    let kept: Vec<&str> = directive
        .names
        .iter()
        .enumerate()
        .filter(|(index, _)| !unused.contains(index))
        .map(|(_, name)| name.written.as_str())
        .collect();
    let first = &directive.names[unused[0]];
    let mut diagnostic = Diagnostic::new(
        UNUSED_SUPPRESSION,
        Severity::Warning,
        message,
        Label::new(
            first.span,
            format!("no finding of `{}` {place}", first.written),
        ),
    );
    for &index in &unused[1..] {
        let name = &directive.names[index];
        diagnostic = diagnostic.with_label(Label::new(
            name.span,
            format!("no finding of `{}` {place}", name.written),
        ));
    }
    diagnostic.with_note(note).with_suggestion(
        "keep only the names that suppress a finding",
        vec![Edit {
            span: directive.list,
            replacement: kept.join(", "),
        }],
        Applicability::MachineApplicable,
    )
}

fn unknown_name_diagnostic(name: &DirectiveName, rule_names: &[&'static str]) -> Diagnostic {
    let diagnostic = Diagnostic::new(
        UNKNOWN_RULE,
        Severity::Warning,
        format!("unknown rule `{}` in a suppression comment", name.written),
        Label::new(name.span, "no rule has this name"),
    );
    match closest_name(&name.name, rule_names) {
        Some(closest) => diagnostic.with_suggestion(
            "did you mean",
            vec![Edit {
                span: name.span,
                replacement: closest.to_string(),
            }],
            Applicability::MaybeIncorrect,
        ),
        None => diagnostic.with_note(format!("valid names are {}", rule_names.join(", "))),
    }
}

fn malformed_diagnostic(malformed: &Malformed) -> Diagnostic {
    Diagnostic::new(
        INVALID_SUPPRESSION,
        Severity::Error,
        format!("malformed suppression comment: {}", malformed.problem),
        Label::new(
            malformed.comment,
            "a comment that starts with `deferlint:` is read as a suppression",
        ),
    )
    .with_help(
        "write `// deferlint: allow(rule-name) reason`, or start the comment with other words",
    )
}

/// `a`, `a and b`, `a, b and c` (or `or`).
fn join_list(items: &[String], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

/// The valid name nearest to a misspelt one, when it is near enough to be a typo: at most a
/// third of its characters differ.
fn closest_name(name: &str, candidates: &[&'static str]) -> Option<&'static str> {
    candidates
        .iter()
        .map(|&candidate| (edit_distance(name, candidate), candidate))
        .filter(|&(distance, candidate)| distance * 3 <= candidate.chars().count().max(3))
        .min()
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, a_char) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, &b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != b_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// A directive's parts, as byte ranges of the file's text.
struct ParsedDirective {
    names: Vec<(usize, usize)>,
    list: (usize, usize),
    reason: Option<String>,
}

/// Reads `allow(name, ..) reason` from `text[start..end]`, the comment after the marker.
fn parse_directive(text: &str, start: usize, end: usize) -> Result<ParsedDirective, &'static str> {
    const EXPECTED_ALLOW: &str = "expected `allow(rule-name)` after `deferlint:`";
    let skip_blanks = |position: usize| {
        position + (text[position..end].len() - text[position..end].trim_start().len())
    };
    let mut position = skip_blanks(start);
    if !text[position..end].starts_with("allow") {
        return Err(EXPECTED_ALLOW);
    }
    position = skip_blanks(position + "allow".len());
    if !text[position..end].starts_with('(') {
        return Err(EXPECTED_ALLOW);
    }
    let list_start = position + 1;
    let Some(close) = text[list_start..end].find(')') else {
        return Err("`allow(` is not closed with `)`");
    };
    let list_end = list_start + close;
    let mut names = Vec::new();
    let mut part_start = list_start;
    for part in text[list_start..list_end].split(',') {
        let leading = part.len() - part.trim_start().len();
        let name = part.trim();
        if name.is_empty() {
            return Err("a rule name in `allow(..)` is empty");
        }
        let lo = part_start + leading;
        names.push((lo, lo + name.len()));
        part_start += part.len() + 1;
    }
    let reason = text[list_end + 1..end].trim();
    Ok(ParsedDirective {
        names,
        list: (list_start, list_end),
        reason: (!reason.is_empty()).then(|| reason.to_string()),
    })
}

fn is_alone_on_its_line(text: &str, comment_start: usize) -> bool {
    let line_start = text[..comment_start]
        .rfind('\n')
        .map_or(0, |index| index + 1);
    text[line_start..comment_start].trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: FileId = FileId(0);

    fn directives(text: &str, language: Language) -> Box<FileSuppressions> {
        scan(FILE, text, language).expect("the text has the marker")
    }

    fn text_of(text: &str, span: Span) -> &str {
        &text[span.lo as usize..span.hi as usize]
    }

    fn finding(rule: &'static str, text: &str, needle: &str) -> Diagnostic {
        let lo = text.find(needle).expect("the needle is in the text") as u32;
        Diagnostic::new(
            rule,
            Severity::Error,
            "m",
            Label::new(Span::new(FILE, lo, lo + needle.len() as u32), ""),
        )
    }

    const NAMES: &[&str] = &["rule-a", "rule-b", "poisoned-lock-unwrap-in-defer"];

    fn apply_all(
        text: &str,
        language: Language,
        findings: &mut Vec<Diagnostic>,
    ) -> Vec<Diagnostic> {
        let files = vec![(FILE, directives(text, language))];
        apply(findings, &files, NAMES, &|_, _| true)
    }

    #[test]
    fn files_without_the_marker_are_not_lexed() {
        assert!(scan(FILE, "fn main() {} // allow(x)\n", Language::Rust).is_none());
    }

    #[test]
    fn trailing_and_standalone_directives_cover_their_lines() {
        let text = "fn f() {\n    a(); // deferlint: allow(rule-a) the reason\n    // deferlint: allow(rule-b)\n    // why it is fine\n    b();\n}\n";
        let found = directives(text, Language::Rust);
        assert_eq!(found.directives.len(), 2);
        let trailing = &found.directives[0];
        assert!(!trailing.standalone);
        assert_eq!(trailing.target_line, 1);
        assert_eq!(trailing.reason.as_deref(), Some("the reason"));
        assert_eq!(
            text_of(text, trailing.removal),
            " // deferlint: allow(rule-a) the reason"
        );
        let standalone = &found.directives[1];
        assert!(standalone.standalone);
        assert_eq!(standalone.target_line, 4, "skips the comment line below it");
        assert_eq!(standalone.reason, None);
        assert_eq!(
            text_of(text, standalone.removal),
            "    // deferlint: allow(rule-b)\n"
        );
    }

    #[test]
    fn names_are_split_trimmed_and_lose_the_tool_prefix() {
        let text = "x(); //deferlint:allow( rule-a ,deferlint::rule-b)\n";
        let found = directives(text, Language::Go);
        let names: Vec<(&str, &str)> = found.directives[0]
            .names
            .iter()
            .map(|name| (name.name.as_str(), text_of(text, name.span)))
            .collect();
        assert_eq!(
            names,
            [("rule-a", "rule-a"), ("rule-b", "deferlint::rule-b")]
        );
        assert_eq!(
            text_of(text, found.directives[0].list),
            " rule-a ,deferlint::rule-b"
        );
    }

    #[test]
    fn markers_inside_literals_and_block_comments_and_doc_comments_are_not_directives() {
        let rust = concat!(
            "let a = \"// deferlint: allow(rule-a)\";\n",
            "let b = r#\"x \" // deferlint: allow(rule-a)\"#;\n",
            "let c = \"line one\n// deferlint: allow(rule-a)\";\n",
            "let d = '\"'; fn e<'a>(x: &'a str) {} // deferlint: allow(rule-b)\n",
            "/* // deferlint: allow(rule-a) /* nested */ still // deferlint: allow(rule-a) */\n",
            "/// // deferlint: allow(rule-a)\n",
            "//! deferlint: allow(rule-a)\n",
        );
        let found = directives(rust, Language::Rust);
        assert_eq!(found.directives.len(), 1, "{:?}", found.directives);
        assert_eq!(found.directives[0].names[0].name, "rule-b");
        assert_eq!(found.directives[0].target_line, 4);
        let go = concat!(
            "s := `raw\n// deferlint: allow(rule-a)`\n",
            "r := '\"'; t := \"// deferlint: allow(rule-a)\" // deferlint: allow(rule-b)\n",
        );
        let found = directives(go, Language::Go);
        assert_eq!(found.directives.len(), 1, "{:?}", found.directives);
        assert_eq!(found.directives[0].names[0].name, "rule-b");
    }

    #[test]
    fn malformed_directives_are_kept_as_problems() {
        for (comment, problem) in [
            (
                "// deferlint: alow(rule-a)",
                "expected `allow(rule-name)` after `deferlint:`",
            ),
            (
                "// deferlint: allow rule-a",
                "expected `allow(rule-name)` after `deferlint:`",
            ),
            (
                "// deferlint: allow(rule-a",
                "`allow(` is not closed with `)`",
            ),
            (
                "// deferlint: allow()",
                "a rule name in `allow(..)` is empty",
            ),
            (
                "// deferlint: allow(rule-a,)",
                "a rule name in `allow(..)` is empty",
            ),
        ] {
            let text = format!("x();\n{comment}\n");
            let found = directives(&text, Language::Rust);
            assert!(found.directives.is_empty(), "{comment}");
            assert_eq!(found.malformed.len(), 1, "{comment}");
            assert_eq!(found.malformed[0].problem, problem, "{comment}");
            let mut findings = Vec::new();
            let reports = apply_all(&text, Language::Rust, &mut findings);
            assert_eq!(reports.len(), 1);
            assert_eq!(reports[0].rule, INVALID_SUPPRESSION);
            assert_eq!(reports[0].severity, Severity::Error);
        }
    }

    #[test]
    fn covered_findings_are_removed_and_the_others_kept() {
        let text = "a(); // deferlint: allow(rule-a)\nb(); // deferlint: allow(rule-a)\n";
        let mut findings = vec![
            finding("rule-a", text, "a()"),
            finding("rule-b", text, "a()"),
            finding("rule-a", text, "b()"),
        ];
        let reports = apply_all(text, Language::Rust, &mut findings);
        assert!(reports.is_empty(), "{reports:#?}");
        let left: Vec<&str> = findings.iter().map(|finding| finding.rule).collect();
        assert_eq!(left, ["rule-b"]);
    }

    #[test]
    fn an_unused_directive_is_reported_with_an_edit_that_removes_it() {
        let text = "fn f() {\n    // deferlint: allow(rule-a) reason\n    a();\n    b(); // deferlint: allow(rule-b)\n}\n";
        let mut findings = Vec::new();
        let reports = apply_all(text, Language::Rust, &mut findings);
        assert_eq!(reports.len(), 2);
        assert!(reports.iter().all(
            |report| report.rule == UNUSED_SUPPRESSION && report.severity == Severity::Warning
        ));
        assert_eq!(reports[0].message, "unused suppression of `rule-a`");
        assert_eq!(
            reports[0].primary.message,
            "no finding of `rule-a` on line 3"
        );
        let edit = &reports[0].helps[0].suggestion.as_ref().unwrap().edits[0];
        assert_eq!(
            text_of(text, edit.span),
            "    // deferlint: allow(rule-a) reason\n"
        );
        assert_eq!(edit.replacement, "");
        assert_eq!(
            reports[1].primary.message,
            "no finding of `rule-b` on this line"
        );
        let edit = &reports[1].helps[0].suggestion.as_ref().unwrap().edits[0];
        assert_eq!(text_of(text, edit.span), " // deferlint: allow(rule-b)");
    }

    #[test]
    fn an_unused_name_in_a_list_is_removed_from_the_list() {
        let text = "a(); // deferlint: allow(rule-a, rule-b, poisoned-lock-unwrap-in-defer) why\n";
        let mut findings = vec![finding("rule-b", text, "a()")];
        let reports = apply_all(text, Language::Rust, &mut findings);
        assert!(findings.is_empty());
        assert_eq!(reports.len(), 1, "{reports:#?}");
        assert_eq!(
            reports[0].message,
            "unused suppression of `rule-a` and `poisoned-lock-unwrap-in-defer`"
        );
        assert_eq!(text_of(text, reports[0].primary.span), "rule-a");
        assert_eq!(
            text_of(text, reports[0].secondary[0].span),
            "poisoned-lock-unwrap-in-defer"
        );
        let suggestion = reports[0].helps[0].suggestion.as_ref().unwrap();
        assert_eq!(suggestion.applicability, Applicability::MachineApplicable);
        assert_eq!(
            text_of(text, suggestion.edits[0].span),
            "rule-a, rule-b, poisoned-lock-unwrap-in-defer"
        );
        assert_eq!(suggestion.edits[0].replacement, "rule-b");
    }

    #[test]
    fn names_whose_rule_did_not_run_there_are_not_called_unused() {
        let text = "a(); // deferlint: allow(rule-a, rule-b)\n";
        let files = vec![(FILE, directives(text, Language::Rust))];
        let mut findings = Vec::new();
        let reports = apply(&mut findings, &files, NAMES, &|name, _| name == "rule-b");
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].message, "unused suppression of `rule-b`");
        let reports = apply(&mut findings, &files, NAMES, &|_, _| false);
        assert!(reports.is_empty());
    }

    #[test]
    fn unknown_names_are_warnings_with_the_closest_valid_name() {
        let text = "a(); // deferlint: allow(poisoned-lock-unwrap-in-defr, rule-a)\nb(); // deferlint: allow(nothing-like-it)\n";
        let mut findings = vec![finding("rule-a", text, "a()")];
        let reports = apply_all(text, Language::Rust, &mut findings);
        assert!(findings.is_empty(), "the valid name still suppresses");
        assert_eq!(reports.len(), 2, "{reports:#?}");
        let report = &reports[0];
        assert_eq!(report.rule, UNKNOWN_RULE);
        assert_eq!(report.severity, Severity::Warning);
        assert_eq!(
            report.message,
            "unknown rule `poisoned-lock-unwrap-in-defr` in a suppression comment"
        );
        assert!(report.notes.is_empty(), "{report:#?}");
        assert_eq!(report.helps[0].message, "did you mean");
        let edit = &report.helps[0].suggestion.as_ref().unwrap().edits[0];
        assert_eq!(edit.replacement, "poisoned-lock-unwrap-in-defer");
        // Nothing near: the valid names instead.
        assert!(reports[1].helps.is_empty(), "{:#?}", reports[1]);
        assert_eq!(
            reports[1].notes,
            ["valid names are rule-a, rule-b, poisoned-lock-unwrap-in-defer"]
        );
        assert_eq!(closest_name("nothing-like-it", NAMES), None);
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
