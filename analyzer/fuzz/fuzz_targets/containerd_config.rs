#![no_main]
//! Target `containerd_config`: the body is shared with the stable test tests/fuzz_targets.rs.

#[path = "../../tests/common/targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::containerd_config(data));
