//! The right pane: everything the catalog says about the selected package (or a summary of the
//! selected group).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::catalog::{Package, Service, ServiceOption};
use crate::search::{self, Highlights};
use std::time::Duration;

use crate::tui::app::{App, PackageStatus, Pane, Row};
use crate::tui::jobs::short_duration;

use super::{highlighted, pane_border};

const LABEL_WIDTH: usize = 10;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let focused = app.focus == Pane::Detail && app.overlays.is_empty();
    let title = match app.selected_row() {
        Some(Row::Package { index }) => format!(" {} ", app.catalog.packages[*index].name),
        Some(Row::Org { org, .. }) => format!(" {org} "),
        Some(Row::Tier { tier, .. }) => format!(" Tier {} ", tier.number()),
        None => " Detail ".to_owned(),
    };
    let block = Block::bordered()
        .title(title)
        .border_style(pane_border(focused));
    let paragraph = Paragraph::new(lines(app))
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((app.detail_scroll, 0));
    frame.render_widget(paragraph, area);
}

/// Number of screen lines the detail takes once wrapped (for scrolling limits).
pub fn line_count(app: &App) -> usize {
    let width = crate::tui::layout::areas(app)
        .detail
        .map_or(1, |d| crate::tui::layout::inner(d).width.max(1));
    Paragraph::new(lines(app))
        .wrap(Wrap { trim: false })
        .line_count(width)
}

pub fn lines(app: &App) -> Vec<Line<'static>> {
    match app.selected_row() {
        Some(Row::Package { index }) => {
            let p = &app.catalog.packages[*index];
            package_lines(app, p, &search::highlights(p, &app.filter.query))
        }
        Some(Row::Tier { tier, count, .. }) => {
            let orgs: Vec<&str> = group(app, |p| p.tier == *tier);
            vec![
                Line::from(format!("Tier {} · {}", tier.number(), tier.label())).style(bold()),
                Line::from(format!(
                    "{count} packages shown in {} orgs: {}",
                    orgs.len(),
                    orgs.join(", ")
                )),
            ]
        }
        Some(Row::Org {
            tier, org, count, ..
        }) => {
            let names: Vec<&str> = app
                .shown
                .iter()
                .map(|&i| &app.catalog.packages[i])
                .filter(|p| p.tier == *tier && &p.org == org)
                .map(|p| p.name.as_str())
                .collect();
            vec![
                Line::from(format!("{org} · tier {}", tier.number())).style(bold()),
                Line::from(format!("{count} packages shown: {}", names.join(", "))),
            ]
        }
        None => vec![Line::from("No package selected.").style(dim())],
    }
}

fn group(app: &App, keep: impl Fn(&Package) -> bool) -> Vec<&str> {
    let mut orgs: Vec<&str> = app
        .shown
        .iter()
        .map(|&i| &app.catalog.packages[i])
        .filter(|p| keep(p))
        .map(|p| p.org.as_str())
        .collect();
    orgs.dedup();
    orgs
}

