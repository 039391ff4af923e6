//! What the catalog subcommands (`check`, `list`, `show`, `options`) share: loading the catalog once,
//! paths shown relative to the current directory, and a buffered stdout that tolerates a closed
//! pipe and never lets a control character from the catalog or a log reach the terminal.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::catalog::{Diagnostic, Loaded, Package, load};
use crate::search::did_you_mean;

/// The loaded catalog for one command. It is leaked on purpose: the process exits right after the
/// command, and freeing 10k packages one allocation at a time cost 7% of `atwb list` (measured).
pub fn load_catalog(root: &Path) -> Result<&'static Loaded> {
    let loaded =
        load(root).with_context(|| format!("loading the catalog at {}", root.display()))?;
    Ok(Box::leak(Box::new(loaded)))
}

/// `path` relative to the current directory when it is below it, so editors and terminals can
/// jump to `file:line:col`.
pub fn shown_path(path: &Path) -> String {
    static CWD: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    let cwd = CWD.get_or_init(|| std::env::current_dir().ok());
    let rel = cwd.as_deref().and_then(|c| path.strip_prefix(c).ok());
    rel.unwrap_or(path).display().to_string()
}

/// What is being printed, which decides how a control character is made harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Text for people: a control character is shown as `\u{1b}`.
    Text,
    /// JSON from serde: it already escapes C0 inside strings but writes DEL and C1 (U+0080 to
    /// U+009F, which some terminals obey as CSI, OSC, ...) raw. Those can only occur inside a
    /// string, so they become `\u009b`: the same JSON value, nothing a terminal acts on.
    Json,
}

impl Mode {
    /// `--json` given or not.
    pub fn of(json: bool) -> Mode {
        if json { Mode::Json } else { Mode::Text }
    }
}

/// Run `body` on a buffered stdout that passes through [`Sanitized`]; a closed pipe
/// (`atwb list | head`) is not an error.
pub fn with_stdout(mode: Mode, body: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let stdout = io::stdout();
    let mut out = Sanitized::new(io::BufWriter::new(stdout.lock()), mode);
    match body(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

pub fn write_diagnostic(out: &mut dyn Write, d: &Diagnostic) -> io::Result<()> {
    writeln!(out, "{}", d.display_with_file(&shown_path(&d.file)))
}

/// The valid package `name`. A package with errors is reported on stderr with its diagnostics
/// (Ok(None): the caller exits 1); an unknown name is an error with a did-you-mean.
pub fn find_package<'a>(loaded: &'a Loaded, name: &str) -> Result<Option<&'a Package>> {
    if let Some(p) = loaded.catalog.get(name) {
        return Ok(Some(p));
    }
    // A package with errors is not in the catalog: say so instead of "not found".
    let own: Vec<&Diagnostic> = loaded
        .diagnostics
        .iter()
        .filter(|d| {
            d.file
                .parent()
                .and_then(|d| d.file_name())
                .is_some_and(|f| f == name)
        })
        .collect();
    if !own.is_empty() {
        let mut err = Sanitized::new(io::stderr().lock(), Mode::Text);
        writeln!(err, "atwb: package `{name}` has errors and was not loaded:")?;
        for d in own {
            write_diagnostic(&mut err, d)?;
        }
        err.flush()?;
        return Ok(None);
    }
    let names = loaded.catalog.packages.iter().map(|p| p.name.as_str());
    match did_you_mean(name, names) {
        Some(m) => bail!("no package named `{name}`; did you mean `{m}`?"),
        None => bail!("no package named `{name}` (run `atwb list` to see them all)"),
    }
}

/// Whether `c` must not reach a terminal as it is: C0 controls except newline and tab, DEL,
/// and C1 controls. (A catalog string or a builder's log line may carry `ESC ] 0 ; ... BEL`,
/// which would retitle the window, or OSC 52, which writes the clipboard.)
fn is_unsafe(c: char) -> bool {
    matches!(c, '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f'..='\u{9f}')
}

/// `s` with every unsafe control character written visibly as `\u{1b}` (Text mode rules).
/// Borrows when there is nothing to escape.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A writer that escapes control characters on their way to `inner` (see [`Mode`]). Works on
/// bytes, so it catches whatever a caller formats, and keeps a C1 character whole when a write
/// ends between its two UTF-8 bytes.
pub struct Sanitized<W: Write> {
    inner: W,
    mode: Mode,
    /// The last write ended with 0xC2, the lead byte of every C1 character.
    pending_lead: bool,
}

impl<W: Write> Sanitized<W> {
    pub fn new(inner: W, mode: Mode) -> Self {
        Sanitized {
            inner,
            mode,
            pending_lead: false,
        }
    }

