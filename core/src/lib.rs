//! usvideo-core (under construction)
