//! usvideo (under construction)
