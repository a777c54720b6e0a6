//! Any text through the whole spec pipeline: it must never panic, hang or blow up memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ekspec::spec::parse_str("fuzz.yaml", text);
    }
});