fn package_lines(app: &App, p: &Package, hl: &Highlights) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let mut head = highlighted(&p.name, &hl.name, bold());
    head.push(Span::styled("  ", dim()));
    head.extend(highlighted(&p.org, &hl.org, Style::new().fg(Color::Cyan)));
    head.push(Span::styled(
        format!(" · tier {} · {}", p.tier.number(), p.category.as_str()),
        dim(),
    ));
    out.push(Line::from(head));
    out.push(Line::from(highlighted(
        &p.description,
        &hl.description,
        Style::new(),
    )));
    if !p.long_description.trim().is_empty() {
        out.push(Line::default());
        out.extend(paragraphs(&p.long_description).into_iter().map(Line::from));
    }
    out.push(Line::default());

    out.push(field("version", vec![Span::raw(p.version.clone())]));
    out.push(field("homepage", vec![Span::raw(p.homepage.clone())]));
    out.push(field("license", vec![Span::raw(p.license.join(", "))]));
    if let Some(main) = &p.main_program {
        out.push(field("program", vec![Span::raw(main.clone())]));
    }

    let (mark, mark_style) = if p.source.verified {
        ("✓ verified", Style::new().fg(Color::Green))
    } else {
        ("✗ not verified", Style::new().fg(Color::Red))
    };
    out.push(field(
        "source",
        vec![
            Span::raw(format!("{} ", p.source.short())),
            Span::styled(mark, mark_style),
        ],
    ));
    out.push(more(vec![Span::styled(
        format!("hash {}", p.source.hash),
        dim(),
    )]));
    out.push(more(vec![Span::styled(
        format!("provenance: {}", p.source.provenance),
        dim(),
    )]));

    let b = &p.build;
    let mut build = vec![format!("{} ({})", b.builder.as_str(), b.language)];
    if let Some(w) = &b.workspace {
        build.push(format!("workspace {w}"));
    }
    if !b.members.is_empty() {
        build.push(format!("members {}", b.members.join(", ")));
    }
    if !b.sub_packages.is_empty() {
        build.push(format!("sub-packages {}", b.sub_packages.join(", ")));
    }
    if !b.workspaces.is_empty() {
        build.push(format!("workspaces {}", b.workspaces.join(", ")));
    }
    if let Some(root) = &b.source_root {
        build.push(format!("root {root}"));
    }
    out.push(field("build", vec![Span::raw(build.join(" · "))]));
    let deps_style = match b.deps_hash {
        crate::catalog::DepsHash::Unknown => Style::new().fg(Color::Yellow),
        crate::catalog::DepsHash::Known(_) => Style::new(),
    };
    out.push(more(vec![
        Span::styled(
            format!("deps hash ({}) ", b.builder.deps_hash_nix_name()),
            dim(),
        ),
        Span::styled(b.deps_hash.as_str().to_owned(), deps_style),
    ]));
    if !b.toolchains.is_empty() {
        let toolchains = b.toolchains.summary().join(" · ");
        out.push(more(vec![Span::styled(
            format!("toolchain {toolchains}"),
            dim(),
        )]));
    }
    if !b.build_inputs.is_empty() || !b.native_build_inputs.is_empty() {
        out.push(more(vec![Span::styled(
            format!(
                "inputs {} · native {}",
                list(&b.build_inputs),
                list(&b.native_build_inputs)
            ),
            dim(),
        )]));
    }

    if p.services.is_empty() {
        out.push(field("services", vec![Span::styled("none", dim())]));
    }
    for (i, (name, svc)) in p.services.iter().enumerate() {
        let mut spans = highlighted(name, hl.service(name), bold());
        spans.push(Span::raw(service_summary(svc)));
        spans.push(hardening_span(app, name));
        out.push(if i == 0 {
            field("services", spans)
        } else {
            more(spans)
        });
        for opt in &svc.options {
            out.extend(option_lines(opt));
        }
    }

    let a = &p.atproto;
    out.push(field(
        "atproto",
        vec![Span::raw(format!(
            "services {} · protocols {} · deps {}",
            list(&a.services),
            list(&a.protocols),
            list(&a.dependencies)
        ))],
    ));
    out.extend(status_lines(app, p));
    out
}

/// The build status: glyph, error class and first line, age, the running job, and a sparkline
/// of build durations from the history with their median.
fn status_lines(app: &App, p: &Package) -> Vec<Line<'static>> {
    let status = app.status(app_index(app, p));
    let mut out = Vec::new();
    let record = app.statuses.get(&p.name);
    let mut head = vec![Span::styled(
        format!("{} {}", status.glyph(), status.label()),
        Style::new().fg(status.color()).add_modifier(Modifier::BOLD),
    )];
    if let Some(b) = record.and_then(|r| r.last_build.as_ref()) {
        if status == PackageStatus::Stale || status == PackageStatus::Building {
            head.push(Span::styled(
                format!(" · last build {}", b.outcome.as_str()),
                dim(),
            ));
        }
        if let Some(f) = &b.failure {
            head.push(Span::styled(
                format!(" · {}", f.class.replace('_', " ")),
                Style::new().fg(Color::Red),
            ));
        }
        head.push(Span::styled(
            format!(
                " · {} · {}",
                short_duration(Duration::from_secs_f64(b.duration_secs)),
                age(app.unix_now, b.finished_at)
            ),
            dim(),
        ));
    } else if !app.statuses_loaded {
        head.push(Span::styled(" · reading the status store…", dim()));
    }
    out.push(field("status", head));
    if status == PackageStatus::Stale {
        out.push(more(vec![Span::styled(
            "files changed since the last build",
            Style::new().fg(Color::Yellow),
        )]));
    }
    if let Some(f) = record
        .and_then(|r| r.last_build.as_ref())
        .and_then(|b| b.failure.as_ref())
    {
        out.push(more(vec![Span::styled(
            f.first_line.clone(),
            Style::new().fg(Color::Red),
        )]));
        if let Some(m) = &f.hash_mismatch {
            out.push(more(vec![
                Span::styled(format!("got {}", m.got), Style::new().fg(Color::Green)),
                Span::styled("  f fixes", dim()),
            ]));
        }
    }
    if let Some(j) = app.jobs.latest_for(&p.name).filter(|j| j.is_active()) {
        let mut spans = vec![Span::styled(
            format!("{} {}", j.spec.kind.as_str(), j.state_text()),
            Style::new().fg(Color::Yellow),
        )];
        if let Some(e) = j.elapsed(app.now) {
            spans.push(Span::styled(format!(" · {}", short_duration(e)), dim()));
        }
        if let Some(est) = j.estimate {
            spans.push(Span::styled(format!(" of ~{}", short_duration(est)), dim()));
        }
        spans.push(Span::styled("  L shows the log", dim()));
        out.push(field("job", spans));
    }
    if let Some(r) = record {
        let builds: Vec<&crate::jobs::RunRecord> = r
            .history
            .iter()
            .filter(|h| h.kind == crate::jobs::JobKind::Build)
            .collect();
        if !builds.is_empty() {
            let secs: Vec<f64> = builds.iter().map(|b| b.duration_secs).collect();
            let mut spans: Vec<Span> = builds
                .iter()
                .zip(sparkline(&secs).chars())
                .map(|(b, c)| {
                    let colour = match b.outcome {
                        crate::jobs::Outcome::Ok => Color::Green,
                        crate::jobs::Outcome::Cancelled => Color::Magenta,
                        _ => Color::Red,
                    };
                    Span::styled(c.to_string(), Style::new().fg(colour))
                })
                .collect();
            let median = r
                .estimate()
                .map(|m| format!("median {} (ok builds)", short_duration(m)))
                .unwrap_or_else(|| "no successful build yet".into());
            spans.push(Span::styled(
                format!("  {median} · {} runs", builds.len()),
                dim(),
            ));
            out.push(field("history", spans));
        }
    }
    out
}

