//! The terminal UI: `App` state, `Action`s, a pure `update`, and views that only draw.

pub fn run(catalog_root: std::path::PathBuf) -> anyhow::Result<()> {
    let _ = catalog_root;
    anyhow::bail!("the TUI is not built yet")
}
