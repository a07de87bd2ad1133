//! Viben's desktop state under `~/.viben` (skeleton; filled by the viben-store issue).
