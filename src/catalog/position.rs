//! Byte offsets to 1-based line:column for diagnostics. One index per file: building it is one
//! pass over the text, and each position is then a binary search over the line starts plus a
//! short count of characters, so N diagnostics in a file of L lines cost O(text + N log L)
//! instead of scanning from the start of the file for each one (quadratic: 40,000 diagnostics in
//! a 580 KB file took half a minute).

#[cfg(test)]
use std::cell::Cell;

/// Bytes per checkpoint of the character count. Columns are counted in characters; in a text
/// with multi-byte characters they are counted from the nearest checkpoint before the offset, so
/// a very long line costs no more than a short one.
const BLOCK: usize = 256;

pub struct LineIndex<'a> {
    src: &'a str,
    /// Byte offset where each line starts; `starts[0] == 0`.
    starts: Vec<usize>,
    /// Characters before each `BLOCK`-byte block; empty when the text is ASCII (characters are
    /// bytes then).
    chars_before_block: Vec<usize>,
    /// Steps spent by `position`, so a test can count the cost instead of timing it.
    #[cfg(test)]
    work: Cell<usize>,
}

#[cfg(test)]
thread_local! {
    static BUILDS: Cell<usize> = const { Cell::new(0) };
}

/// How many indexes this thread has built (tests check there is one per file).
#[cfg(test)]
pub fn builds_on_this_thread() -> usize {
    BUILDS.with(Cell::get)
}

impl<'a> LineIndex<'a> {
    pub fn new(src: &'a str) -> Self {
        #[cfg(test)]
        BUILDS.with(|b| b.set(b.get() + 1));
        let bytes = src.as_bytes();
        let starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1))
            .collect();
        let chars_before_block = if src.is_ascii() {
            Vec::new()
        } else {
            // One entry per block, plus the total: an offset at the very end of a text whose
            // length is a multiple of BLOCK falls in the block after the last.
            let mut before = Vec::with_capacity(bytes.len() / BLOCK + 2);
            let mut total = 0;
            for block in bytes.chunks(BLOCK) {
                before.push(total);
                total += chars_in(block);
            }
            before.push(total);
            before
        };
        LineIndex {
            src,
            starts,
            chars_before_block,
            #[cfg(test)]
            work: Cell::new(0),
        }
    }

    /// 1-based line and column (in characters) of byte `offset`; past the end means the end.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        // The last line starting at or before `offset`.
        let line = self.starts.partition_point(|&s| s <= offset);
        #[cfg(test)]
        self.count(usize::BITS as usize - self.starts.len().leading_zeros() as usize);
        let line_start = self.starts[line - 1];
        (
            line,
            1 + self.chars_before(offset) - self.chars_before(line_start),
        )
    }

    /// Characters that start before byte `offset`.
    fn chars_before(&self, offset: usize) -> usize {
        if self.chars_before_block.is_empty() {
            return offset;
        }
        let block = offset / BLOCK;
        let from = block * BLOCK;
        #[cfg(test)]
        self.count(offset - from);
        self.chars_before_block[block] + chars_in(&self.src.as_bytes()[from..offset])
    }

    #[cfg(test)]
    fn count(&self, steps: usize) {
        self.work.set(self.work.get() + steps);
    }

    #[cfg(test)]
    fn work(&self) -> usize {
        self.work.get()
    }
}

/// Characters in UTF-8 bytes: every byte that is not a continuation byte starts one.
fn chars_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

/// 1-based line and column of one offset; for several in one text, build a [`LineIndex`].
pub fn line_column(src: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(src).position(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_in_characters() {
        let src = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 6), (2, 1));
        let x = src.find('"').unwrap();
        assert_eq!(line_column(src, x), (2, 6));
        assert_eq!(line_column(src, src.len() + 5), (3, 1));
        assert_eq!(line_column("", 0), (1, 1));
        assert_eq!(line_column("\n\n", 2), (3, 1));
        // The end of a non-ASCII text whose length is a multiple of the checkpoint block (found
        // by the loader's fuzz test).
        let src = format!("é\n{}", "a".repeat(BLOCK - 3));
        assert_eq!(src.len(), BLOCK);
        assert_eq!(line_column(&src, src.len()), (2, BLOCK - 2));
    }

    /// Every offset of a mixed ASCII / multi-byte text against a plain count from the start.
    #[test]
    fn positions_agree_with_counting_from_the_start() {
        let line = "ab é ü 😀 {x}\n";
        let src: String = (0..700)
            .map(|i| if i % 3 == 0 { "plain\n" } else { line })
            .collect();
        let src = format!("{src}{}", "ünï".repeat(500));
        let index = LineIndex::new(&src);
        for (offset, _) in src.char_indices().chain([(src.len(), ' ')]) {
            let before = &src[..offset];
            let line = 1 + before.matches('\n').count();
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = 1 + src[start..offset].chars().count();
            assert_eq!(index.position(offset), (line, column), "offset {offset}");
        }
    }

    /// N positions in a file of L lines cost about N log L steps, not N times the file: the
    /// cost that made 40,000 diagnostics in one file take half a minute. Counted, not timed.
    #[test]
    fn positions_cost_a_binary_search_not_a_scan_from_the_start() {
        let lines: usize = 4000;
        let src: String = (0..lines)
            .map(|i| format!("key_{i:05} = \"value\"\n"))
            .collect();
        let index = LineIndex::new(&src);
        let offsets: Vec<usize> = src.match_indices("key_").map(|(i, _)| i).collect();
        for &o in &offsets {
            index.position(o);
        }
        let log = (usize::BITS - lines.leading_zeros()) as usize;
        let bound = offsets.len() * (log + 2);
        assert!(
            index.work() <= bound,
            "{} positions took {} steps, more than {bound}",
            offsets.len(),
            index.work()
        );
        // A file with non-ASCII text, all on one line: columns are counted from the nearest
        // checkpoint, not from the start of the (long) line.
        let src = "ü = 1, ".repeat(20_000);
        let index = LineIndex::new(&src);
        let offsets: Vec<usize> = src.match_indices('=').map(|(i, _)| i).collect();
        for &o in &offsets {
            index.position(o);
        }
        let bound = offsets.len() * (2 + 2 * 256);
        assert!(
            index.work() <= bound,
            "{} positions on one line took {} steps, more than {bound}",
            offsets.len(),
            index.work()
        );
    }
}
