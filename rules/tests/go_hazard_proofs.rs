//! Proves that every Go fixture does, when it runs, what its `//@ run:` header claims: a bad
//! fixture's hazard is real (the race detector reports the marked write, the runtime panics on
//! the nil map or reports the deadlock, `os.Exit` skips the deferred cleanup) and a good
//! fixture's program runs to a clean exit without a race report. It also keeps the headers of
//! the Go fixtures well-formed: markers and folders name registered Go rules.
//!
//! The building and running is `deferlint_testkit::proofs::go`, which proves the metamorphic
//! variants of the fixtures too; its binaries live under `CARGO_TARGET_TMPDIR`.
//!
//! Without a `go` toolchain the test says so on stderr and passes, unless `CI` is set: there
//! a missing toolchain fails it.

use std::env;
use std::io::Write as _;
use std::path::Path;

use deferlint_testkit::fixture as support;
use deferlint_testkit::proofs::go::{self as proofs, ProofSettings};

/// A registered rule that applies to Go code, which Go fixture markers may name.
fn is_go_rule(name: &str) -> bool {
    deferlint_rules::find_rule(name).is_some_and(|rule| {
        rule.meta
            .languages
            .contains(&deferlint_core::source::Language::Go)
    })
}

#[test]
fn every_go_fixture_does_what_its_run_header_claims() {
    let paths = support::fixture_paths(&["go"]);
    let mut header_errors = Vec::new();
    let mut programs = Vec::new();
    for path in paths {
        match proofs::parse_go_fixture(&path, &is_go_rule) {
            Ok(program) => programs.push(program),
            Err(errors) => header_errors.extend(errors),
        }
    }
    assert!(
        header_errors.is_empty(),
        "malformed Go fixture headers:\n{}",
        header_errors.join("\n")
    );

    let Some(go) = proofs::find_go() else {
        assert!(
            env::var_os("CI").is_none(),
            "go not found (not on PATH, nor /usr/lib/go/bin/go, nor /usr/local/go/bin/go), \
             and `CI` is set: the Go hazard proofs must run in CI"
        );
        // Straight to the process's stderr: the test harness captures `eprintln!` of a
        // passing test, and this message must be seen.
        let _ = writeln!(
            std::io::stderr().lock(),
            "\n\
             ************************************************************\n\
             go not found: the Go hazard proofs were NOT run\n\
             ({} Go fixtures unchecked; install Go, or set CI to fail)\n\
             ************************************************************\n",
            programs.len()
        );
        return;
    };

    let settings = ProofSettings {
        work_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-hazard-proofs"),
        remove_stale: true,
    };
    let broken = proofs::prove_all(&go, &settings, &programs);
    assert!(
        broken.is_empty(),
        "{} of {} Go fixtures did not build or did not do what their `//@ run:` header \
         claims:\n\n{}",
        broken.len(),
        programs.len(),
        broken.join("\n\n")
    );
}
