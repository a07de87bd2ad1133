//! Everything the store asks of the operating system beyond `std`'s portable calls: permission
//! bits, opens that never follow a link or block, folder fsync, link counts, `flock` and a
//! cheap size query. No other module names `std::os::unix`, `libc` or `rustix`.
//!
//! One implementation per platform family sits behind this interface; porting the store (to
//! Windows) means writing one more such module. What each platform guarantees is in
//! `docs/store.md` ("Platforms").

#[cfg(unix)]
mod unix;

#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(not(unix))]
compile_error!(
    "viben-store has a platform module for Unix only; a port adds `platform/<os>.rs` with the \
     functions of `platform/unix.rs`"
);
