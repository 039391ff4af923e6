//! The right pane: everything the catalog says about the selected package (or a summary of the
//! selected group).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::catalog::{Package, Service, ServiceOption};
use crate::search::{self, Highlights};
use crate::tui::app::{App, Pane, Row};

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
    let status = app.status(app_index(app, p));
    out.push(field(
        "status",
        vec![Span::raw(format!("{} {}", status.glyph(), status.label()))],
    ));
    out
}

fn app_index(app: &App, p: &Package) -> usize {
    app.catalog
        .packages
        .iter()
        .position(|q| std::ptr::eq(q, p))
        .unwrap_or(0)
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
