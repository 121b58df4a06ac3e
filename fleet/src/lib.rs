//! Fleet simulation (being written; see issue 8).
