//! Applying suggested edits to one file's text, as `--fix` does in each round: which
//! suggestions fit together, and the text they make. Pure: the cli reads and writes the files.
//!
//! The rules are rustfix's and ruff's: a suggestion is applied whole or not at all; suggestions
//! are taken in the order of their first edit, and one that overlaps an edit already taken is
//! left for the next round, when it is found again on the new text (or is gone); all offsets
//! are byte offsets into the text as it was before any edit, so edits are applied from the end
//! of the text backwards.

use crate::diagnostic::{Applicability, Diagnostic, Edit, Suggestion};

/// What happened to one suggestion given to [`apply_suggestions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuggestionOutcome {
    /// Its edits are in the new text.
    Applied,
    /// An applied suggestion made exactly the same edits (two findings with one fix); they are
    /// in the new text once.
    Duplicate,
    /// It overlaps an edit of an applied suggestion: left for the next round.
    Overlapping,
    /// Its edits do not fit the text: outside it, inside a character, overlapping each other,
    /// or none at all. A bug in the rule that made it.
    Invalid,
}

impl SuggestionOutcome {
    /// The finding the suggestion belongs to is fixed by the new text.
    pub fn fixes_its_finding(self) -> bool {
        matches!(
            self,
            SuggestionOutcome::Applied | SuggestionOutcome::Duplicate
        )
    }
}

/// The new text of a file and what happened to each suggestion, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedSuggestions {
    pub text: String,
    pub outcomes: Vec<SuggestionOutcome>,
}

impl AppliedSuggestions {
    /// Whether any edit was made (a file with nothing applied need not be written).
    pub fn changed_anything(&self) -> bool {
        self.outcomes.contains(&SuggestionOutcome::Applied)
    }
}

/// The suggestions of a diagnostic that a tool may apply without asking.
pub fn machine_applicable(diagnostic: &Diagnostic) -> impl Iterator<Item = &Suggestion> {
    diagnostic
        .helps
        .iter()
        .filter_map(|help| help.suggestion.as_ref())
        .filter(|suggestion| suggestion.applicability == Applicability::MachineApplicable)
}

/// Applies every suggestion that fits, each given as its edits, all in the file whose text is
/// `text` (the edits' file ids are not looked at). Replacements get the text's line endings:
/// in a file written with `\r\n`, a `\n` of a replacement becomes `\r\n`.
pub fn apply_suggestions(text: &str, suggestions: &[&[Edit]]) -> AppliedSuggestions {
    let mut outcomes = vec![SuggestionOutcome::Invalid; suggestions.len()];
    // Each suggestion's edits sorted, or `None` when they cannot be applied at all.
    let sorted: Vec<Option<Vec<&Edit>>> = suggestions
        .iter()
        .map(|edits| sorted_valid_edits(text, edits))
        .collect();
    let mut order: Vec<usize> = (0..suggestions.len())
        .filter(|&index| sorted[index].is_some())
        .collect();
    order.sort_by_key(|&index| {
        let first = sorted[index].as_ref().and_then(|edits| edits.first());
        (first.map(|edit| (edit.span.lo, edit.span.hi)), index)
    });
    let mut taken: Vec<&Edit> = Vec::new();
    let mut applied: Vec<usize> = Vec::new();
    for index in order {
        let Some(edits) = &sorted[index] else {
            continue;
        };
        if applied
            .iter()
            .any(|&other| sorted[other].as_ref() == Some(edits))
        {
            outcomes[index] = SuggestionOutcome::Duplicate;
        } else if edits
            .iter()
            .any(|edit| taken.iter().any(|other| conflict(edit, other)))
        {
            outcomes[index] = SuggestionOutcome::Overlapping;
        } else {
            taken.extend(edits.iter().copied());
            applied.push(index);
            outcomes[index] = SuggestionOutcome::Applied;
        }
    }
    // From the end backwards, so that every offset still points into the original text. At
    // one offset, a replacement goes first and an insertion before it second, which puts the
    // inserted text in front of the replaced one.
    taken.sort_by_key(|edit| std::cmp::Reverse((edit.span.lo, edit.span.hi)));
    let crlf = uses_crlf(text);
    let mut new_text = text.to_string();
    for edit in taken {
        let replacement = if crlf {
            with_crlf(&edit.replacement)
        } else {
            edit.replacement.clone()
        };
        new_text.replace_range(edit.span.lo as usize..edit.span.hi as usize, &replacement);
    }
    AppliedSuggestions {
        text: new_text,
        outcomes,
    }
}

