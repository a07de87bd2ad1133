#![doc = include_str!("../README.md")]

mod auth;
mod error;
mod pages;
mod server;

pub use error::StudioError;
pub use server::{Studio, StudioBuilder};
