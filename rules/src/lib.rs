//! deferlint's rules. Each rule is one file: its declaration and docs, the function that words
//! its diagnostic, its `check` function, then helpers. [`RULES`] is the registry.

use deferlint_core::analysis::Analyses;
use deferlint_core::diagnostic::{Diagnostic, Level, Severity};
use deferlint_core::driver::Checker;
use deferlint_core::model::Program;
use deferlint_core::source::Language;

mod async_lock_in_defer;
mod contended_map_write_in_defer;
mod declare;
mod exit_skips_deferred_cleanup;
mod go_wording;
mod lock_reentered_in_defer;
mod nil_map_write;
mod poisoned_lock_unwrap_in_defer;
mod reentry;
mod refcell_map_borrow_in_defer;
mod rlock_map_write;
mod sharded_map_ref_held_at_defer;
mod shared_map_write;
mod tls_map_access_in_defer;
mod unsync_map_write_in_defer;
mod wording;

/// What a rule is about, which sets its default level (as clippy's categories do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// Code that is wrong: deny by default.
    Correctness,
    /// Code that is very likely wrong: warn by default.
    Suspicious,
    /// Code that works but could be better: allow by default.
    Pedantic,
}

impl Category {
    pub fn default_level(self) -> Level {
        match self {
            Category::Correctness => Level::Deny,
            Category::Suspicious => Level::Warn,
            Category::Pedantic => Level::Allow,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Correctness => "correctness",
            Category::Suspicious => "suspicious",
            Category::Pedantic => "pedantic",
        }
    }
}

/// A rule's metadata and documentation.
#[derive(Debug)]
pub struct RuleMeta {
    /// Kebab-case, names the bad pattern.
    pub name: &'static str,
    pub category: Category,
    pub languages: &'static [Language],
    /// One line, lowercase, no trailing period.
    pub summary: &'static str,
    /// Markdown with the sections What it does, Why is this bad?, Example, Use instead and
    /// Known limitations.
    pub docs: &'static str,
}

impl RuleMeta {
    pub fn default_level(&self) -> Level {
        self.category.default_level()
    }

    /// The docs as Markdown, without the space each `///` line starts with.
    pub fn documentation(&self) -> String {
        self.docs
            .lines()
            .map(|line| format!("{}\n", line.strip_prefix(' ').unwrap_or(line)))
            .collect()
    }
}

/// Everything a rule reads.
pub struct Context<'a> {
    pub program: &'a Program,
    pub analyses: &'a Analyses,
    /// The severity this run reports the rule with.
    pub severity: Severity,
    /// Report findings in test code too.
    pub include_tests: bool,
}

/// Deferred code is followed this many calls deep from a `Drop` body or a defer body: the
/// longer a chain of calls, the likelier the analysis, which does not know which branch runs,
/// reports a path that never happens.
pub const MAX_DEFERRED_DEPTH: u32 = 3;

