//! Hidden `atwb debug ...` entry points for benchmarks: they run the TUI's own code paths without
//! a terminal.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::action::Action;
use super::update::update;
use super::views;

/// `atwb debug filter --names FILE QUERY`: the TUI's matcher over a file of names, best first.
pub fn filter(names: &Path, query: &str) -> Result<ExitCode> {
    let text =
        std::fs::read_to_string(names).with_context(|| format!("reading {}", names.display()))?;
    let lines: Vec<&str> = text.lines().collect();
    let hits = crate::search::filter_strings(&lines, query);
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (i, _) in &hits {
        if writeln!(out, "{}", lines[*i]).is_err() {
            break; // closed pipe (e.g. `| head`): stop quietly
        }
    }
    let _ = out.flush();
    // Like fzf --filter: exit 1 when nothing matched.
    Ok(if hits.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `atwb debug first-frame [--width W --height H]`: what `atwb` does before its first frame
/// (load catalog and config, build the state, lay out and draw), drawn to an in-memory terminal
/// instead of the real one. The benchmark for "first frame <= 30 ms" times this process;
/// `timings` prints the in-process split (load / state / draw) to stderr.
pub fn first_frame(
    catalog_root: &Path,
    width: u16,
    height: u16,
    print: bool,
    timings: bool,
    search: Option<&str>,
) -> Result<ExitCode> {
    let start = Instant::now();
    let (catalog, invalid) = super::load_catalog(catalog_root)?;
    let loaded = start.elapsed();
    let mut app = super::build_app(catalog, invalid, catalog_root)?;
    update(&mut app, Action::Resize { width, height });
    let built = start.elapsed();
    let mut terminal = Terminal::new(TestBackend::new(width, height))?;
    terminal.draw(|f| views::draw(f, &app))?;
    let drawn = start.elapsed();
    if let Some(query) = search {
        // Type the query one key at a time, drawing after each key as the runtime does.
        update(&mut app, Action::Search);
        for c in query.chars() {
            let key = Instant::now();
            update(&mut app, Action::SearchInput(c));
            terminal.draw(|f| views::draw(f, &app))?;
            if timings {
                eprintln!(
                    "key {c:?}: {} shown, update+draw {:.2} ms",
                    app.shown.len(),
                    ms(key.elapsed())
                );
            }
        }
    }
    if print {
        println!("{}", terminal.backend());
    }
    if timings {
        eprintln!(
            "packages {}  load {:.2} ms  state {:.2} ms  draw {:.2} ms  total {:.2} ms",
            app.catalog.packages.len(),
            ms(loaded),
            ms(built - loaded),
            ms(drawn - built),
            ms(drawn)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
