//! The whole pipeline: the first byte picks Rust or Go, the rest is one file, checked with every rule and rendered in every format.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| deferlint_fuzz::pipeline(data));
