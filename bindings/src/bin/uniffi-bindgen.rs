//! The `uniffi-bindgen` of this workspace, pinned to the same uniffi as the library (so the
//! generated Kotlin and Swift always match the scaffolding's contract version and checksums).

fn main() {
    uniffi::uniffi_bindgen_main()
}
