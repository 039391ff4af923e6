//! The theme on the real views (monochrome and ASCII snapshots), `[theme]` overrides and their
//! errors, and what the environment decides.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use super::*;
use crate::config::Config;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::tests::builds::{busy_app, hash_mismatch_log_app};
use crate::tui::tests::render;
use crate::tui::update::update;

/// The screen's text, then the same grid with each cell's modifiers as a letter (legend at the
/// end): what tells the roles apart once there is no colour.
fn modifier_map(buf: &Buffer) -> String {
    let mut seen: Vec<Modifier> = Vec::new();
    let mut text = String::new();
    let mut map = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let cell = &buf[(x, y)];
            text.push_str(cell.symbol());
            let m = cell.modifier;
            if m.is_empty() {
                map.push('.');
                continue;
            }
            let i = seen.iter().position(|s| *s == m).unwrap_or_else(|| {
                seen.push(m);
                seen.len() - 1
            });
            map.push((b'a' + i as u8) as char);
        }
        text.push('\n');
        map.push('\n');
    }
    let legend: Vec<String> = seen
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{} = {m:?}", (b'a' + i as u8) as char))
        .collect();
    format!("{text}\n{map}\n{}", legend.join("\n"))
}

fn coloured_cells(buf: &Buffer) -> Vec<(u16, u16)> {
    let area = buf.area;
    (0..area.height)
        .flat_map(|y| (0..area.width).map(move |x| (x, y)))
        .filter(|&(x, y)| buf[(x, y)].fg != Color::Reset || buf[(x, y)].bg != Color::Reset)
        .collect()
}

fn non_ascii(buf: &Buffer) -> Vec<String> {
    buf.content
        .iter()
        .map(ratatui::buffer::Cell::symbol)
        .filter(|s| !s.is_ascii())
        .map(str::to_owned)
        .collect()
}

fn monochrome(mut app: App) -> App {
    app.theme = Theme::monochrome();
    app
}

fn ascii(mut app: App) -> App {
    app.theme.glyphs = GlyphSet::ASCII;
    app.keymap.ascii = true;
    app
}

#[test]
fn monochrome_main_screen() {
    let mut app = monochrome(busy_app(120, 30));
    update(&mut app, Action::MoveDown);
    let t = render(&app);
    let buf = t.backend().buffer();
    assert_eq!(coloured_cells(buf), [], "no colour anywhere");
    insta::assert_snapshot!(modifier_map(buf));
}

#[test]
fn monochrome_overlays_and_logs_have_no_colour() {
    let mut app = monochrome(busy_app(120, 30));
    update(&mut app, Action::Jobs);
    assert_eq!(coloured_cells(render(&app).backend().buffer()), []);
    let mut app = monochrome(busy_app(100, 44));
    update(&mut app, Action::Help);
    assert_eq!(coloured_cells(render(&app).backend().buffer()), []);
    // The log's own ANSI colours go too; its bold stays.
    let mut app = monochrome(hash_mismatch_log_app());
    let log = app.log_view_mut().unwrap();
    log.lines.push_back(crate::jobs::logpage::LogLine::new(
        "\x1b[31;1merror:\x1b[0m red and bold",
        None,
    ));
    let t = render(&app);
    let buf = t.backend().buffer();
    assert_eq!(coloured_cells(buf), []);
    let bold = buf
        .content
        .iter()
        .filter(|c| c.modifier.contains(Modifier::BOLD))
        .count();
    assert!(bold > 0);
}

#[test]
fn ascii_main_screen() {
    let mut app = ascii(busy_app(120, 30));
    update(&mut app, Action::MoveDown);
    let t = render(&app);
    assert_eq!(non_ascii(t.backend().buffer()), Vec::<String>::new());
    insta::assert_snapshot!(t.backend());
}

