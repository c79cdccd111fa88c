//! The baseline: findings accepted as they are, recorded by rule, file and a fingerprint of the
//! flagged code that does not depend on its line, so that a CI gate fails only on new findings.
//! This module holds the file format, the fingerprint and the comparison; the cli reads and
//! writes the file.
//!
//! The fingerprint hashes the text of the lines the finding's primary span covers and the text
//! of the span itself, each with its whitespace normalised: inserting lines above a finding, or
//! reindenting it, leaves the fingerprint unchanged, while editing the flagged code changes it.
//! Findings are matched as a multiset of (rule, path, fingerprint): two identical findings in
//! a file (the same code on two lines) need two entries, and a third one is new. Which of the
//! identical findings counts as the new one is the last in the file.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::source::Span;

/// The version of the file format this build reads and writes.
pub const BASELINE_VERSION: u32 = 1;

/// A baseline file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<BaselineEntry>,
}

/// One accepted finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineEntry {
    pub rule: String,
    /// The file, relative to the baseline file's folder, with `/` separators.
    pub path: String,
    /// 16 hexadecimal digits; see [`fingerprint`].
    pub fingerprint: String,
    /// The 1-based line when the baseline was written, for people reading the file; never
    /// matched.
    pub line: u32,
    /// The message when the baseline was written, for people reading the file; never matched.
    pub message: String,
}

/// Why a baseline file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("it is not valid JSON ({0})")]
    NotJson(serde_json::Error),
    #[error("it has version {found}; this deferlint reads version {BASELINE_VERSION}")]
    UnsupportedVersion { found: serde_json::Value },
    #[error("it is not a deferlint baseline ({0})")]
    NotABaseline(serde_json::Error),
}

/// How the current findings compare with a baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// For each current finding, in order: an entry of the baseline covers it.
    pub covered: Vec<bool>,
    /// Entries of the baseline that no current finding matched: fixed since it was written.
    pub fixed: Vec<BaselineEntry>,
}

impl Baseline {
    /// A baseline of the given findings, sorted by path, line and rule so that the file diffs
    /// well when it is written again.
    pub fn new(mut findings: Vec<BaselineEntry>) -> Baseline {
        findings.sort_by(|a, b| {
            (&a.path, a.line, &a.rule, &a.fingerprint).cmp(&(
                &b.path,
                b.line,
                &b.rule,
                &b.fingerprint,
            ))
        });
        Baseline {
            version: BASELINE_VERSION,
            findings,
        }
    }

    /// Reads a baseline file's text. The version is checked before the rest, so that a file
    /// of another version is named as such rather than as malformed.
    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(BaselineError::NotJson)?;
        match value.get("version") {
            Some(version) if version.as_u64() == Some(u64::from(BASELINE_VERSION)) => {}
            Some(version) => {
                return Err(BaselineError::UnsupportedVersion {
                    found: version.clone(),
                });
            }
            None => {}
        }
        serde_json::from_value(value).map_err(BaselineError::NotABaseline)
    }

    /// Pretty-printed JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a baseline serialises");
        text.push('\n');
        text
    }

    /// Matches the current findings against the baseline, each entry covering at most one
    /// finding.
    pub fn compare(&self, current: &[BaselineEntry]) -> Comparison {
        let mut remaining: FxHashMap<(&str, &str, &str), Vec<usize>> = FxHashMap::default();
        // Reversed, so that popping hands out the entries in file order.
        for (index, entry) in self.findings.iter().enumerate().rev() {
            remaining.entry(key(entry)).or_default().push(index);
        }
        let covered = current
            .iter()
            .map(|entry| {
                remaining
                    .get_mut(&key(entry))
                    .and_then(|entries| entries.pop())
                    .is_some()
            })
            .collect();
        let mut fixed: Vec<usize> = remaining.into_values().flatten().collect();
        fixed.sort_unstable();
        Comparison {
            covered,
            fixed: fixed
                .into_iter()
                .map(|index| self.findings[index].clone())
                .collect(),
        }
    }
}

fn key(entry: &BaselineEntry) -> (&str, &str, &str) {
    (&entry.rule, &entry.path, &entry.fingerprint)
}

