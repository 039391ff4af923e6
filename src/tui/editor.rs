//! Which `$EDITOR` to run and how to open it at a line. Editors that take `+LINE FILE` get the
//! line of the first error; any other editor gets the file alone (a `+12` it does not know would
//! be opened as a file named `+12`).

/// Editors known to accept `+LINE` before the file.
const TAKES_PLUS_LINE: &[&str] = &[
    "vi",
    "vim",
    "nvim",
    "gvim",
    "view",
    "vis",
    "nano",
    "pico",
    "emacs",
    "emacsclient",
    "mg",
    "jed",
    "joe",
    "jmacs",
    "jstar",
    "ne",
    "helix",
    "hx",
    "kak",
    "micro",
    "mcedit",
    "ed",
];

/// `$VISUAL`, else `$EDITOR`, else `vi`.
pub fn editor_from_env() -> String {
    ["VISUAL", "EDITOR"]
        .into_iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".to_owned())
}

/// Whether the editor `command` (its first word, the program, by its file name) takes `+LINE`.
pub fn takes_line(command: &str) -> bool {
    let program = command.split_whitespace().next().unwrap_or_default();
    let name = program.rsplit('/').next().unwrap_or(program);
    TAKES_PLUS_LINE.contains(&name)
}

/// The shell command that opens `"$1"` in `editor`, at `line` when it takes one. Run as
/// `sh -c CMD atwb-editor FILE`, so the editor string may carry arguments (`code --wait`) and
/// the file name is never parsed by the shell.
pub fn shell_command(editor: &str, line: Option<usize>) -> String {
    match line {
        Some(n) if n > 0 && takes_line(editor) => format!("{editor} +{n} \"$1\""),
        _ => format!("{editor} \"$1\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_goes_only_to_editors_that_take_it() {
        assert_eq!(shell_command("vim", Some(12)), "vim +12 \"$1\"");
        assert_eq!(
            shell_command("/usr/bin/nvim -u NONE", Some(3)),
            "/usr/bin/nvim -u NONE +3 \"$1\""
        );
        assert_eq!(shell_command("hx", Some(7)), "hx +7 \"$1\"");
        assert_eq!(
            shell_command("emacsclient -t", Some(1)),
            "emacsclient -t +1 \"$1\""
        );
        assert_eq!(shell_command("code --wait", Some(12)), "code --wait \"$1\"");
        assert_eq!(
            shell_command("/tmp/my-script.sh", Some(12)),
            "/tmp/my-script.sh \"$1\""
        );
        assert_eq!(shell_command("vim", None), "vim \"$1\"");
        // Line 0 means "the file as a whole".
        assert_eq!(shell_command("vim", Some(0)), "vim \"$1\"");
    }
}
