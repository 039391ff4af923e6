//! Format-preserving edits of `package.toml` (toml_edit), written atomically, refusing to
//! overwrite a file that changed on disk since it was read.
