//! The right pane: everything the catalog says about the selected package (or a summary of the
//! selected group).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::catalog::{Package, Service, ServiceOption};
use crate::search::{self, Highlights};
use std::time::Duration;

use crate::tui::app::{App, PackageStatus, Pane, Row};
use crate::tui::jobs::short_duration;
use crate::tui::theme::Theme;

use super::wrap::{Hanging, leading_spaces, wrap_all};
use super::{block, highlighted};

const LABEL_WIDTH: usize = 10;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let focused = app.focus == Pane::Detail && app.overlays.is_empty();
    let title = match app.selected_row() {
        Some(Row::Package { index }) => format!(" {} ", app.catalog.packages[*index].name),
        Some(Row::Invalid { index }) => format!(" {} ", app.invalid[*index].name),
        Some(Row::Unplaced { .. }) => " Not loaded ".to_owned(),
        Some(Row::Org { org, .. }) => format!(" {org} "),
        Some(Row::Tier { tier, .. }) => format!(" Tier {} ", tier.number()),
        None => " Detail ".to_owned(),
    };
    let width = crate::tui::layout::inner(area).width as usize;
    let paragraph = Paragraph::new(lines(app, width))
        .block(block(app, focused).title(title))
        .scroll((app.detail_scroll, 0));
    frame.render_widget(paragraph, area);
}

/// Number of screen lines the detail takes once wrapped (for scrolling limits).
pub fn line_count(app: &App) -> usize {
    let width = crate::tui::layout::areas(app)
        .detail
        .map_or(1, |d| crate::tui::layout::inner(d).width.max(1));
    lines(app, width as usize).len()
}

/// The pane's text wrapped to `width` columns, continuation lines under their field's text.
pub fn lines(app: &App, width: usize) -> Vec<Line<'static>> {
    wrap_all(hanging_lines(app), width)
}