/// The edits in text order, if every one lies inside the text on character boundaries and
/// none overlaps another.
fn sorted_valid_edits<'a>(text: &str, edits: &'a [Edit]) -> Option<Vec<&'a Edit>> {
    if edits.is_empty() {
        return None;
    }
    let fits = |edit: &Edit| {
        let (lo, hi) = (edit.span.lo as usize, edit.span.hi as usize);
        lo <= hi && hi <= text.len() && text.is_char_boundary(lo) && text.is_char_boundary(hi)
    };
    if !edits.iter().all(fits) {
        return None;
    }
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|edit| (edit.span.lo, edit.span.hi));
    let self_overlapping = sorted.windows(2).any(|pair| conflict(pair[0], pair[1]));
    (!self_overlapping).then_some(sorted)
}

/// Two edits conflict when their ranges share a byte, or when both insert at one offset (the
/// order of the two insertions would be a guess). An insertion at either end of a replaced
/// range does not conflict with it.
fn conflict(a: &Edit, b: &Edit) -> bool {
    let overlap = a.span.lo < b.span.hi && b.span.lo < a.span.hi;
    let same_insertion_point = a.span.is_empty() && b.span.is_empty() && a.span.lo == b.span.lo;
    overlap || same_insertion_point
}

/// A text uses CRLF line endings when its first line ends with one.
fn uses_crlf(text: &str) -> bool {
    text.find('\n')
        .is_some_and(|newline| text[..newline].ends_with('\r'))
}

