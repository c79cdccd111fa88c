//! The call graph and the capture (alias) graph of a program.
