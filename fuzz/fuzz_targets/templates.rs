#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mdm_fuzz::templates(data));
