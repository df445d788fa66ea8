#![no_main]
//! See collector/src/redact/fuzz.rs for what this checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| collector::redact::fuzz::text(data));
