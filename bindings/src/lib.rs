//! uniffi bindings of usvideo-core (being written; see issue 7).
