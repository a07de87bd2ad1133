//! Benchmark (placeholder).

fn main() {}