fn with_crlf(replacement: &str) -> String {
    let mut converted = String::with_capacity(replacement.len());
    let mut previous = None;
    for character in replacement.chars() {
        if character == '\n' && previous != Some('\r') {
            converted.push('\r');
        }
        converted.push(character);
        previous = Some(character);
    }
    converted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Label, Severity};
    use crate::source::{FileId, Span};

    fn edit(lo: u32, hi: u32, replacement: &str) -> Edit {
        Edit {
            span: Span::new(FileId(0), lo, hi),
            replacement: replacement.to_string(),
        }
    }

    fn apply(text: &str, suggestions: &[Vec<Edit>]) -> (String, Vec<SuggestionOutcome>) {
        let slices: Vec<&[Edit]> = suggestions.iter().map(Vec::as_slice).collect();
        let applied = apply_suggestions(text, &slices);
        (applied.text, applied.outcomes)
    }

    use SuggestionOutcome::{Applied, Duplicate, Invalid, Overlapping};

    #[test]
    fn edits_apply_on_offsets_of_the_original_text() {
        // Growing the first edit must not shift where the second lands.
        let (text, outcomes) = apply(
            "a.lock().unwrap();",
            &[
                vec![
                    edit(0, 0, "let removed = "),
                    edit(17, 18, "; drop(removed);"),
                ],
                vec![edit(
                    9,
                    17,
                    "unwrap_or_else(std::sync::PoisonError::into_inner)",
                )],
            ],
        );
        assert_eq!(
            text,
            "let removed = a.lock().unwrap_or_else(std::sync::PoisonError::into_inner); drop(removed);"
        );
        assert_eq!(outcomes, [Applied, Applied]);
    }

    #[test]
    fn suggestions_are_taken_in_text_order_whatever_the_order_given() {
        let first = vec![edit(0, 3, "AAA")];
        let overlapping_later = vec![edit(2, 5, "BBB")];
        assert_eq!(
            apply("abcdef", &[overlapping_later.clone(), first.clone()]),
            ("AAAdef".to_string(), vec![Overlapping, Applied])
        );
        assert_eq!(
            apply("abcdef", &[first, overlapping_later]),
            ("AAAdef".to_string(), vec![Applied, Overlapping])
        );
    }

    #[test]
    fn a_suggestion_is_applied_whole_or_not_at_all() {
        // The second suggestion's first edit fits, its second overlaps the first suggestion:
        // none of it is applied.
        let (text, outcomes) = apply(
            "0123456789",
            &[
                vec![edit(0, 1, "a"), edit(6, 8, "b")],
                vec![edit(2, 3, "c"), edit(7, 9, "d")],
            ],
        );
        assert_eq!(text, "a12345b89");
        assert_eq!(outcomes, [Applied, Overlapping]);
    }

    #[test]
    fn the_same_fix_from_two_findings_is_applied_once() {
        let bind = || vec![edit(0, 0, "let removed = "), edit(5, 6, "; drop(removed);")];
        let (text, outcomes) = apply("m.x();", &[bind(), bind()]);
        assert_eq!(text, "let removed = m.x(); drop(removed);");
        assert_eq!(outcomes, [Applied, Duplicate]);
        assert!(outcomes.iter().all(|outcome| outcome.fixes_its_finding()));
    }

    #[test]
    fn two_insertions_at_one_offset_conflict_but_touching_edits_do_not() {
        let (text, outcomes) = apply(
            "abc",
            &[
                vec![edit(1, 1, "X")],
                vec![edit(1, 1, "Y")],
                vec![edit(1, 2, "B")],
            ],
        );
        // The replacement of `b` starts where `X` is inserted: `X` goes in front of it.
        assert_eq!(text, "aXBc");
        assert_eq!(outcomes, [Applied, Overlapping, Applied]);
        let (text, outcomes) = apply("abc", &[vec![edit(0, 1, "A")], vec![edit(1, 1, "-")]]);
        assert_eq!(text, "A-bc");
        assert_eq!(outcomes, [Applied, Applied]);
    }

    #[test]
    fn edits_that_do_not_fit_the_text_are_invalid() {
        let (text, outcomes) = apply(
            "é;xyz",
            &[
                vec![edit(1, 2, "x")],                  // inside `é`
                vec![edit(2, 9, "x")],                  // past the end
                vec![],                                 // nothing to do
                vec![edit(3, 5, "a"), edit(4, 6, "b")], // overlapping itself
                vec![edit(2, 3, ".")],
            ],
        );
        assert_eq!(text, "é.xyz");
        assert_eq!(outcomes, [Invalid, Invalid, Invalid, Invalid, Applied]);
    }

    #[test]
    fn replacements_get_the_files_line_endings() {
        let (text, _) = apply("a;\r\nb;\r\n", &[vec![edit(2, 2, "\nc;\r\nd;")]]);
        assert_eq!(text, "a;\r\nc;\r\nd;\r\nb;\r\n");
        let (text, _) = apply("a;\nb;\n", &[vec![edit(2, 2, "\nc;")]]);
        assert_eq!(text, "a;\nc;\nb;\n");
    }

    #[test]
    fn applying_nothing_changes_nothing() {
        let applied = apply_suggestions("fn main() {}\n", &[]);
        assert_eq!(applied.text, "fn main() {}\n");
        assert!(!applied.changed_anything());
    }

    #[test]
    fn only_machine_applicable_suggestions_are_offered() {
        let diagnostic = Diagnostic::new(
            "rule",
            Severity::Warning,
            "message",
            Label::new(Span::default(), ""),
        )
        .with_help("no edit")
        .with_suggestion(
            "maybe",
            vec![edit(0, 1, "m")],
            Applicability::MaybeIncorrect,
        )
        .with_suggestion(
            "placeholders",
            vec![edit(0, 1, "p")],
            Applicability::HasPlaceholders,
        )
        .with_suggestion(
            "sure",
            vec![edit(0, 1, "s")],
            Applicability::MachineApplicable,
        );
        let offered: Vec<&str> = machine_applicable(&diagnostic)
            .map(|suggestion| suggestion.edits[0].replacement.as_str())
            .collect();
        assert_eq!(offered, ["s"]);
    }
}