impl Context<'_> {
    /// An object kept in a `thread_local!`: each thread has its own, so it is never shared
    /// between threads, whatever the abstract object stands for.
    pub fn is_thread_local_object(&self, class: deferlint_core::graph::alias::ClassId) -> bool {
        self.analyses.aliases.statics_of(class).iter().any(|&id| {
            self.program.static_item(id).kind
                == deferlint_core::model::facts::StaticKind::ThreadLocal
        })
    }

    /// The function's own code calls a path ending in `name` (`thread::panicking()`,
    /// `Handle::try_current()`).
    pub fn calls_path_named(
        &self,
        function: deferlint_core::model::modules::FunctionId,
        name: &str,
    ) -> bool {
        self.program.own_calls(function).any(|(_, call)| {
            matches!(&call.callee, deferlint_core::model::facts::Callee::Path(path) if path.last() == name)
        })
    }

    /// Where deferred code runs: the function that registers a defer, or the functions where a
    /// value of the `Drop` type dies (drops that run it: scope ends, `drop(x)`, overwrites,
    /// maps dropping values).
    pub fn running_places(
        &self,
        root: deferlint_core::analysis::deferred::DeferredRoot,
    ) -> Vec<deferlint_core::model::modules::FunctionId> {
        use deferlint_core::analysis::deferred::DeferredRoot;
        use deferlint_core::graph::calls::EdgeKind;
        let calls = &self.analyses.calls;
        match root {
            DeferredRoot::Guard(site, _) => vec![calls.defer_sites[site.0 as usize].registrant],
            DeferredRoot::Drop(_, drop_fn) => {
                // Where values are seen to die; where they are only held, when no death is
                // seen (a value moved into code the walk does not follow).
                let seen = self.analyses.lock_state.drop_places(drop_fn);
                if !seen.is_empty() {
                    return seen.to_vec();
                }
                calls
                    .edges_to(drop_fn)
                    .filter(|(_, kind)| matches!(kind, EdgeKind::ImplicitDrop))
                    .map(|(function, _)| function)
                    .collect()
            }
        }
    }

    /// Whether findings in this function are reported in this run.
    pub fn reports_in(&self, function: deferlint_core::model::modules::FunctionId) -> bool {
        self.include_tests || !self.program.is_test_code(function)
    }

    /// How a function runs as deferred code within [`MAX_DEFERRED_DEPTH`] calls of a root whose
    /// code is reported in this run, shallowest first.
    pub fn deferred_reach(
        &self,
        function: deferlint_core::model::modules::FunctionId,
    ) -> Option<deferlint_core::analysis::deferred::Reach> {
        self.analyses
            .deferred
            .reaches(function)
            .iter()
            .copied()
            .find(|reach| {
                reach.depth <= MAX_DEFERRED_DEPTH && self.reports_in(reach.root.function())
            })
    }
}

/// A registered rule.
pub struct Rule {
    pub meta: &'static RuleMeta,
    pub check: fn(&Context<'_>) -> Vec<Diagnostic>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Rule")
            .field("name", &self.meta.name)
            .finish()
    }
}

/// The registry, sorted by name (a test keeps it so).
pub static RULES: &[Rule] = &[
    Rule {
        meta: &async_lock_in_defer::ASYNC_LOCK_IN_DEFER,
        check: async_lock_in_defer::check,
    },
    Rule {
        meta: &contended_map_write_in_defer::CONTENDED_MAP_WRITE_IN_DEFER,
        check: contended_map_write_in_defer::check,
    },
    Rule {
        meta: &exit_skips_deferred_cleanup::EXIT_SKIPS_DEFERRED_CLEANUP,
        check: exit_skips_deferred_cleanup::check,
    },
    Rule {
        meta: &lock_reentered_in_defer::LOCK_REENTERED_IN_DEFER,
        check: lock_reentered_in_defer::check,
    },
    Rule {
        meta: &nil_map_write::NIL_MAP_WRITE,
        check: nil_map_write::check,
    },
    Rule {
        meta: &poisoned_lock_unwrap_in_defer::POISONED_LOCK_UNWRAP_IN_DEFER,
        check: poisoned_lock_unwrap_in_defer::check,
    },
    Rule {
        meta: &refcell_map_borrow_in_defer::REFCELL_MAP_BORROW_IN_DEFER,
        check: refcell_map_borrow_in_defer::check,
    },
    Rule {
        meta: &rlock_map_write::RLOCK_MAP_WRITE,
        check: rlock_map_write::check,
    },
    Rule {
        meta: &sharded_map_ref_held_at_defer::SHARDED_MAP_REF_HELD_AT_DEFER,
        check: sharded_map_ref_held_at_defer::check,
    },
    Rule {
        meta: &shared_map_write::SHARED_MAP_WRITE,
        check: shared_map_write::check,
    },
    Rule {
        meta: &tls_map_access_in_defer::TLS_MAP_ACCESS_IN_DEFER,
        check: tls_map_access_in_defer::check,
    },
    Rule {
        meta: &unsync_map_write_in_defer::UNSYNC_MAP_WRITE_IN_DEFER,
        check: unsync_map_write_in_defer::check,
    },
];