fn hanging_lines(app: &App) -> Vec<Hanging> {
    let t = &app.theme;
    match app.selected_row() {
        Some(Row::Package { index }) => {
            let p = &app.catalog.packages[*index];
            package_lines(app, p, &search::highlights(p, &app.filter.query))
        }
        Some(Row::Tier { tier, count, .. }) => {
            let orgs: Vec<&str> = group(app, |p| p.tier == *tier);
            vec![
                Hanging::new(
                    Line::from(format!("Tier {} · {}", tier.number(), tier.label()))
                        .style(t.heading),
                    0,
                ),
                Hanging::new(
                    format!(
                        "{count} packages shown in {} orgs: {}",
                        orgs.len(),
                        orgs.join(", ")
                    ),
                    0,
                ),
            ]
        }
        Some(Row::Org {
            tier, org, count, ..
        }) => {
            let mut names: Vec<String> = app
                .shown
                .iter()
                .map(|&i| &app.catalog.packages[i])
                .filter(|p| p.tier == *tier && &p.org == org)
                .map(|p| p.name.clone())
                .collect();
            // The group's count includes its packages that did not load.
            names.extend(
                app.shown_invalid
                    .iter()
                    .map(|&i| &app.invalid[i])
                    .filter(|p| p.tier == Some(*tier) && &p.org == org)
                    .map(|p| format!("{} {}", t.glyphs.warning, p.name)),
            );
            vec![
                Hanging::new(
                    Line::from(format!("{org} · tier {}", tier.number())).style(t.heading),
                    0,
                ),
                Hanging::new(format!("{count} packages shown: {}", names.join(", ")), 0),
            ]
        }
        Some(Row::Invalid { index }) => super::problems::invalid_lines(app, &app.invalid[*index]),
        Some(Row::Unplaced { count, .. }) => vec![Hanging::new(
            format!(
                "{count} package folder(s) whose package.toml does not say (readably) which tier \
                 they are: they did not load; select one to see why."
            ),
            0,
        )],
        None => vec![Hanging::new(
            Line::from("No package selected.").style(t.muted),
            0,
        )],
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

fn package_lines(app: &App, p: &Package, hl: &Highlights) -> Vec<Hanging> {
    let mut out = about_lines(&app.theme, p, hl);
    out.extend(source_lines(&app.theme, p));
    out.extend(build_lines(&app.theme, p));
    out.extend(service_lines(app, p, hl));
    out.extend(status_lines(app, p));
    out
}

/// Name, org, tier and category, the description and the long description.
fn about_lines(t: &Theme, p: &Package, hl: &Highlights) -> Vec<Hanging> {
    let mut out = Vec::new();
    let mut head = highlighted(&p.name, &hl.name, t.heading, t.search_match);
    head.push(Span::styled("  ", t.muted));
    head.extend(highlighted(&p.org, &hl.org, t.accent, t.search_match));
    head.push(Span::styled(
        format!(" · tier {} · {}", p.tier.number(), p.category.as_str()),
        t.muted,
    ));
    out.push(Hanging::new(head, 0));
    out.push(Hanging::new(
        highlighted(&p.description, &hl.description, t.text, t.search_match),
        0,
    ));
    if !p.long_description.trim().is_empty() {
        out.push(Hanging::new(Line::default(), 0));
        out.extend(paragraphs(&p.long_description).into_iter().map(|text| {
            // A list item's lines continue under its text, not under its `-`.
            let indent = leading_spaces(&[Span::raw(text.as_str())]);
            let marker = usize::from(text.trim_start().starts_with(['-', '*'])) * 2;
            Hanging::new(Span::styled(text.clone(), t.text), indent + marker)
        }));
    }
    out.push(Hanging::new(Line::default(), 0));
    out
}

/// Version, homepage, license, program and the pinned source.
fn source_lines(t: &Theme, p: &Package) -> Vec<Hanging> {
    let field = |label: &str, value| field(t, label, value);
    let mut out = Vec::new();
    out.push(field(
        "version",
        vec![Span::styled(p.version.clone(), t.text)],
    ));
    out.push(field(
        "homepage",
        vec![Span::styled(p.homepage.clone(), t.text)],
    ));
    out.push(field(
        "license",
        vec![Span::styled(p.license.join(", "), t.text)],
    ));
    if let Some(main) = &p.main_program {
        out.push(field("program", vec![Span::styled(main.clone(), t.text)]));
    }

    let (mark, mark_style) = if p.source.verified {
        (format!("{} verified", t.glyphs.verified), t.good)
    } else {
        (format!("{} not verified", t.glyphs.not_verified), t.bad)
    };
    out.push(field(
        "source",
        vec![
            Span::styled(format!("{} ", p.source.short()), t.text),
            Span::styled(mark, mark_style),
        ],
    ));
    out.push(more(vec![Span::styled(
        format!("hash {}", p.source.hash),
        t.muted,
    )]));
    out.push(more(vec![Span::styled(
        format!("provenance: {}", p.source.provenance),
        t.muted,
    )]));
    out
}

/// The builder and its settings, the deps hash and the inputs.
fn build_lines(t: &Theme, p: &Package) -> Vec<Hanging> {
    let mut out = Vec::new();
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
    out.push(field(
        t,
        "build",
        vec![Span::styled(build.join(" · "), t.text)],
    ));
    let deps_style = match b.deps_hash {
        crate::catalog::DepsHash::Unknown => t.warning,
        crate::catalog::DepsHash::Known(_) => t.text,
    };
    out.push(more(vec![
        Span::styled(
            format!("deps hash ({}) ", b.builder.deps_hash_nix_name()),
            t.muted,
        ),
        Span::styled(b.deps_hash.as_str().to_owned(), deps_style),
    ]));
    if !b.toolchains.is_empty() {
        let toolchains = b.toolchains.summary().join(" · ");
        out.push(more(vec![Span::styled(
            format!("toolchain {toolchains}"),
            t.muted,
        )]));
    }
    if !b.build_inputs.is_empty() || !b.native_build_inputs.is_empty() {
        let list = |items| list(t, items);
        out.push(more(vec![Span::styled(
            format!(
                "inputs {} · native {}",
                list(&b.build_inputs),
                list(&b.native_build_inputs)
            ),
            t.muted,
        )]));
    }
    out
}

/// Each service with its options, then what the package is in the ATproto network.
fn service_lines(app: &App, p: &Package, hl: &Highlights) -> Vec<Hanging> {
    let t = &app.theme;
    let field = |label: &str, value| field(t, label, value);
    let mut out = Vec::new();
    if p.services.is_empty() {
        out.push(field("services", vec![Span::styled("none", t.muted)]));
    }
    for (i, (name, svc)) in p.services.iter().enumerate() {
        let mut spans = highlighted(name, hl.service(name), t.heading, t.search_match);
        spans.push(Span::styled(service_summary(svc), t.text));
        spans.push(hardening_span(app, name));
        out.push(if i == 0 {
            field("services", spans)
        } else {
            more(spans)
        });
        for opt in &svc.options {
            out.extend(option_lines(t, opt));
        }
    }

    let a = &p.atproto;
    let list = |items| list(t, items);
    out.push(field(
        "atproto",
        vec![Span::styled(
            format!(
                "services {} · protocols {} · deps {}",
                list(&a.services),
                list(&a.protocols),
                list(&a.dependencies)
            ),
            t.text,
        )],
    ));
    out
}

/// The build status: glyph, error class and first line, age, the running job, and a sparkline
/// of build durations from the history with their median.
fn status_lines(app: &App, p: &Package) -> Vec<Hanging> {
    let t = &app.theme;
    let field = |label: &str, value| field(t, label, value);
    let dim = t.muted;
    let status = app.status(app_index(app, p));
    let mut out = Vec::new();
    let record = app.statuses.get(&p.name);
    let mut head = vec![Span::styled(
        format!("{} {}", t.glyphs.status(status), status.label()),
        t.status(status)
            .add_modifier(ratatui::style::Modifier::BOLD),
    )];
    if let Some(b) = record.and_then(|r| r.last_build.as_ref()) {
        if status == PackageStatus::Stale || status == PackageStatus::Building {
            head.push(Span::styled(
                format!(" · last build {}", b.outcome.as_str()),
                dim,
            ));
        }
        if let Some(f) = &b.failure {
            head.push(Span::styled(
                format!(" · {}", f.class.replace('_', " ")),
                t.bad,
            ));
        }
        head.push(Span::styled(
            format!(
                " · {} · {}",
                short_duration(Duration::from_secs_f64(b.duration_secs)),
                age(app.unix_now, b.finished_at)
            ),
            dim,
        ));
    } else if !app.statuses_loaded {
        head.push(Span::styled(
            format!(" · reading the status store{}", t.glyphs.ellipsis),
            dim,
        ));
    }
    out.push(field("status", head));
    out.push(field("cache", super::cache::detail_value(app, &p.name)));
    if status == PackageStatus::Stale {
        out.push(more(vec![Span::styled(
            "files changed since the last build",
            t.warning,
        )]));
    }
    if let Some(f) = record
        .and_then(|r| r.last_build.as_ref())
        .and_then(|b| b.failure.as_ref())
    {
        out.push(more(vec![Span::styled(f.first_line.clone(), t.bad)]));
        if let Some(m) = &f.hash_mismatch {
            out.push(more(vec![
                Span::styled(format!("got {}", m.got), t.good),
                Span::styled("  f fixes", dim),
            ]));
        } else if let Some(h) = &f.hint {
            out.push(more(vec![
                Span::styled("hint ", dim),
                Span::styled(h.clone(), t.warning),
            ]));
        }
    }
    if let Some(j) = app.jobs.latest_for(&p.name).filter(|j| j.is_active()) {
        let mut spans = vec![Span::styled(
            format!("{} {}", j.spec.kind.as_str(), j.state_text()),
            t.status_running,
        )];
        if let Some(e) = j.elapsed(app.now) {
            spans.push(Span::styled(format!(" · {}", short_duration(e)), dim));
        }
        if let Some(est) = j.estimate {
            spans.push(Span::styled(format!(" of ~{}", short_duration(est)), dim));
        }
        spans.push(Span::styled("  L shows the log", dim));
        out.push(field("job", spans));
    }
    if let Some(h) = record.and_then(|r| history_line(t, r)) {
        out.push(h);
    }
    out
}

/// `history   ▅█▁▆▂  median 47s (ok builds) · 5 runs`: one bar per recorded build.
fn history_line(t: &Theme, r: &crate::jobs::PackageStatus) -> Option<Hanging> {
    let builds: Vec<&crate::jobs::RunRecord> = r
        .history
        .iter()
        .filter(|h| h.kind == crate::jobs::JobKind::Build)
        .collect();
    if builds.is_empty() {
        return None;
    }
    let secs: Vec<f64> = builds.iter().map(|b| b.duration_secs).collect();
    let mut spans: Vec<Span> = builds
        .iter()
        .zip(sparkline(&secs, &t.glyphs.sparkline).chars())
        .map(|(b, c)| {
            let style = match b.outcome {
                crate::jobs::Outcome::Ok => t.status_ok,
                crate::jobs::Outcome::Cancelled | crate::jobs::Outcome::Interrupted => {
                    t.status_cancelled
                }
                _ => t.status_failed,
            };
            Span::styled(c.to_string(), style)
        })
        .collect();
    let median = r.estimate().map_or_else(
        || "no successful build yet".into(),
        |m| format!("median {} (ok builds)", short_duration(m)),
    );
    spans.push(Span::styled(
        format!("  {median} · {} runs", builds.len()),
        t.muted,
    ));
    Some(field(t, "history", spans))
}

/// One bar character per value (`bars` lowest first), scaled to the largest (what ratatui's
/// Sparkline draws, as text so it scrolls and wraps with the rest of the pane).
pub fn sparkline(values: &[f64], bars: &[char; 8]) -> String {
    let max = values.iter().copied().fold(0.0f64, f64::max);
    values
        .iter()
        .map(|v| {
            if max <= 0.0 {
                bars[0]
            } else {
                bars[((v / max) * 7.0).round().clamp(0.0, 7.0) as usize]
            }
        })
        .collect()
}

/// `12s ago`, `5m ago`, `3h ago`, `2d ago`.
pub(super) fn age(now: u64, then: u64) -> String {
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
        Ok(v) if v <= 2.0 => app.theme.good,
        Ok(_) => app.theme.bad,
        Err(_) => app.theme.muted,
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

fn option_lines(t: &Theme, opt: &ServiceOption) -> Vec<Hanging> {
    let default = match &opt.default {
        Some(v) => format!("default {v}"),
        None => "required".to_owned(),
    };
    let mut head = vec![
        Span::raw("  "),
        Span::styled(opt.name.clone(), t.accent),
        Span::styled(format!("  {}  ", opt.ty.as_str()), t.text),
        Span::styled(default, t.muted),
    ];
    if let Some(env) = &opt.env {
        head.push(Span::styled(format!("  ${env}"), t.env_var));
    }
    if !opt.values.is_empty() {
        head.push(Span::styled(
            format!("  [{}]", opt.values.join("|")),
            t.muted,
        ));
    }
    let mut lines = vec![more(head)];
    if !opt.description.is_empty() {
        lines.push(more(vec![Span::styled(
            format!("    {}", opt.description),
            t.muted,
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
        if current.is_empty() {
            current.push_str(line);
        } else {
            current.push(' ');
            current.push_str(line.trim_start());
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// `label     value`: continuation lines start under the value (and its own indent).
fn field(t: &Theme, label: &str, mut value: Vec<Span<'static>>) -> Hanging {
    let indent = LABEL_WIDTH + leading_spaces(&value);
    let mut spans = vec![Span::styled(format!("{label:<LABEL_WIDTH$}"), t.muted)];
    spans.append(&mut value);
    Hanging::new(spans, indent)
}

/// A further line of the field above, under its value.
fn more(mut value: Vec<Span<'static>>) -> Hanging {
    let indent = LABEL_WIDTH + leading_spaces(&value);
    let mut spans = vec![Span::raw(" ".repeat(LABEL_WIDTH))];
    spans.append(&mut value);
    Hanging::new(spans, indent)
}

fn list(t: &Theme, items: &[String]) -> String {
    if items.is_empty() {
        t.glyphs.none.to_owned()
    } else {
        items.join(", ")
    }
}
