//! This crate's own implementation of [`Chapter3`], built from its modules.

/// The crate's reference implementation: every check must pass on it.
#[derive(Debug, Clone, Copy)]
pub struct Reference;
