#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| usvideo_fuzz::checks::run("rate_line", data));
