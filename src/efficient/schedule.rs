//! The block schedule: which `(query block × key block)` tiles the kernel computes, in which
//! order, and how each tile is cut into micro-tiles.

use super::kernel::LANES;

/// How a computed tile of the `(query block × key block)` grid is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileKind {
    /// Every key of the block is at or before every query of the block: no mask needed.
    Full,
    /// The tile on the diagonal (same query and key block): key `j` is hidden from query `i`
    /// when `j > i`, the only place the causal mask is applied.
    Diagonal,
}

/// One tile the kernel computes: the scores of query block `query_block` against key block
/// `key_block` (each `block_size` tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// Queries `query_block · block_size ..` of the (padded) sequence.
    pub query_block: usize,
    /// Keys `key_block · block_size ..`.
    pub key_block: usize,
    /// Masked inside or not.
    pub kind: TileKind,
}

/// Number of blocks of `block_size` tokens that cover `tokens` tokens (the last one padded).
pub fn num_blocks(tokens: usize, block_size: usize) -> usize {
    tokens.div_ceil(block_size.max(1))
}

/// The tiles the kernel computes for one head, in the order it computes them: for each query
/// block, the key blocks `0 ..= query_block`. Tiles with `key_block > query_block` hold only
/// future keys and are **skipped**: they are not in the list. With `n` blocks that is
/// `n (n + 1) / 2` tiles out of `n²`.
///
/// ```
/// use ch03_attention::efficient::{TileKind, block_schedule};
/// let tiles = block_schedule(10, 4); // 3 blocks of 4 (the last padded): 6 of 9 tiles
/// assert_eq!(tiles.len(), 6);
/// assert_eq!(tiles.iter().filter(|t| t.kind == TileKind::Diagonal).count(), 3);
/// ```
pub fn block_schedule(tokens: usize, block_size: usize) -> Vec<Tile> {
    let n = num_blocks(tokens, block_size);
    (0..n)
        .flat_map(|query_block| {
            (0..=query_block).map(move |key_block| Tile {
                query_block,
                key_block,
                kind: if key_block == query_block {
                    TileKind::Diagonal
                } else {
                    TileKind::Full
                },
            })
        })
        .collect()
}

/// Where the micro-tiles of `n` columns go, as (first column, width): 6 wide while 6 fit, then
/// 2 wide, then 1. The kernel cuts three things this way: a tile's keys (always an even number:
/// the block and the diagonal limit are multiples of 16, so no 1-wide tile), a head's value
/// features, and a projection's outputs. Each number is computed the same way in any width; the
/// wide one is faster.
pub(super) fn micro_tiles(n: usize) -> impl Iterator<Item = (usize, usize)> {
    let six = n / 6 * 6;
    let two = six + (n - six) / 2 * 2;
    let sixes = (0..six).step_by(6).map(|j| (j, 6));
    let twos = (six..two).step_by(2).map(|j| (j, 2));
    sixes.chain(twos).chain((two..n).map(|j| (j, 1)))
}

/// Runs `$call` with `$width`, a width that [`micro_tiles`] hands out (6, 2 or 1), as the
/// constant `$w`, so that a micro-kernel compiled for each width runs:
/// `by_width!(width, |C| simd.score_microtile::<C>(…))`.
macro_rules! by_width {
    ($width:expr, |$w:ident| $call:expr) => {
        match $width {
            6 => {
                const $w: usize = 6;
                $call
            }
            2 => {
                const $w: usize = 2;
                $call
            }
            _ => {
                const $w: usize = 1;
                $call
            }
        }
    };
}
pub(super) use by_width;

/// How many groups of [`LANES`] queries of query block `query_block` (of `block` tokens, a
/// multiple of `LANES`) hold real tokens: all of them but in the last block, which may be mostly
/// padding. Padding queries would only produce outputs that are thrown away.
pub(super) fn real_query_groups(tokens: usize, query_block: usize, block: usize) -> usize {
    (tokens - query_block * block)
        .div_ceil(LANES)
        .min(block / LANES)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Six columns at a time while they fit, then two, then one.
    #[test]
    fn micro_tiles_cover_the_columns_six_then_two_then_one() {
        let tiles = |n| micro_tiles(n).collect::<Vec<_>>();
        assert_eq!(tiles(0), []);
        assert_eq!(tiles(1), [(0, 1)]);
        assert_eq!(tiles(2), [(0, 2)]);
        assert_eq!(tiles(12), [(0, 6), (6, 6)]);
        assert_eq!(tiles(13), [(0, 6), (6, 6), (12, 1)]);
        assert_eq!(tiles(16), [(0, 6), (6, 6), (12, 2), (14, 2)]);
        assert_eq!(tiles(17), [(0, 6), (6, 6), (12, 2), (14, 2), (16, 1)]);
        assert_eq!(tiles(32).len(), 5 + 1);
    }

    /// Full blocks keep all their groups; the last block only those with real tokens.
    #[test]
    fn real_query_groups_skip_only_padding() {
        assert_eq!(real_query_groups(1000, 0, 512), 32);
        assert_eq!(real_query_groups(1000, 1, 512), 31); // 488 tokens
        assert_eq!(real_query_groups(1000, 15, 64), 3); // 40 tokens
        assert_eq!(real_query_groups(1024, 1, 512), 32);
        assert_eq!(real_query_groups(1, 0, 512), 1);
    }
}
