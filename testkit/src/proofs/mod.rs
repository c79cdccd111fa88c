//! The programs that prove each hazard: build a fixture (or a variant of one), run it, and
//! check that it does what its `//@ run:` header claims.

pub mod go;