#[test]
fn ascii_everywhere() {
    let mut app = ascii(busy_app(120, 30));
    crate::tui::tests::select(&mut app, "pds");
    update(&mut app, Action::NextPane);
    update(&mut app, Action::Bottom);
    let t = render(&app);
    let screen = t.backend().to_string();
    assert_eq!(non_ascii(t.backend().buffer()), Vec::<String>::new());
    // The sparkline (40s, 52s, 3s, 47.5s, 12s scaled to the longest) and the status mark.
    assert!(screen.contains("history   +#_*:  median"), "{screen}");
    assert!(screen.contains("status    x failed"), "{screen}");
    let mut app = ascii(busy_app(100, 44));
    update(&mut app, Action::Help);
    let t = render(&app);
    assert_eq!(non_ascii(t.backend().buffer()), Vec::<String>::new());
    assert!(
        t.backend().to_string().contains("k up "),
        "arrow keys by name"
    );
    let mut app = ascii(busy_app(120, 20));
    update(&mut app, Action::Jobs);
    assert_eq!(
        non_ascii(render(&app).backend().buffer()),
        Vec::<String>::new()
    );
    let app = ascii(hash_mismatch_log_app());
    assert_eq!(
        non_ascii(render(&app).backend().buffer()),
        Vec::<String>::new()
    );
}

fn load(text: &str, terminal: Terminal) -> Result<Theme> {
    Theme::load(&Config::parse(text).unwrap(), terminal)
}

const COLOUR_UTF8: Terminal = Terminal {
    no_color: false,
    utf8: true,
};

fn error(text: &str) -> String {
    format!("{:#}", load(text, COLOUR_UTF8).unwrap_err())
}

#[test]
fn an_unknown_role_is_an_error_naming_line_role_and_the_likely_one() {
    let err = error("[theme]\nborder = \"red\"\nselction = \"red\"\n");
    assert!(err.starts_with("config.toml:3: [theme] selction:"), "{err}");
    assert!(err.contains("did you mean `selection`?"), "{err}");
    assert!(err.contains("status_ok"), "lists the roles: {err}");
}

#[test]
fn a_bad_colour_is_an_error_naming_line_role_and_the_likely_one() {
    let err = error("[theme]\n\nstatus_ok = \"grene\"\n");
    assert!(
        err.starts_with("config.toml:3: [theme] status_ok = \"grene\": not a colour"),
        "{err}"
    );
    assert!(
        err.contains("did you mean `green`?") && err.contains("#rrggbb"),
        "{err}"
    );
    let err = error("[theme]\ntitle_bar = { fg = \"white\",\n  bg = \"#12345\" }\n");
    assert!(
        err.starts_with("config.toml:3: [theme] title_bar.bg = \"#12345\""),
        "{err}"
    );
    let err = error("[theme]\nborder = { modifiers = [\"bold\", \"bld\"] }\n");
    assert!(
        err.starts_with("config.toml:2: [theme] border.modifiers: unknown modifier `bld`"),
        "{err}"
    );
    assert!(err.contains("did you mean `bold`?"), "{err}");
}

#[test]
fn errors_name_the_real_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[jobs]\n\n[theme]\nmuted = \"nope\"\n",
    )
    .unwrap();
    let config = Config::load_from(dir.path()).unwrap();
    let err = format!("{:#}", Theme::load(&config, COLOUR_UTF8).unwrap_err());
    let file = dir.path().join("config.toml");
    assert!(
        err.starts_with(&format!("{}:4: [theme] muted", file.display())),
        "{err}"
    );
}

#[test]
fn overrides_set_colours_and_modifiers() {
    let theme = load(
        "[theme]\nstatus_ok = \"#00ff00\"\nselection = { bg = \"blue\", fg = \"white\", modifiers = [\"bold\"] }\nmuted = \"244\"\n",
        COLOUR_UTF8,
    )
    .unwrap();
    assert_eq!(theme.status_ok.fg, Some(Color::Rgb(0, 255, 0)));
    assert_eq!(theme.selection.bg, Some(Color::Blue));
    assert_eq!(theme.selection.fg, Some(Color::White));
    assert_eq!(
        theme.selection.add_modifier,
        Modifier::BOLD,
        "replaces REVERSED"
    );
    assert_eq!(theme.muted.fg, Some(Color::Indexed(244)));
    // Everything else stays the default.
    assert_eq!(theme.border, Theme::coloured().border);
}

