//! Proves that every fixture does, when it runs, what its `//@ run:` header claims: a bad
//! fixture's hazard is real (the program hangs, aborts or detects its own data race) and a good
//! fixture's program runs to a clean exit. It also keeps the fixture headers well-formed, and
//! checks that every marker names a registered rule.
//!
//! The machinery is `deferlint_testkit::proofs::rust`, which proves the metamorphic variants
//! the same way: all fixtures are built at once as the binaries of a throwaway cargo project
//! (one package per edition) under `CARGO_TARGET_TMPDIR`, then run a few at a time with a
//! timeout.

use std::path::Path;

use deferlint_testkit::fixture as support;
use deferlint_testkit::proofs::rust::{self as proofs, Program, Project};

#[test]
fn every_fixture_does_what_its_run_header_claims() {
    let paths = support::fixture_paths(&["rs"]);
    let mut header_errors = Vec::new();
    let mut programs: Vec<Program> = Vec::new();
    for path in paths {
        let text = support::read_fixture(&path);
        for marker in &text.markers {
            if deferlint_rules::find_rule(&marker.rule).is_none() {
                header_errors.push(format!(
                    "{}:{}: marker `//~ {}` does not name a registered rule",
                    text.display_path, marker.target, marker.rule
                ));
            }
        }
        let bin_name = proofs::bin_name_for(&text.display_path);
        match proofs::read_program(bin_name, std::slice::from_ref(&text)) {
            Ok(program) => programs.push(program),
            Err(errors) => header_errors.extend(errors),
        }
    }
    assert!(
        header_errors.is_empty(),
        "malformed fixture headers:\n{}",
        header_errors.join("\n")
    );

    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let project = Project {
        dir: tmp.join("hazard-proofs"),
        target_dir: tmp.join("hazard-proofs-target"),
        package_prefix: "fixtures".to_owned(),
        // Fixtures are read by people: keep them warning-free (allow a lint in the file).
        lints: "warnings = \"deny\"".to_owned(),
    };
    let build = project
        .build(&programs)
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(
        build.failed.is_empty(),
        "{} fixtures did not compile (warnings are errors here):\n{}",
        build.failed.len(),
        build.failures()
    );
    let all: Vec<&Program> = programs.iter().collect();
    let broken = project.run_all(&all, &build.bin_dir, &tmp.join("hazard-proofs-logs"));
    assert!(
        broken.is_empty(),
        "{} of {} fixtures did not do what their `//@ run:` header claims:\n\n{}",
        broken.len(),
        programs.len(),
        broken.join("\n\n")
    );
}
