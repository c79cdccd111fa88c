//! The `deferlint` and `cargo-deferlint` binaries.

fn main() {}