#[test]
fn no_color_gives_the_monochrome_theme_and_the_config_still_wins() {
    let no_color = Terminal {
        no_color: true,
        utf8: true,
    };
    let theme = load("", no_color).unwrap();
    assert_eq!(theme, Theme::monochrome());
    assert!(!theme.ansi_colours);
    let mut mono = Theme::monochrome();
    for &role in Theme::ROLES {
        let s = *mono.role_mut(role).unwrap();
        assert!(s.fg.is_none() && s.bg.is_none(), "{role} has a colour");
    }
    let theme = load("[theme]\nstatus_failed = \"red\"\n", no_color).unwrap();
    assert_eq!(theme.status_failed.fg, Some(Color::Red));
    assert_eq!(theme.status_ok, Theme::monochrome().status_ok);
}

#[test]
fn glyphs_follow_the_config_then_the_locale() {
    let c_locale = Terminal {
        no_color: false,
        utf8: false,
    };
    assert!(load("", c_locale).unwrap().glyphs.ascii);
    assert!(!load("", COLOUR_UTF8).unwrap().glyphs.ascii);
    assert!(
        !load("glyphs = \"unicode\"\n", c_locale)
            .unwrap()
            .glyphs
            .ascii
    );
    assert!(
        load("glyphs = \"ascii\"\n", COLOUR_UTF8)
            .unwrap()
            .glyphs
            .ascii
    );
}

fn terminal(vars: &[(&str, &str)]) -> Terminal {
    Terminal::from_vars(|k| {
        vars.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| (*v).to_owned())
    })
}

#[test]
fn no_color_counts_when_set_and_not_empty() {
    assert!(!terminal(&[]).no_color);
    assert!(!terminal(&[("NO_COLOR", "")]).no_color);
    assert!(terminal(&[("NO_COLOR", "0")]).no_color);
}

#[test]
fn the_locale_is_read_as_setlocale_reads_it() {
    assert!(!terminal(&[]).utf8, "no locale is C: ASCII");
    assert!(terminal(&[("LANG", "en_US.UTF-8")]).utf8);
    assert!(terminal(&[("LANG", "C.utf8")]).utf8);
    assert!(terminal(&[("LC_CTYPE", "de_DE.Utf-8"), ("LANG", "C")]).utf8);
    assert!(
        !terminal(&[("LC_ALL", "C"), ("LANG", "en_US.UTF-8")]).utf8,
        "LC_ALL wins"
    );
    assert!(
        terminal(&[("LC_ALL", ""), ("LC_CTYPE", ""), ("LANG", "en_GB.UTF-8")]).utf8,
        "empty ones are skipped"
    );
    assert!(!terminal(&[("LANG", "en_US.ISO-8859-1")]).utf8);
}

#[test]
fn the_readme_documents_every_role() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let missing: Vec<&str> = Theme::ROLES
        .iter()
        .copied()
        .filter(|r| !readme.contains(&format!("`{r}`")))
        .collect();
    assert_eq!(missing, Vec::<&str>::new(), "roles missing from README.md");
}

#[test]
fn the_readme_example_config_loads() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("  ```toml\n").expect("a toml block") + "  ```toml\n".len();
    let end = start + readme[start..].find("  ```").unwrap();
    let example: String = readme[start..end]
        .lines()
        .map(|l| l.strip_prefix("  ").unwrap_or(l))
        .map(|l| format!("{l}\n"))
        .collect();
    let config = Config::parse(&example).unwrap();
    let theme = Theme::load(&config, COLOUR_UTF8).unwrap();
    assert!(theme.glyphs.ascii);
    assert_eq!(theme.status_ok.fg, Some(Color::Rgb(0xa6, 0xe3, 0xa1)));
}
