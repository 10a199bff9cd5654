//! Scoped threads for the efficient multi-head path: jobs taken from a shared queue, no dependency
//! beyond `std`. Which thread runs a job never changes the job's result, so the output of a
//! forward pass is the same, bit for bit, whatever the thread count.

use std::sync::Mutex;

/// Runs `work` on every job, on `threads` threads (scoped: they end before this returns; the
/// calling thread is one of them, and with one thread or one job nothing is spawned). Each thread
/// makes its scratch memory once with `scratch`, then takes the next job from a shared queue
/// until none is left, so a thread that another program slows down simply takes fewer jobs.
pub(super) fn run_parallel<J: Send, S>(
    threads: usize,
    jobs: Vec<J>,
    scratch: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, J) + Sync,
) {
    let n = threads.min(jobs.len());
    if n <= 1 {
        let mut s = scratch();
        jobs.into_iter().for_each(|job| work(&mut s, job));
        return;
    }
    let queue = Mutex::new(jobs.into_iter());
    let worker = || {
        let mut s = scratch();
        loop {
            // The lock is held only to take a job (the guard is dropped at the `;`). A poisoned
            // lock means another thread panicked, which the scope re-raises: carry on.
            let job = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
            let Some(job) = job else { break };
            work(&mut s, job);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..n {
            scope.spawn(worker);
        }
        worker();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_parallel_uses_the_threads_it_is_given() {
        // Two jobs that each wait for the other: they finish only if they run at the same time.
        let barrier = std::sync::Barrier::new(2);
        let ran = std::sync::atomic::AtomicUsize::new(0);
        run_parallel(
            2,
            vec![(), ()],
            || (),
            |(), ()| {
                barrier.wait();
                ran.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            },
        );
        assert_eq!(ran.into_inner(), 2);
    }
}
