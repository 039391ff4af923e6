//! The entries of a nix `builders` value (atwb's `[jobs] builders` or nix's own setting) as nix
//! splits them: at `;` and newlines, each trimmed and cut at `#` (a comment, anywhere in the
//! entry), blank ones skipped; an entry `@FILE` means FILE's lines are entries too, by the same
//! rules (a missing FILE has none). One reading for the config check (`checks`) and for
//! `nix::build_hook`, which asks whether any machine is named at all.

/// One entry of a `builders` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    /// A machine: `URI [SYSTEMS [KEY [MAX-JOBS [SPEED [FEATURES [MANDATORY [HOST-KEY]]]]]]]`.
    Machine(&'a str),
    /// `@FILE`: nix reads more entries from FILE (the path trimmed).
    File(&'a str),
}

/// Each entry of `value` with its byte offset in `value`, in order.
pub fn entries(value: &str) -> impl Iterator<Item = (usize, Entry<'_>)> {
    let mut at = 0;
    value.split([';', '\n']).filter_map(move |piece| {
        let start = at;
        at += piece.len() + 1;
        let kept = piece.split('#').next().unwrap_or("");
        let entry = kept.trim();
        if entry.is_empty() {
            return None;
        }
        let offset = start + (kept.len() - kept.trim_start().len());
        Some(match entry.strip_prefix('@') {
            Some(file) => (offset, Entry::File(file.trim())),
            None => (offset, Entry::Machine(entry)),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_split_cut_at_comments_and_placed() {
        let value =
            "ssh://a x86_64-linux # fast one\n  # only a comment\n;\n@ /etc/nix/machines ; b";
        let got: Vec<_> = entries(value).collect();
        assert_eq!(
            got,
            [
                (0, Entry::Machine("ssh://a x86_64-linux")),
                (53, Entry::File("/etc/nix/machines")),
                (75, Entry::Machine("b")),
            ]
        );
        for (at, e) in &got {
            let text = match e {
                Entry::Machine(m) => *m,
                Entry::File(_) => "@",
            };
            assert!(value[*at..].starts_with(text), "{at}: {e:?}");
        }
        assert_eq!(entries("").count(), 0);
        assert_eq!(entries(" ; \n #x").count(), 0);
    }
}
