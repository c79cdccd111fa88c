//! Proves that the metamorphic variants of the Go fixtures keep their fixture's meaning: each
//! variant is built and run like a fixture and must do what the fixture's `//@ run:` header
//! claims (a good fixture's variant runs clean, a bad fixture's variant shows the hazard on a
//! line it marks). A variant that does not is a bug of the rewriter (`testkit/go-rewriter/`).
//!
//! `cargo test` proves a sample, so that the time stays bounded: for every rewrite and rule
//! folder, one variant of a bad fixture and one of a good fixture, when there are any, chosen
//! by a fixed hash of the rewrite and the fixture's path. With `DEFERLINT_PROVE_ALL_VARIANTS=1`
//! it proves every variant.
//!
//! Without a `go` toolchain the tests say so on stderr and pass, unless `CI` is set: there a
//! missing toolchain fails them.

use std::collections::BTreeMap;
use std::env;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use deferlint_testkit::fixture::{self as support, FixtureText};
use deferlint_testkit::metamorph::go::{GO_REWRITES, GoRewriter};
use deferlint_testkit::metamorph::{FixtureVariants, Rewritten, VariantFile};
use deferlint_testkit::proofs::go::{self as proofs, GoProgram, GoSource, ProofSettings};

/// Set to `1` to prove every variant instead of a sample.
const PROVE_ALL: &str = "DEFERLINT_PROVE_ALL_VARIANTS";

/// A fixture, as the proofs read it, with its variants.
struct FixtureEntry {
    fixture: GoProgram,
    text: FixtureText,
    variants: FixtureVariants,
}

/// The rewriter, built once for all tests of this file; `None` without `go` (after the
/// message, or the failure under `CI`).
fn rewriter() -> Option<&'static GoRewriter> {
    static REWRITER: OnceLock<Option<GoRewriter>> = OnceLock::new();
    REWRITER
        .get_or_init(|| {
            let Some(go) = proofs::find_go() else {
                assert!(
                    env::var_os("CI").is_none(),
                    "go not found (not on PATH, nor /usr/lib/go/bin/go, nor \
                     /usr/local/go/bin/go), and `CI` is set: the Go variant proofs must run in CI"
                );
                // Straight to the process's stderr: the test harness captures `eprintln!`
                // of a passing test, and this message must be seen.
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "\n\
                     ************************************************************\n\
                     go not found: the Go variant proofs were NOT run\n\
                     (the Go fixtures were not rewritten; install Go, or set CI to fail)\n\
                     ************************************************************\n"
                );
                return None;
            };
            let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-rewriter");
            Some(GoRewriter::build_with(&go, &cache).unwrap_or_else(|error| panic!("{error}")))
        })
        .as_ref()
}

/// The fixtures and their variants, made once for all tests of this file; `None` without
/// `go`.
fn rewritten() -> Option<&'static [FixtureEntry]> {
    static REWRITTEN: OnceLock<Option<Vec<FixtureEntry>>> = OnceLock::new();
    REWRITTEN
        .get_or_init(|| {
            let rewriter = rewriter()?;
            let paths = support::fixture_paths(&["go"]);
            let all = rewriter
                .rewrite(&paths)
                .unwrap_or_else(|error| panic!("{error}"));
            Some(
                all.into_iter()
                    .map(|variants| {
                        // The fixture proofs check the fixtures' headers and markers; here
                        // any rule name will do.
                        let fixture = proofs::parse_go_fixture(&variants.fixture, &|_| true)
                            .unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
                        FixtureEntry {
                            fixture,
                            text: support::read_fixture(&variants.fixture),
                            variants,
                        }
                    })
                    .collect(),
            )
        })
        .as_deref()
}

/// One variant to prove, and whether its fixture is bad (has markers).
struct Candidate {
    program: GoProgram,
    rewrite: &'static str,
    bad: bool,
}

/// The headers of a text, as `(key, value)` pairs.
fn headers(text: &FixtureText) -> Vec<(String, Option<String>)> {
    text.headers
        .iter()
        .map(|header| (header.key.clone(), header.value.clone()))
        .collect()
}

