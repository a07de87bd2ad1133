//! Viben's web accounts in PostgreSQL (skeleton; filled by the viben-db issue).
