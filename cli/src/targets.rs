//! Cargo's target selection (`--lib`, `--bins`, `--bin NAME`, `--tests`, `--all-targets`, ...):
//! which targets of each Rust package have their findings reported, as `cargo check` picks the
//! targets it compiles. Without any of these flags every target is reported (test code only
//! with `--tests` or `--all-targets`); build scripts are always reported, since cargo always
//! compiles them. Go units have no targets and are not filtered.

use anyhow::{Result, bail};
use deferlint_core::driver::{CrateInput, Finding, TargetKind};
use deferlint_core::source::Language;
use globset::{Glob, GlobMatcher};

use crate::args::CompatArgs;

/// The targets the flags select.
#[derive(Debug, Default)]
pub struct TargetSelection {
    lib: bool,
    /// `--lib` itself, which cargo refuses when there is no library; `--tests` and the like
    /// take the library only when there is one.
    lib_asked: bool,
    bins: KindSelection,
    examples: KindSelection,
    tests: KindSelection,
    benches: KindSelection,
}

/// The targets of one kind: all of them, or those whose name matches one of the patterns.
#[derive(Debug, Default)]
struct KindSelection {
    all: bool,
    names: Vec<(String, GlobMatcher)>,
}

impl KindSelection {
    fn named(names: &[String]) -> Result<KindSelection> {
        let names = names
            .iter()
            .map(|name| {
                let matcher = Glob::new(name)
                    .map_err(|error| anyhow::anyhow!("`{name}` is not a valid pattern: {error}"))?
                    .compile_matcher();
                Ok((name.clone(), matcher))
            })
            .collect::<Result<_>>()?;
        Ok(KindSelection { all: false, names })
    }

    fn selects(&self, name: &str) -> bool {
        self.all || self.names.iter().any(|(_, matcher)| matcher.is_match(name))
    }
}

impl TargetSelection {
    /// The selection the flags make, or `None` when no target flag was given.
    pub fn from_flags(flags: &CompatArgs) -> Result<Option<TargetSelection>> {
        let any = flags.lib
            || flags.bins
            || flags.examples
            || flags.tests
            || flags.benches
            || flags.all_targets
            || !flags.bin.is_empty()
            || !flags.example.is_empty()
            || !flags.test.is_empty()
            || !flags.bench.is_empty();
        if !any {
            return Ok(None);
        }
        let mut selection = TargetSelection {
            lib: flags.lib,
            lib_asked: flags.lib,
            bins: KindSelection::named(&flags.bin)?,
            examples: KindSelection::named(&flags.example)?,
            tests: KindSelection::named(&flags.test)?,
            benches: KindSelection::named(&flags.bench)?,
        };
        selection.bins.all |= flags.bins;
        selection.examples.all |= flags.examples;
        // Cargo's `--tests` and `--benches` take the targets with `test = true` or
        // `bench = true`, which by default are the library and the binaries besides the tests
        // and benchmarks.
        if flags.tests {
            selection.lib = true;
            selection.bins.all = true;
            selection.tests.all = true;
        }
        if flags.benches {
            selection.lib = true;
            selection.bins.all = true;
            selection.benches.all = true;
        }
        if flags.all_targets {
            selection.lib = true;
            for kind in [
                &mut selection.bins,
                &mut selection.examples,
                &mut selection.tests,
                &mut selection.benches,
            ] {
                kind.all = true;
            }
        }
        Ok(Some(selection))
    }

    /// Whether a target of this kind and name is selected.
    pub fn selects(&self, kind: TargetKind, name: &str) -> bool {
        match kind {
            TargetKind::Lib => self.lib,
            TargetKind::Bin => self.bins.selects(name),
            TargetKind::Example => self.examples.selects(name),
            TargetKind::Test => self.tests.selects(name),
            TargetKind::Bench => self.benches.selects(name),
            TargetKind::BuildScript => true,
        }
    }

    /// Whether a finding belongs to a selected target. A finding in a Rust file that no
    /// target's module tree reaches is not reported, as cargo never compiles that file.
    pub fn keeps(&self, crates: &[CrateInput], finding: &Finding) -> bool {
        let unit = &crates[finding.crate_index];
        if unit.language != Language::Rust {
            return true;
        }
        finding
            .target_index
            .and_then(|index| unit.targets.get(index))
            .is_some_and(|target| self.selects(target.kind, &target.name))
    }

    /// Fails as cargo does when a named target, or the library asked for with `--lib`, is in
    /// none of the Rust packages checked.
    pub fn check_exists(&self, crates: &[CrateInput]) -> Result<()> {
        let targets = || {
            crates
                .iter()
                .filter(|unit| unit.language == Language::Rust)
                .flat_map(|unit| unit.targets.iter())
        };
        if self.lib_asked && !targets().any(|target| target.kind == TargetKind::Lib) {
            bail!("no library targets found in the packages checked");
        }
        for (kind, selection, flag) in [
            (TargetKind::Bin, &self.bins, "bin"),
            (TargetKind::Example, &self.examples, "example"),
            (TargetKind::Test, &self.tests, "test"),
            (TargetKind::Bench, &self.benches, "bench"),
        ] {
            for (name, matcher) in &selection.names {
                let found = targets().any(|target| {
                    target.kind == kind && (matcher.is_match(&target.name) || target.name == *name)
                });
                if !found {
                    let available: Vec<&str> = targets()
                        .filter(|target| target.kind == kind)
                        .map(|target| target.name.as_str())
                        .collect();
                    let available = if available.is_empty() {
                        format!("there is no {flag} target")
                    } else {
                        format!("available {flag} targets: {}", available.join(", "))
                    };
                    bail!("no {flag} target named `{name}` (`--{flag} {name}`); {available}");
                }
            }
        }
        Ok(())
    }
}
