//! WebAssembly bindings of usvideo-core (being written; see issue 6).
