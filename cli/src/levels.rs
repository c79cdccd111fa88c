//! Rule levels from `-A`, `-W` and `-D`: rules, the tool's own diagnostics, and `warnings`.

use anyhow::{Result, bail};
use deferlint_core::diagnostic::{Level, Severity};
use deferlint_core::driver::Finding;
use deferlint_rules::{RULES, RuleSet, TOOL_DIAGNOSTICS};

/// rustc's name for every warning at once (`-D warnings`).
const WARNINGS: &str = "warnings";

/// The levels of one run.
#[derive(Debug)]
pub struct Levels {
    pub rules: RuleSet,
    /// The levels of the tool's own diagnostics such as `parse-error`, which are not rules and
    /// so are not in the [`RuleSet`]; they are warnings by default.
    tool_diagnostics: Vec<(&'static str, Level)>,
}

impl Levels {
    /// Applies the flags in order, a later one overriding an earlier one. `warnings` applies
    /// last whatever its position, as in rustc, where `-D warnings` turns every warning into an
    /// error.
    pub fn from_flags(flags: &[(Level, String)]) -> Result<Levels> {
        let mut rules = RuleSet::default();
        let mut tool_diagnostics: Vec<(&'static str, Level)> = TOOL_DIAGNOSTICS
            .iter()
            .map(|&name| (name, Level::Warn))
            .collect();
        let mut warnings = None;
        let mut unknown = Vec::new();
        for (level, name) in flags {
            // Accepted the way clippy's lints are written in attributes (`clippy::name`).
            let bare = name.strip_prefix("deferlint::").unwrap_or(name);
            if bare == WARNINGS {
                warnings = Some(*level);
            } else if let Some(entry) = tool_diagnostics.iter_mut().find(|(tool, _)| *tool == bare)
            {
                entry.1 = *level;
            } else if !rules.set_level(bare, *level) {
                unknown.push(format!("`{name}` (in `-{} {name}`)", flag_letter(*level)));
            }
        }
        if !unknown.is_empty() {
            let noun = if unknown.len() == 1 { "rule" } else { "rules" };
            bail!(
                "unknown {noun} {}; valid names are {}",
                unknown.join(", "),
                valid_names().join(", ")
            );
        }
        match warnings {
            Some(Level::Deny) => {
                rules.deny_warnings();
                for entry in &mut tool_diagnostics {
                    if entry.1 == Level::Warn {
                        entry.1 = Level::Deny;
                    }
                }
            }
            Some(Level::Allow) => {
                for rule in RULES {
                    if rules.level(rule.meta.name) == Some(Level::Warn) {
                        rules.set_level(rule.meta.name, Level::Allow);
                    }
                }
                for entry in &mut tool_diagnostics {
                    if entry.1 == Level::Warn {
                        entry.1 = Level::Allow;
                    }
                }
            }
            Some(Level::Warn) | None => {}
        }
        Ok(Levels {
            rules,
            tool_diagnostics,
        })
    }

    /// Gives the tool's own diagnostics their configured level: the engine reports them as
    /// warnings, and only the cli knows what the user asked for.
    pub fn apply_to_tool_diagnostics(&self, findings: &mut Vec<Finding>) {
        let level_of = |finding: &Finding| {
            self.tool_diagnostics
                .iter()
                .find(|(name, _)| *name == finding.diagnostic.rule)
                .map(|(_, level)| *level)
        };
        findings.retain(|finding| level_of(finding) != Some(Level::Allow));
        for finding in findings.iter_mut() {
            if level_of(finding) == Some(Level::Deny) {
                finding.diagnostic.severity = Severity::Error;
            }
        }
    }
}

/// Every name `-A`, `-W`, `-D` and `--explain` accept, rules first.
pub fn valid_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = RULES.iter().map(|rule| rule.meta.name).collect();
    names.extend(TOOL_DIAGNOSTICS);
    names.push(WARNINGS);
    names
}

fn flag_letter(level: Level) -> char {
    match level {
        Level::Allow => 'A',
        Level::Warn => 'W',
        Level::Deny => 'D',
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deferlint_core::diagnostic::{Diagnostic, Label};
    use deferlint_core::source::Span;

    fn flags(list: &[(Level, &str)]) -> Vec<(Level, String)> {
        list.iter()
            .map(|(level, name)| (*level, name.to_string()))
            .collect()
    }

    fn warn_rule() -> &'static str {
        RULES
            .iter()
            .find(|rule| rule.meta.default_level() == Level::Warn)
            .expect("a rule warns by default")
            .meta
            .name
    }

    fn parse_error_finding() -> Vec<Finding> {
        let diagnostic = Diagnostic::new(
            "parse-error",
            Severity::Warning,
            "m",
            Label::new(Span::default(), ""),
        );
        vec![Finding {
            crate_index: 0,
            target_index: None,
            diagnostic,
        }]
    }

    #[test]
    fn later_flags_override_earlier_ones() {
        let rule = warn_rule();
        let levels =
            Levels::from_flags(&flags(&[(Level::Deny, rule), (Level::Allow, rule)])).unwrap();
        assert_eq!(levels.rules.level(rule), Some(Level::Allow));
        let levels = Levels::from_flags(&flags(&[
            (Level::Allow, rule),
            (Level::Deny, &format!("deferlint::{rule}")),
        ]))
        .unwrap();
        assert_eq!(levels.rules.level(rule), Some(Level::Deny));
    }

    #[test]
    fn deny_warnings_denies_warn_rules_and_tool_diagnostics() {
        let rule = warn_rule();
        let levels = Levels::from_flags(&flags(&[(Level::Deny, "warnings")])).unwrap();
        assert_eq!(levels.rules.level(rule), Some(Level::Deny));
        let mut findings = parse_error_finding();
        levels.apply_to_tool_diagnostics(&mut findings);
        assert_eq!(findings[0].diagnostic.severity, Severity::Error);
    }

    #[test]
    fn allow_parse_error_drops_it() {
        let levels = Levels::from_flags(&flags(&[(Level::Allow, "parse-error")])).unwrap();
        let mut findings = parse_error_finding();
        levels.apply_to_tool_diagnostics(&mut findings);
        assert!(findings.is_empty());
        let mut findings = parse_error_finding();
        Levels::from_flags(&[])
            .unwrap()
            .apply_to_tool_diagnostics(&mut findings);
        assert_eq!(findings[0].diagnostic.severity, Severity::Warning);
    }

    #[test]
    fn each_tool_diagnostic_has_its_own_level() {
        let mut findings = parse_error_finding();
        let mut unused = findings[0].clone();
        unused.diagnostic.rule = "unused-suppression";
        findings.push(unused);
        let levels = Levels::from_flags(&flags(&[
            (Level::Allow, "parse-error"),
            (Level::Deny, "unused-suppression"),
        ]))
        .unwrap();
        levels.apply_to_tool_diagnostics(&mut findings);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].diagnostic.rule, "unused-suppression");
        assert_eq!(findings[0].diagnostic.severity, Severity::Error);
    }

    #[test]
    fn unknown_names_are_all_reported_with_the_valid_ones() {
        let error = Levels::from_flags(&flags(&[(Level::Deny, "nope"), (Level::Allow, "nada")]))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(
                "unknown rules `nope` (in `-D nope`), `nada` (in `-A nada`); valid names are "
            ),
            "{error}"
        );
        for rule in RULES {
            assert!(error.contains(rule.meta.name), "{error}");
        }
        assert!(
            error.ends_with("parse-error, unused-suppression, warnings"),
            "{error}"
        );
    }
}
