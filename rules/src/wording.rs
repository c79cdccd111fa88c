//! Wording shared by several rules.
