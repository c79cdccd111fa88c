//! Rule levels from `-A`, `-W` and `-D`: rules, the tool's own diagnostics, and `warnings`.

use anyhow::{Result, bail};
use deferlint_core::diagnostic::{Level, Severity};
use deferlint_core::driver::Finding;
use deferlint_core::suppress::INVALID_SUPPRESSION;
use deferlint_rules::{RULES, RuleSet, TOOL_DIAGNOSTICS};

/// rustc's name for every warning at once (`-D warnings`).
const WARNINGS: &str = "warnings";

/// The tool diagnostic that `-D warnings` leaves a warning.
const PARSE_ERROR: &str = "parse-error";

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
            } else if bare == INVALID_SUPPRESSION {
                // Always an error: a malformed `deferlint:` comment is to be fixed.
                if *level != Level::Deny {
                    bail!(
                        "`{name}` cannot be lowered (in `-{} {name}`): a malformed `deferlint:` comment is always an error",
                        flag_letter(*level)
                    );
                }
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
                // `parse-error` says where deferlint's parser gave up, not that the code is
                // wrong (rustc may well accept it), so `-D warnings` gates on hazards only;
                // `-D parse-error` still fails the run on it.
                for entry in &mut tool_diagnostics {
                    if entry.1 == Level::Warn && entry.0 != PARSE_ERROR {
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

    /// The rule set that runs for several units with their own levels: each rule at the
    /// loudest level any unit gives it, so that it runs wherever one unit wants it; each
    /// unit's findings are then leveled by its own [`Levels::relevel`].
    pub fn union(all: &[Levels]) -> Option<RuleSet> {
        let (first, rest) = all.split_first()?;
        let mut union = first.rules.clone();
        for levels in rest {
            for rule in RULES {
                let name = rule.meta.name;
                let (Some(mine), Some(theirs)) = (union.level(name), levels.rules.level(name))
                else {
                    continue;
                };
                if theirs > mine {
                    union.set_level(name, theirs);
                }
            }
        }
        Some(union)
    }

    /// Gives a finding of one unit the severity these levels say, or drops it (returns
    /// false) when its rule is allowed here.
    pub fn relevel(&self, finding: &mut Finding) -> bool {
        let level = self
            .tool_diagnostics
            .iter()
            .find(|(name, _)| *name == finding.diagnostic.rule)
            .map(|(_, level)| *level)
            .or_else(|| self.rules.level(finding.diagnostic.rule));
        match level {
            Some(Level::Allow) => false,
            Some(Level::Warn) => {
                finding.diagnostic.severity = Severity::Warning;
                true
            }
            Some(Level::Deny) => {
                finding.diagnostic.severity = Severity::Error;
                true
            }
            None => true,
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
    fn deny_warnings_denies_warn_rules_and_tool_diagnostics_but_parse_errors() {
        let rule = warn_rule();
        let levels = Levels::from_flags(&flags(&[(Level::Deny, "warnings")])).unwrap();
        assert_eq!(levels.rules.level(rule), Some(Level::Deny));
        assert!(
            levels
                .tool_diagnostics
                .iter()
                .all(|(name, level)| (*level == Level::Deny) == (*name != PARSE_ERROR))
        );
        let mut findings = parse_error_finding();
        findings.retain_mut(|finding| levels.relevel(finding));
        assert_eq!(findings[0].diagnostic.severity, Severity::Warning);
        let named = Levels::from_flags(&flags(&[
            (Level::Deny, "warnings"),
            (Level::Deny, "parse-error"),
        ]))
        .unwrap();
        let mut findings = parse_error_finding();
        findings.retain_mut(|finding| named.relevel(finding));
        assert_eq!(findings[0].diagnostic.severity, Severity::Error);
    }

    #[test]
    fn allow_parse_error_drops_it() {
        let levels = Levels::from_flags(&flags(&[(Level::Allow, "parse-error")])).unwrap();
        let mut findings = parse_error_finding();
        findings.retain_mut(|finding| levels.relevel(finding));
        assert!(findings.is_empty());
        let mut findings = parse_error_finding();
        let default = Levels::from_flags(&[]).unwrap();
        findings.retain_mut(|finding| default.relevel(finding));
        assert_eq!(findings[0].diagnostic.severity, Severity::Warning);
    }

    #[test]
    fn the_union_runs_a_rule_any_unit_wants_and_each_unit_keeps_its_level() {
        let rule = warn_rule();
        let quiet = Levels::from_flags(&flags(&[(Level::Allow, rule)])).unwrap();
        let loud = Levels::from_flags(&flags(&[(Level::Deny, rule)])).unwrap();
        let union = Levels::union(&[quiet, loud]).unwrap();
        assert_eq!(union.level(rule), Some(Level::Deny));
        let quiet = Levels::from_flags(&flags(&[(Level::Allow, rule)])).unwrap();
        let mut finding = parse_error_finding().remove(0);
        finding.diagnostic.rule = rule;
        assert!(!quiet.relevel(&mut finding));
        assert!(Levels::union(&[]).is_none());
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
        findings.retain_mut(|finding| levels.relevel(finding));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].diagnostic.rule, "unused-suppression");
        assert_eq!(findings[0].diagnostic.severity, Severity::Error);
    }

    #[test]
    fn invalid_suppression_is_accepted_only_as_deny() {
        assert!(Levels::from_flags(&[(Level::Deny, "invalid-suppression".to_string())]).is_ok());
        let error =
            Levels::from_flags(&[(Level::Warn, "invalid-suppression".to_string())]).unwrap_err();
        assert!(error.to_string().contains("cannot be lowered"), "{error}");
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
            error.ends_with("parse-error, unused-suppression, unknown-rule, warnings"),
            "{error}"
        );
    }
}
