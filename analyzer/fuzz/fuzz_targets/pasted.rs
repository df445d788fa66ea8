#![no_main]
//! Target `pasted`: the body is shared with the stable test tests/fuzz_targets.rs.

#[path = "../../tests/common/targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::pasted(data));
