//! Validation rules over parsed package files (see `load`).
