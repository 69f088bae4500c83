//! The global allocator: mimalloc, with word-aligned requests made the plain way.
//!
//! The `mimalloc` crate hands every request to `mi_malloc_aligned`. Its fast path needs a free
//! block already at hand in the page of that size; when there is none (the page used up, or its
//! blocks freed by another thread and not yet collected) it falls to mimalloc's generic aligned
//! path, which for a size that is not a power of two over-allocates past the small sizes: a
//! 48-byte member of a request's tree came out of a block of over a kilobyte. Every mimalloc
//! block is aligned to a word (its sizes are multiples of one), so for word alignment or less
//! plain `mi_malloc` gives what was asked, and only larger alignments take the aligned calls.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

pub struct Allocator;

/// The alignment every mimalloc block has.
const WORD: usize = std::mem::size_of::<usize>();

// SAFETY: each call is mimalloc's own for the layout's size and alignment: blocks from
// `mi_malloc` are word-aligned, larger alignments go to the aligned calls, and `mi_free` frees
// a block from either.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: plain allocation calls; a null return is passed on as failure.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_malloc(layout.size()) as *mut u8
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`, zeroed.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_zalloc(layout.size()) as *mut u8
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, so from mimalloc.
        unsafe { mi::mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`; the new block keeps its
        // alignment (plain blocks are word-aligned, the aligned call keeps larger ones).
        unsafe {
            if layout.align() <= WORD {
                mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
            } else {
                mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_has_the_alignment_and_size_asked() {
        // Sizes that are powers of two and sizes that are not, up to past mimalloc's small
        // sizes, and alignments on both sides of a word, many times each so blocks come from
        // fresh and reused pages alike. Each block is filled and read back whole, grown, and
        // freed.
        let a = Allocator;
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 7, 8, 24, 40, 48, 56, 96, 200, 1000, 1025, 70_000] {
                let layout = Layout::from_size_align(size.max(align), align).unwrap();
                let mut blocks = Vec::new();
                for round in 0..64u8 {
                    // SAFETY: a non-zero layout; the block is used within its size and freed
                    // once, with the layout it was made or reallocated with.
                    unsafe {
                        let p = if round % 2 == 0 {
                            a.alloc(layout)
                        } else {
                            a.alloc_zeroed(layout)
                        };
                        assert!(!p.is_null());
                        assert_eq!(p as usize % align, 0, "{size} bytes aligned to {align}");
                        if round % 2 == 1 {
                            assert!((0..layout.size()).all(|i| *p.add(i) == 0));
                        }
                        std::ptr::write_bytes(p, round, layout.size());
                        blocks.push((p, layout, round));
                    }
                }
                for (p, layout, round) in blocks {
                    // SAFETY: as above.
                    unsafe {
                        assert!((0..layout.size()).all(|i| *p.add(i) == round));
                        let grown = layout.size() * 3;
                        let q = a.realloc(p, layout, grown);
                        assert!(!q.is_null());
                        assert_eq!(
                            q as usize % align,
                            0,
                            "grown to {grown}, aligned to {align}"
                        );
                        assert!((0..layout.size()).all(|i| *q.add(i) == round));
                        let grown = Layout::from_size_align(grown, align).unwrap();
                        a.dealloc(q, grown);
                    }
                }
            }
        }
    }
}