/// The rules that the markers of one or more texts name, with how often.
fn marker_rules<'a>(texts: impl Iterator<Item = &'a FixtureText>) -> BTreeMap<String, usize> {
    let mut rules = BTreeMap::new();
    for text in texts {
        for marker in &text.markers {
            *rules.entry(marker.rule.clone()).or_insert(0) += 1;
        }
    }
    rules
}

/// Reads a variant like a fixture: its main file keeps the fixture's headers, its files
/// together carry the fixture's markers, and the marked lines become the lines a report must
/// name. Returns the program to prove, or what the variant lost.
fn variant_program(
    entry: &FixtureEntry,
    rewrite: &str,
    files: &[VariantFile],
) -> Result<GoProgram, String> {
    let display = format!("{} [{rewrite}]", entry.fixture.display);
    if files.first().map(|file| file.path.as_str()) != Some("main.go") {
        return Err(format!("{display}: the first file is not main.go"));
    }
    let texts: Vec<(&VariantFile, FixtureText)> = files
        .iter()
        .filter(|file| file.path.ends_with(".go"))
        .map(|file| {
            let text = support::parse_fixture_text(
                Path::new(&file.path),
                format!("{display} {}", file.path),
                entry.fixture.rule_folder.clone(),
                file.text.clone(),
            );
            (file, text)
        })
        .collect();
    let main = &texts[0].1;
    if headers(main) != headers(&entry.text) {
        return Err(format!(
            "{display}: main.go has the headers {:?}, the fixture {:?}",
            headers(main),
            headers(&entry.text)
        ));
    }
    let variant_rules = marker_rules(texts.iter().map(|(_, text)| text));
    let fixture_rules = marker_rules(std::iter::once(&entry.text));
    if variant_rules != fixture_rules {
        return Err(format!(
            "{display}: the variant's markers name {variant_rules:?}, the fixture's {fixture_rules:?}"
        ));
    }
    Ok(GoProgram {
        display,
        rule_folder: entry.fixture.rule_folder.clone(),
        run: entry.fixture.run,
        min_go: entry.fixture.min_go,
        source: GoSource::Files(files.to_vec()),
        marked: texts
            .iter()
            .map(|(file, text)| {
                (
                    PathBuf::from(&file.path),
                    text.markers.iter().map(|marker| marker.target).collect(),
                )
            })
            .collect(),
    })
}

/// FNV-1a: a hash that stays the same across Rust versions, for a sample that does too.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn go_variants_do_what_their_fixtures_run_headers_claim() {
    let Some(rewritten) = rewritten() else {
        return;
    };
    let mut lost = Vec::new();
    let mut candidates = Vec::new();
    for entry in rewritten {
        for (rewrite, made) in &entry.variants.variants {
            let Rewritten::Variant(files) = made else {
                continue;
            };
            match variant_program(entry, rewrite, files) {
                Ok(program) => candidates.push(Candidate {
                    program,
                    rewrite,
                    bad: !entry.text.markers.is_empty(),
                }),
                Err(message) => lost.push(message),
            }
        }
    }
    assert!(
        lost.is_empty(),
        "{} Go variants lost their fixture's headers or markers:\n{}",
        lost.len(),
        lost.join("\n")
    );

    let prove_all = env::var(PROVE_ALL).is_ok_and(|value| value == "1");
    let total = candidates.len();
    let programs: Vec<GoProgram> = if prove_all {
        candidates
            .into_iter()
            .map(|candidate| candidate.program)
            .collect()
    } else {
        let mut sample: BTreeMap<(&str, String, bool), (u64, GoProgram)> = BTreeMap::new();
        for candidate in candidates {
            let key = (
                candidate.rewrite,
                candidate.program.rule_folder.clone(),
                candidate.bad,
            );
            let hash = stable_hash(&candidate.program.display);
            if sample.get(&key).is_none_or(|(best, _)| hash < *best) {
                sample.insert(key, (hash, candidate.program));
            }
        }
        sample.into_values().map(|(_, program)| program).collect()
    };
    let settings = ProofSettings {
        work_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join(if prove_all {
            "go-variant-proofs-all"
        } else {
            "go-variant-proofs-sample"
        }),
        remove_stale: true,
    };
    let go = proofs::find_go().unwrap();
    let broken = proofs::prove_all(&go, &settings, &programs);
    assert!(
        broken.is_empty(),
        "{} of {} Go variants proved ({} made; {PROVE_ALL}={}) did not build or did not do \
         what their fixture's `//@ run:` header claims:\n\n{}",
        broken.len(),
        programs.len(),
        total,
        u8::from(prove_all),
        broken.join("\n\n")
    );
}

