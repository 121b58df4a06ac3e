//! Micro-benchmarks of the core (placeholder; filled in below).

fn main() {}
