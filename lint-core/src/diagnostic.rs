//! The diagnostics model shared by rules and renderers: a finding with its primary span,
//! secondary labels, notes, helps and optional machine-applicable edits.

use crate::source::Span;

/// How loud a rule is: the level a user or the rule's category gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The rule does not run.
    Allow,
    /// Reported as a warning; the exit code stays 0 unless warnings are denied.
    Warn,
    /// Reported as an error; the exit code is 1.
    Deny,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "allow" => Some(Level::Allow),
            "warn" => Some(Level::Warn),
            "deny" => Some(Level::Deny),
            _ => None,
        }
    }
}

/// The severity a finding is shown with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A span with a short text, shown under the code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn new(span: Span, message: impl Into<String>) -> Label {
        Label {
            span,
            message: message.into(),
        }
    }
}

/// How sure a suggested edit is, in rustc's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applicability {
    /// The edit is correct as is and can be applied by a tool.
    MachineApplicable,
    /// The edit is probably right but a human should look.
    MaybeIncorrect,
    /// The edit contains placeholders the user must fill in.
    HasPlaceholders,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::MachineApplicable => "MachineApplicable",
            Applicability::MaybeIncorrect => "MaybeIncorrect",
            Applicability::HasPlaceholders => "HasPlaceholders",
        }
    }

    /// The inverse of [`Applicability::as_str`].
    pub fn parse(text: &str) -> Option<Applicability> {
        [
            Applicability::MachineApplicable,
            Applicability::MaybeIncorrect,
            Applicability::HasPlaceholders,
        ]
        .into_iter()
        .find(|applicability| applicability.as_str() == text)
    }
}

/// Replace the text of `span` with `replacement`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

/// A set of edits that together make one fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub edits: Vec<Edit>,
    pub applicability: Applicability,
}

/// A `help:` line, with the edits that carry it out when the rewrite is mechanical.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Help {
    pub message: String,
    pub suggestion: Option<Suggestion>,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule's kebab-case name, or a tool diagnostic such as `parse-error`.
    pub rule: &'static str,
    pub severity: Severity,
    /// Lowercase, no trailing period, code in backticks.
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub notes: Vec<String>,
    pub helps: Vec<Help>,
}

impl Diagnostic {
    pub fn new(
        rule: &'static str,
        severity: Severity,
        message: impl Into<String>,
        primary: Label,
    ) -> Diagnostic {
        Diagnostic {
            rule,
            severity,
            message: message.into(),
            primary,
            secondary: Vec::new(),
            notes: Vec::new(),
            helps: Vec::new(),
        }
    }

    pub fn with_label(mut self, label: Label) -> Diagnostic {
        self.secondary.push(label);
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn with_help(mut self, message: impl Into<String>) -> Diagnostic {
        self.helps.push(Help {
            message: message.into(),
            suggestion: None,
        });
        self
    }

    pub fn with_suggestion(
        mut self,
        message: impl Into<String>,
        edits: Vec<Edit>,
        applicability: Applicability,
    ) -> Diagnostic {
        self.helps.push(Help {
            message: message.into(),
            suggestion: Some(Suggestion {
                edits,
                applicability,
            }),
        });
        self
    }

    /// The order every output uses: file, line (by offset), column, rule, then message.
    pub fn sort_key(&self) -> (crate::source::FileId, u32, u32, &'static str, &str) {
        (
            self.primary.span.file,
            self.primary.span.lo,
            self.primary.span.hi,
            self.rule,
            &self.message,
        )
    }
}

/// Sorts diagnostics into the documented output order and removes exact duplicates.
pub fn sort_and_dedup(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.secondary.len().cmp(&b.secondary.len()))
    });
    diagnostics.dedup_by(|a, b| a.sort_key() == b.sort_key());
}
