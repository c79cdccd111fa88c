//! Metamorphic variants of the fixtures: each rewrite turns a fixture into another program
//! with the same meaning (a loop around it, a helper, a method, an interface, an alias, another
//! module or package, every identifier renamed), so that the verdict of the analyser must not
//! change. A rewrite that cannot apply to a fixture says why and is counted as not applicable;
//! a rewrite that changes the program's meaning is a bug in the rewriter, which the variant
//! proofs (the rewritten programs built and run) are there to catch.
//!
//! Every rewrite keeps the fixture's `//@` headers at the top of the main file and keeps each
//! `//~` marker on the line of the code it marks, wherever that code moves (markers written
//! `//~^` are put on their target line first), so that a variant is read like a fixture.

pub mod go;
pub mod rust;

/// One file of a variant, by its path relative to the variant's folder (`main.rs`,
/// `helpers.rs`, `go.mod`, `main.go`, `store/store.go`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantFile {
    pub path: String,
    pub text: String,
}

/// What one rewrite made of one fixture.
#[derive(Clone, Debug)]
pub enum Rewritten {
    /// The rewritten program: its files, the main file (the crate root or the `main` package's
    /// file) first.
    Variant(Vec<VariantFile>),
    /// The rewrite has nothing to apply to in this fixture, or cannot apply to it without
    /// changing its meaning: why.
    NotApplicable(String),
}

/// Every rewrite of one fixture, in the order of the rewriter's list.
#[derive(Clone, Debug)]
pub struct FixtureVariants {
    /// The fixture's path.
    pub fixture: std::path::PathBuf,
    /// `(rewrite name, what it made)`.
    pub variants: Vec<(&'static str, Rewritten)>,
}