/// Looks a rule up by name.
pub fn find_rule(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.meta.name == name)
}

/// Names of diagnostics the tool itself emits, which are not rules but can be named in
/// configuration.
pub const TOOL_DIAGNOSTICS: &[&str] = &[
    "parse-error",
    deferlint_core::suppress::UNUSED_SUPPRESSION,
    deferlint_core::suppress::UNKNOWN_RULE,
];

/// Runs the enabled rules at their configured levels.
#[derive(Clone, Debug)]
pub struct RuleSet {
    levels: Vec<(&'static Rule, Level)>,
    include_tests: bool,
}

impl Default for RuleSet {
    fn default() -> RuleSet {
        RuleSet {
            levels: RULES
                .iter()
                .map(|rule| (rule, rule.meta.default_level()))
                .collect(),
            include_tests: false,
        }
    }
}

impl RuleSet {
    /// Every rule enabled: allowed-by-default (pedantic) rules at warn, the others at their
    /// default level. Fixture tests run this way.
    pub fn every_rule() -> RuleSet {
        RuleSet {
            levels: RULES
                .iter()
                .map(|rule| (rule, rule.meta.default_level().max(Level::Warn)))
                .collect(),
            include_tests: true,
        }
    }

    /// Sets a rule's level; returns false when no rule has that name.
    pub fn set_level(&mut self, name: &str, level: Level) -> bool {
        match self
            .levels
            .iter_mut()
            .find(|(rule, _)| rule.meta.name == name)
        {
            Some(entry) => {
                entry.1 = level;
                true
            }
            None => false,
        }
    }

    /// Reports findings in test code too (`--tests`, `--all-targets`).
    pub fn include_tests(&mut self, include: bool) {
        self.include_tests = include;
    }

    /// Sets every rule at warn level to deny (`-D warnings`).
    pub fn deny_warnings(&mut self) {
        for entry in &mut self.levels {
            if entry.1 == Level::Warn {
                entry.1 = Level::Deny;
            }
        }
    }

    /// Every rule's level and whether tests are checked, as text: what `--cache-dir` keys
    /// entries by, so that another rule set never reads them.
    pub fn describe(&self) -> String {
        let mut text = format!("tests={}", self.include_tests);
        for (rule, level) in &self.levels {
            text.push_str(&format!(" {}={}", rule.meta.name, level.as_str()));
        }
        text
    }

    pub fn level(&self, name: &str) -> Option<Level> {
        self.levels
            .iter()
            .find(|(rule, _)| rule.meta.name == name)
            .map(|(_, level)| *level)
    }
}

impl Checker for RuleSet {
    fn checks_tests(&self, _language: Language) -> bool {
        self.include_tests
    }

    fn rule_names(&self) -> Vec<&'static str> {
        RULES.iter().map(|rule| rule.meta.name).collect()
    }

    fn rule_runs(&self, name: &str, language: Language) -> bool {
        self.levels.iter().any(|(rule, level)| {
            rule.meta.name == name
                && *level != Level::Allow
                && rule.meta.languages.contains(&language)
        })
    }

    fn check(&self, program: &Program, analyses: &Analyses) -> Vec<Diagnostic> {
        let mut diagnostics = Vec::new();
        for (rule, level) in &self.levels {
            let severity = match level {
                Level::Allow => continue,
                Level::Warn => Severity::Warning,
                Level::Deny => Severity::Error,
            };
            if !rule.meta.languages.contains(&program.language) {
                continue;
            }
            let context = Context {
                program,
                analyses,
                severity,
                include_tests: self.include_tests,
            };
            diagnostics.extend((rule.check)(&context));
        }
        diagnostics
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documentation_loses_the_space_after_the_doc_comment_marker() {
        let meta = RuleMeta {
            name: "example",
            category: Category::Pedantic,
            languages: &[],
            summary: "an example",
            docs: " ### What it does\n Finds.\n\n  indented\n",
        };
        assert_eq!(
            meta.documentation(),
            "### What it does\nFinds.\n\n indented\n"
        );
    }
}