/// The fingerprint of a finding whose primary span is `span` in `text`: FNV-1a (64 bits, a
/// hash whose output never changes, unlike std's) of the normalised text of the lines the
/// span covers, then of the span's own text, which tells two findings on one line apart.
pub fn fingerprint(text: &str, span: Span) -> String {
    let clamp = |offset: u32| {
        let mut offset = (offset as usize).min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    };
    let (lo, hi) = (clamp(span.lo), clamp(span.hi));
    let line_start = text[..lo].rfind('\n').map_or(0, |index| index + 1);
    let line_end = text[hi..].find('\n').map_or(text.len(), |index| hi + index);
    let mut hash = Fnv1a::default();
    hash.write_normalised(&text[line_start..line_end]);
    hash.write(&[0xff]);
    hash.write_normalised(&text[lo..hi]);
    format!("{:016x}", hash.0)
}

/// FNV-1a, 64 bits.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// The words of `text` separated by one space: indentation, line breaks and `\r\n` do not
    /// count.
    fn write_normalised(&mut self, text: &str) {
        for (index, word) in text.split_whitespace().enumerate() {
            if index > 0 {
                self.write(b" ");
            }
            self.write(word.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn span_of(text: &str, needle: &str) -> Span {
        let lo = text.find(needle).unwrap() as u32;
        Span::new(FileId(0), lo, lo + needle.len() as u32)
    }

    fn entry(rule: &str, path: &str, fingerprint: &str, line: u32) -> BaselineEntry {
        BaselineEntry {
            rule: rule.into(),
            path: path.into(),
            fingerprint: fingerprint.into(),
            line,
            message: "m".into(),
        }
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        let hash = |bytes: &[u8]| {
            let mut hash = Fnv1a::default();
            hash.write(bytes);
            hash.0
        };
        assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fingerprints_ignore_lines_above_and_indentation_but_not_edits() {
        let before = "fn f() {\n    m.lock().unwrap();\n}\n";
        let shifted = "// a comment\n\nfn f() {\r\n\t\tm.lock().unwrap();\r\n}\n";
        let edited = "fn f() {\n    n.lock().unwrap();\n}\n";
        let original = fingerprint(before, span_of(before, "m.lock()"));
        assert_eq!(original.len(), 16);
        assert_eq!(original, fingerprint(shifted, span_of(shifted, "m.lock()")));
        assert_ne!(original, fingerprint(edited, span_of(edited, "n.lock()")));
        assert_ne!(
            original,
            fingerprint(before, span_of(before, "unwrap()")),
            "another span on the same line"
        );
    }

    #[test]
    fn fingerprints_of_spans_past_the_end_do_not_panic() {
        let text = "é";
        let span = Span::new(FileId(0), 1, 40);
        assert_eq!(fingerprint(text, span).len(), 16);
    }

    #[test]
    fn comparison_is_a_multiset_match() {
        let baseline = Baseline::new(vec![
            entry("r", "a.rs", "1", 3),
            entry("r", "a.rs", "1", 9),
            entry("r", "b.rs", "2", 1),
        ]);
        let current = [
            entry("r", "a.rs", "1", 30),
            entry("r", "a.rs", "1", 40),
            entry("r", "a.rs", "1", 50),
            entry("other", "a.rs", "1", 60),
        ];
        let comparison = baseline.compare(&current);
        assert_eq!(comparison.covered, [true, true, false, false]);
        assert_eq!(comparison.fixed, [entry("r", "b.rs", "2", 1)]);
    }

    #[test]
    fn parse_reads_what_to_json_writes_and_names_what_is_wrong() {
        let baseline = Baseline::new(vec![entry("r", "a.rs", "0123456789abcdef", 3)]);
        assert_eq!(Baseline::parse(&baseline.to_json()).unwrap(), baseline);
        assert!(matches!(
            Baseline::parse("{ not json"),
            Err(BaselineError::NotJson(_))
        ));
        let other_version = Baseline::parse(r#"{"version": 2, "findings": []}"#).unwrap_err();
        assert_eq!(
            other_version.to_string(),
            "it has version 2; this deferlint reads version 1"
        );
        assert!(matches!(
            Baseline::parse(r#"{"findings": []}"#),
            Err(BaselineError::NotABaseline(_))
        ));
        assert!(matches!(
            Baseline::parse("[]"),
            Err(BaselineError::NotABaseline(_))
        ));
    }
}
