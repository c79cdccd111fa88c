//! Rust rewrites (to be written): syn finds the places, text edits keep everything else as it
//! was written (comments and markers included).