    #[cfg(test)]
    fn into_inner(mut self) -> io::Result<W> {
        self.flush_lead()?;
        Ok(self.inner)
    }

    fn escape(&mut self, code: u8) -> io::Result<()> {
        match self.mode {
            Mode::Text => write!(self.inner, "\\u{{{code:x}}}"),
            Mode::Json => write!(self.inner, "\\u{code:04x}"),
        }
    }

    fn flush_lead(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.pending_lead) {
            self.inner.write_all(&[0xc2])?;
        }
        Ok(())
    }

    /// Whether byte `b` alone (C0 or DEL) is escaped in this mode.
    fn escapes_byte(&self, b: u8) -> bool {
        match self.mode {
            Mode::Text => (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f,
            // serde escapes C0 in strings; newline, tab and CR outside them are whitespace.
            Mode::Json => (b < 0x20 && !matches!(b, b'\n' | b'\t' | b'\r')) || b == 0x7f,
        }
    }
}

impl<W: Write> Write for Sanitized<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let is_c1 = |b: u8| (0x80..=0x9f).contains(&b);
        let mut i = 0;
        if self.pending_lead {
            self.pending_lead = false;
            match buf.first() {
                Some(&b) if is_c1(b) => {
                    self.escape(b)?;
                    i = 1;
                }
                _ => self.inner.write_all(&[0xc2])?,
            }
        }
        let mut start = i;
        while i < buf.len() {
            let b = buf[i];
            let (code, len) = if self.escapes_byte(b) {
                (b, 1)
            } else if b == 0xc2 {
                match buf.get(i + 1) {
                    Some(&next) if is_c1(next) => (next, 2),
                    Some(_) => {
                        i += 1;
                        continue;
                    }
                    None => {
                        self.inner.write_all(&buf[start..i])?;
                        self.pending_lead = true;
                        return Ok(());
                    }
                }
            } else {
                i += 1;
                continue;
            };
            self.inner.write_all(&buf[start..i])?;
            self.escape(code)?;
            i += len;
            start = i;
        }
        self.inner.write_all(&buf[start..])
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_lead()?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(mode: Mode, pieces: &[&[u8]]) -> String {
        let mut w = Sanitized::new(Vec::new(), mode);
        for p in pieces {
            w.write_all(p).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn text_mode_shows_controls_and_keeps_newline_tab_and_text() {
        let hostile = "a\u{1b}]0;pwned\u{7}b\tc\nd\re\u{9b}2Jf\u{7f}é日";
        let out = through(Mode::Text, &[hostile.as_bytes()]);
        assert_eq!(
            out,
            "a\\u{1b}]0;pwned\\u{7}b\tc\nd\\u{d}e\\u{9b}2Jf\\u{7f}é日"
        );
        assert_eq!(escape_controls(hostile), out);
        assert!(matches!(escape_controls("plain é"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_c1_character_split_across_writes_is_still_escaped() {
        let bytes = "x\u{9d}y".as_bytes();
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(through(Mode::Text, &[a, b]), "x\\u{9d}y", "cut at {cut}");
        }
        // A lone 0xC2 lead before a non-C1 byte (e.g. U+00E9 is C3 A9, U+00A0 is C2 A0).
        assert_eq!(through(Mode::Text, &["\u{a0}".as_bytes()]), "\u{a0}");
        let nbsp = "\u{a0}".as_bytes();
        assert_eq!(through(Mode::Text, &[&nbsp[..1], &nbsp[1..]]), "\u{a0}");
    }

    #[test]
    fn json_mode_keeps_the_same_json_value() {
        let value = serde_json::json!({ "d": "t\u{1b}]52;c;aGk=\u{7}\u{9b}31m\u{7f}" });
        let mut w = Sanitized::new(Vec::new(), Mode::Json);
        serde_json::to_writer_pretty(&mut w, &value).unwrap();
        let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert!(!out.chars().any(is_unsafe), "{out:?}");
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, value);
    }
}

/// A diagnostic as `check --json` and `set --json` print it.
#[derive(serde::Serialize)]
pub(super) struct JsonDiagnostic<'a> {
    file: String,
    line: usize,
    column: usize,
    field: &'a str,
    message: &'a str,
    hint: Option<&'a str>,
}

impl<'a> From<&'a Diagnostic> for JsonDiagnostic<'a> {
    fn from(d: &'a Diagnostic) -> Self {
        JsonDiagnostic {
            file: shown_path(&d.file),
            line: d.line,
            column: d.column,
            field: &d.field,
            message: &d.message,
            hint: d.hint.as_deref(),
        }
    }
}
