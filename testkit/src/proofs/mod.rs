//! The programs that prove each hazard: a fixture, or a metamorphic variant of one, is built
//! and run, and what it did is checked against its `//@ run:` claim. One code path proves both,
//! so that a variant is held to exactly what its fixture is held to.

pub mod go;
pub mod rust;
