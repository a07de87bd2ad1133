//! The `viben` command (skeleton; filled by the CLI issue).

fn main() {
    println!("viben {}", env!("CARGO_PKG_VERSION"));
}
