//! A unified diff (`diff -u` layout, 3 lines of context) of two small texts, to show an edit
//! of `package.toml` before it is written. Line-based LCS: package files are a few KB.

/// One line of the edit script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same(usize, usize),
    Del(usize),
    Add(usize),
}

fn script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut ops) = (0, 0, Vec::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push(Op::Same(i, j));
            (i, j) = (i + 1, j + 1);
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            // Deletions first within a change, as `diff -u` prints them.
            if i < n && lcs[i + 1][j] == lcs[i][j + 1] {
                ops.push(Op::Del(i));
                i += 1;
            } else {
                ops.push(Op::Add(j));
                j += 1;
            }
        } else {
            ops.push(Op::Del(i));
            i += 1;
        }
    }
    ops
}

/// `--- a/<label>` / `+++ b/<label>` and the hunks; empty when the texts are equal.
pub fn unified(label: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = script(&a, &b);
    const CONTEXT: usize = 3;
    let changed: Vec<usize> = (0..ops.len())
        .filter(|&k| !matches!(ops[k], Op::Same(..)))
        .collect();
    let mut out = format!("--- a/{label}\n+++ b/{label}\n");
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(CONTEXT);
        let mut end = changed[k];
        // Changes closer than two contexts share a hunk.
        while k < changed.len() && changed[k] <= end + 2 * CONTEXT {
            end = changed[k];
            k += 1;
        }
        let end = (end + CONTEXT + 1).min(ops.len());
        let hunk = &ops[start..end];
        let first = |pick: fn(&Op) -> Option<usize>, fallback: usize| {
            hunk.iter().find_map(pick).unwrap_or(fallback)
        };
        let a_start = first(
            |o| match o {
                Op::Same(i, _) | Op::Del(i) => Some(*i),
                Op::Add(_) => None,
            },
            0,
        );
        let b_start = first(
            |o| match o {
                Op::Same(_, j) | Op::Add(j) => Some(*j),
                Op::Del(_) => None,
            },
            0,
        );
        let a_len = hunk.iter().filter(|o| !matches!(o, Op::Add(_))).count();
        let b_len = hunk.iter().filter(|o| !matches!(o, Op::Del(_))).count();
        out.push_str(&format!(
            "@@ -{},{a_len} +{},{b_len} @@\n",
            a_start + usize::from(a_len > 0),
            b_start + usize::from(b_len > 0)
        ));
        for op in hunk {
            match *op {
                Op::Same(i, _) => out.push_str(&format!(" {}\n", a[i])),
                Op::Del(i) => out.push_str(&format!("-{}\n", a[i])),
                Op::Add(j) => out.push_str(&format!("+{}\n", b[j])),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unified;

    #[test]
    fn hunks_with_context_as_diff_u_prints_them() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n";
        let new = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nL\nm\n";
        assert_eq!(
            unified("x.toml", old, new),
            "--- a/x.toml\n+++ b/x.toml\n\
             @@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n\
             @@ -9,5 +9,5 @@\n i\n j\n k\n-l\n+L\n m\n"
        );
        assert_eq!(unified("x", "same\n", "same\n"), "");
        // Close changes share one hunk.
        assert_eq!(
            unified("x", "1\n2\n3\n4\n", "1\nX\n3\nY\n"),
            "--- a/x\n+++ b/x\n@@ -1,4 +1,4 @@\n 1\n-2\n+X\n 3\n-4\n+Y\n"
        );
    }
}
