//! `RESPONSE_HEADERS_READ` must name every response header the core looks at: drivers copy only
//! those (the Rust client does), so a header read elsewhere would silently never be seen. This
//! reads the core's source for `header("…")` look-ups on responses and checks each name is listed.

use std::fs;
use usvideo_core::http::RESPONSE_HEADERS_READ;

#[test]
fn every_response_header_the_core_reads_is_listed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut seen = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        // Only the library code: a file's tests may read request headers (`authorization`).
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (i, _) in code.match_indices(".header(\"") {
            let rest = &code[i + ".header(\"".len()..];
            let name = &rest[..rest.find('"').unwrap()];
            seen.push(name.to_owned());
            assert!(RESPONSE_HEADERS_READ.contains(&name), "{} reads the response header `{name}`, which RESPONSE_HEADERS_READ does not list", path.display());
        }
    }
    assert!(seen.len() >= 3, "the scan found too few look-ups: {seen:?}");
}
