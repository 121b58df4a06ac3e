//! usvideo-emulator (under construction)