/// One block character per value, scaled to the largest (what ratatui's Sparkline draws, as
/// text so it scrolls and wraps with the rest of the pane).
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().fold(0.0f64, f64::max);
    values
        .iter()
        .map(|v| {
            if max <= 0.0 {
                BARS[0]
            } else {
                BARS[((v / max) * 7.0).round().clamp(0.0, 7.0) as usize]
            }
        })
        .collect()
}

/// `12s ago`, `5m ago`, `3h ago`, `2d ago`.
fn age(now: u64, then: u64) -> String {
    if now == 0 || then == 0 {
        return String::new();
    }
    let s = now.saturating_sub(then);
    match s {
        0..60 => format!("{s}s ago"),
        60..3600 => format!("{}m ago", s / 60),
        3600..86400 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86400),
    }
}

fn app_index(app: &App, p: &Package) -> usize {
    app.catalog
        .packages
        .iter()
        .position(|q| std::ptr::eq(q, p))
        .unwrap_or(0)
}

/// `  hardening 1.9` (systemd-analyze exposure; <= 2.0 is the catalog's bar).
fn hardening_span(app: &App, service: &str) -> Span<'static> {
    let text = app.hardening_text(service);
    let style = match text.parse::<f32>() {
        Ok(v) if v <= 2.0 => Style::new().fg(Color::Green),
        Ok(_) => Style::new().fg(Color::Red),
        Err(_) => dim(),
    };
    Span::styled(format!("  hardening {text}"), style)
}

fn service_summary(svc: &Service) -> String {
    let ports: Vec<String> = svc
        .ports
        .iter()
        .map(|(n, port)| format!(":{port} {n}"))
        .collect();
    let mut parts = vec![String::new()];
    if !ports.is_empty() {
        parts.push(ports.join(", "));
    }
    parts.push(format!("db {}", svc.database.as_str()));
    if let Some(h) = &svc.health_path {
        parts.push(format!("health {h}"));
    }
    if svc.jit {
        parts.push("jit".into());
    }
    if !svc.hardening_exceptions.is_empty() {
        let names: Vec<&str> = svc
            .hardening_exceptions
            .keys()
            .map(String::as_str)
            .collect();
        parts.push(format!("relaxed {}", names.join(", ")));
    }
    parts.join("  ")
}

fn option_lines(opt: &ServiceOption) -> Vec<Line<'static>> {
    let default = match &opt.default {
        Some(v) => format!("default {v}"),
        None => "required".to_owned(),
    };
    let mut head = vec![
        Span::raw("  "),
        Span::styled(opt.name.clone(), Style::new().fg(Color::Cyan)),
        Span::raw(format!("  {}  ", opt.ty.as_str())),
        Span::styled(default, dim()),
    ];
    if let Some(env) = &opt.env {
        head.push(Span::styled(
            format!("  ${env}"),
            Style::new().fg(Color::Magenta),
        ));
    }
    if !opt.values.is_empty() {
        head.push(Span::styled(format!("  [{}]", opt.values.join("|")), dim()));
    }
    let mut lines = vec![more(head)];
    if !opt.description.is_empty() {
        lines.push(more(vec![Span::styled(
            format!("    {}", opt.description),
            dim(),
        )]));
    }
    lines
}

/// Joins hard-wrapped lines into paragraphs (blank lines separate them) so the pane's own wrapping
/// decides the line breaks. Lines starting with `-` or `*` begin a new list item.
fn paragraphs(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.trim().lines().map(str::trim_end) {
        let blank = line.trim().is_empty();
        if (blank || line.trim_start().starts_with(['-', '*'])) && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if blank {
            out.push(String::new());
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
            current.push_str(line.trim_start());
        } else {
            current.push_str(line);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn field(label: &str, mut value: Vec<Span<'static>>) -> Line<'static> {
    let mut spans = vec![Span::styled(format!("{label:<LABEL_WIDTH$}"), dim())];
    spans.append(&mut value);
    Line::from(spans)
}

fn more(mut value: Vec<Span<'static>>) -> Line<'static> {
    let mut spans = vec![Span::raw(" ".repeat(LABEL_WIDTH))];
    spans.append(&mut value);
    Line::from(spans)
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "—".to_owned()
    } else {
        items.join(", ")
    }
}

fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}
