//! A counting global allocator: the system allocator, plus the bytes held right now, the peak
//! since the last [`start`] and the largest single allocation since then. Installed by the two
//! programs that measure memory, `tests/efficient_alloc.rs` and `benches/bench_mha.rs`, each
//! through `#[path]`; never part of the library.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The allocator; the including program's global one.
pub struct Counting;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

fn grow(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Relaxed) + bytes;
    PEAK.fetch_max(now, Relaxed);
    LARGEST.fetch_max(bytes, Relaxed);
}

// SAFETY: every method forwards to the system allocator with the caller's arguments and returns
// its result unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as it is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with this layout.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; `new_size` is the caller's, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            CURRENT.fetch_sub(layout.size(), Relaxed);
            grow(new_size);
        }
        p
    }
}

/// Starts a measurement; returns the bytes held right now, for [`since`].
pub fn start() -> usize {
    let now = CURRENT.load(Relaxed);
    PEAK.store(now, Relaxed);
    LARGEST.store(0, Relaxed);
    now
}

/// Since [`start`] returned `before`: (largest single allocation, peak bytes held beyond
/// `before`), both in bytes.
pub fn since(before: usize) -> (usize, usize) {
    (LARGEST.load(Relaxed), PEAK.load(Relaxed) - before)
}
