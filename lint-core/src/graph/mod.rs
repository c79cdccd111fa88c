//! The call graph and the capture (alias) graph of a program.

pub mod alias;
pub mod calls;
pub mod points_to;
