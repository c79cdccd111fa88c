//! The Go frontend: bytes that are UTF-8 are parsed and lowered; nothing may panic or overflow the stack.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| deferlint_fuzz::go_frontend(data));
