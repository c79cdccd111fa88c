//! Rust files of a package that no target reaches through `mod` declarations (a parser's test
//! data, a script named `.rs`) are not compiled by cargo: their syntax errors are not reported,
//! while a module of a target that does not parse is. Loose files, outside any package, are
//! their own roots: their syntax errors are reported.

mod support;

use support::{TempTree, cargo_deferlint, deferlint};

fn package() -> TempTree {
    TempTree::new(&[
        (
            "Cargo.toml",
            b"[package]\nname = \"probe\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        (
            "src/main.rs",
            b"mod real;\n\nfn main() {\n    real::run();\n}\n",
        ),
        ("src/real.rs", b"pub fn run() {}\n\nfn broken( {\n"),
        ("test_data/parser/err/missing_paren.rs", b"fn nope( {\n"),
        ("tests/it.rs", b"#[test]\nfn works() {}\n"),
    ])
}

#[test]
fn syntax_errors_of_files_no_target_compiles_are_not_reported() {
    let tree = package();
    for run in [
        deferlint(tree.root(), &["."]),
        cargo_deferlint(tree.root(), &[]),
    ] {
        assert!(run.stderr.contains("parse-error"), "{run:#?}");
        assert!(run.stderr.contains("real.rs"), "{run:#?}");
        assert!(!run.stderr.contains("missing_paren.rs"), "{run:#?}");
    }
}

#[test]
fn syntax_errors_of_loose_files_are_reported() {
    let tree = TempTree::new(&[
        ("scripts/ok.rs", b"fn main() {}\n"),
        ("scripts/missing_paren.rs", b"fn nope( {\n"),
    ]);
    let run = deferlint(tree.root(), &["."]);
    assert!(run.stderr.contains("missing_paren.rs"), "{run:#?}");
}