#[test]
fn every_go_rewrite_applies_to_some_good_and_some_bad_fixture() {
    let Some(rewritten) = rewritten() else {
        return;
    };
    let mut applied: BTreeMap<&str, (usize, usize)> =
        GO_REWRITES.iter().map(|name| (*name, (0, 0))).collect();
    for entry in rewritten {
        for (rewrite, made) in &entry.variants.variants {
            if let Rewritten::NotApplicable(reason) = made {
                assert!(
                    !reason.trim().is_empty(),
                    "{} [{rewrite}]: not applicable without a reason",
                    entry.fixture.display
                );
                continue;
            }
            let counts = applied.get_mut(rewrite).unwrap();
            if entry.text.markers.is_empty() {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
        }
    }
    let never: Vec<String> = applied
        .iter()
        .filter(|(_, (good, bad))| *good == 0 || *bad == 0)
        .map(|(name, (good, bad))| format!("{name}: {good} good, {bad} bad"))
        .collect();
    assert!(
        never.is_empty(),
        "Go rewrites that apply to no good or no bad fixture:\n{}",
        never.join("\n")
    );
}

/// A program whose markers are written `//~^` (no Go fixture has one yet): the rewriter puts
/// each on its target line, and every variant keeps it on the line of the map write it marks,
/// wherever the write moves.
const CARET_MARKED: &str = "//@ run: race
package main

import \"sync\"

func main() {
\tcounts := map[int]int{}
\tvar wg sync.WaitGroup
\tfor i := 0; i < 2; i++ {
\t\twg.Add(1)
\t\tgo func(k int) {
\t\t\tdefer wg.Done()
\t\t\tcounts[k] = k
\t\t\t//~^ shared-map-write
\t\t\tdefer func() { counts[k+1] = k }()
\t\t\t// A comment between the marked line and its marker.
\t\t\t//~^^ unsync-map-write-in-defer
\t\t}(i)
\t}
\twg.Wait()
}
";

#[test]
fn caret_markers_follow_their_code_into_every_variant() {
    let Some(rewriter) = rewriter() else {
        return;
    };
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-caret-markers");
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join("caret_marked.go");
    std::fs::write(&path, CARET_MARKED).unwrap();
    let rewritten = rewriter
        .rewrite(std::slice::from_ref(&path))
        .unwrap_or_else(|error| panic!("{error}"));
    let mut made = 0;
    let mut wrong = Vec::new();
    for (rewrite, result) in &rewritten[0].variants {
        let Rewritten::Variant(files) = result else {
            continue;
        };
        made += 1;
        let mut found = Vec::new();
        for file in files.iter().filter(|file| file.path.ends_with(".go")) {
            for (index, line) in file.text.lines().enumerate() {
                if let Some((code, marker)) = line.split_once("//~") {
                    found.push((marker.trim().to_owned(), code.trim().to_owned()));
                } else if line.contains("//~") {
                    wrong.push(format!("[{rewrite}] {}:{}: {line}", file.path, index + 1));
                }
            }
        }
        found.sort();
        // The marked writes, whatever the rewrite made of their names: a map index
        // assigned, first in a deferred literal or a moved body.
        let kept = found.len() == 2
            && found[0].0 == "shared-map-write"
            && found[0].1.contains("] = ")
            && !found[0].1.contains("defer")
            && found[1].0 == "unsync-map-write-in-defer"
            && found[1].1.contains("+1] = ");
        if !kept {
            wrong.push(format!("[{rewrite}] markers on {found:?}"));
        }
    }
    assert!(made > 10, "only {made} rewrites apply to the program");
    assert!(
        wrong.is_empty(),
        "markers that left their code:\n{}",
        wrong.join("\n")
    );
}
