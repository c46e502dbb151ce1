/* The engine's thread pool: persistent workers that share a range [0, n) with
 * the calling thread.
 *
 * A job is cut into chunks that threads claim one at a time from a shared
 * ticket, so the split adapts to whoever is running: on a busy machine a
 * worker the OS has not scheduled yet simply finds no chunk left, and the
 * caller never waits for a thread that has not started. The ticket packs the
 * job's generation with the next chunk index, so a worker that wakes late can
 * never claim a chunk of a job that is over (its compare-and-swap fails).
 *
 * One job at a time: kernels are called from Python (cffi releases the GIL, so
 * two Python threads may call in at once; the second runs its job inline), and
 * a kernel running inside a job that asks for the pool runs inline too.
 * Workers spin briefly between jobs, which keeps back-to-back kernels cheap,
 * then sleep on a condition variable. */
#define _GNU_SOURCE
#include "ft_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#define FT_MAX_THREADS 64
#define FT_CHUNKS_PER_THREAD 4 /* chunks a job is cut into per thread, for balance under noise */
#define FT_WORKER_SPINS 1000   /* pause loops a worker waits for the next job before sleeping (~25 us) */
#define FT_CALLER_SPINS 2000   /* pause loops the caller waits for claimed chunks before yielding its CPU */

static inline void ft_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static struct {
    pthread_mutex_t lock; /* guards sleeping workers and the condition variable */
    pthread_cond_t wake;
    pthread_mutex_t busy; /* held by the thread running a job */
    pthread_t threads[FT_MAX_THREADS];
    int started; /* workers running (indices 1..started) */
    _Atomic int wanted; /* threads to use, the caller included; 0 until first asked */
    uint32_t generation; /* of the last job published (written by the job's caller only) */
    _Atomic uint64_t ticket; /* generation << 32 | next chunk to claim */
    _Atomic int64_t done; /* chunks of the current job finished */
    _Atomic int sleepers;
    _Atomic int shutting_down;
    /* the current job; written before the ticket is published */
    _Atomic(ft_range_fn) fn;
    _Atomic(void *) ctx;
    _Atomic int64_t n, chunk, chunks;
    _Atomic int threads_in_job; /* workers with index >= this stay out */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .busy = PTHREAD_MUTEX_INITIALIZER};

/* Set while this thread runs a chunk: a nested ft_parallel_for runs inline. */
static _Thread_local int ft_in_job;
/* 0 for callers, 1.. for workers (ft_parallel_thread_index). */
static _Thread_local int ft_thread_index;

int ft_parallel_thread_index(void) { return ft_thread_index; }

/* Claim and run chunks of job `generation` until none is left. */
static void run_chunks(uint32_t generation) {
    for (;;) {
        uint64_t ticket = atomic_load_explicit(&pool.ticket, memory_order_acquire);
        if ((uint32_t)(ticket >> 32) != generation) return;
        const int64_t chunks = atomic_load_explicit(&pool.chunks, memory_order_relaxed);
        const int64_t k = (int64_t)(ticket & 0xffffffffu);
        if (k >= chunks) return;
        const ft_range_fn fn = atomic_load_explicit(&pool.fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&pool.ctx, memory_order_relaxed);
        const int64_t n = atomic_load_explicit(&pool.n, memory_order_relaxed);
        const int64_t chunk = atomic_load_explicit(&pool.chunk, memory_order_relaxed);
        /* Success proves the job is still `generation` with chunk k unclaimed, so the fields read
         * above are this job's: a newer job is only published after every chunk of this one is done. */
        if (!atomic_compare_exchange_weak_explicit(&pool.ticket, &ticket, ticket + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue;
        const int64_t begin = k * chunk;
        const int64_t end = begin + chunk < n ? begin + chunk : n;
        ft_in_job = 1;
        fn(ctx, begin, end);
        ft_in_job = 0;
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_acq_rel);
    }
}

static uint32_t published_generation(void) {
    return (uint32_t)(atomic_load_explicit(&pool.ticket, memory_order_acquire) >> 32);
}

static void *worker_main(void *arg) {
    const int index = (int)(intptr_t)arg; /* 1..started */
    ft_thread_index = index;
    uint32_t seen = published_generation();
    for (;;) {
        int spins = 0;
        while (published_generation() == seen && spins < FT_WORKER_SPINS) {
            spins++;
            ft_cpu_relax();
        }
        if (published_generation() == seen) {
            atomic_fetch_add(&pool.sleepers, 1);
            pthread_mutex_lock(&pool.lock);
            while (published_generation() == seen && !atomic_load(&pool.shutting_down))
                pthread_cond_wait(&pool.wake, &pool.lock);
            pthread_mutex_unlock(&pool.lock);
            atomic_fetch_sub(&pool.sleepers, 1);
        }
        if (atomic_load(&pool.shutting_down)) return NULL;
        seen = published_generation();
        if (index < atomic_load_explicit(&pool.threads_in_job, memory_order_relaxed)) run_chunks(seen);
    }
}

static int default_threads(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int count = CPU_COUNT(&set);
        if (count > 0) return count < FT_MAX_THREADS ? count : FT_MAX_THREADS;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (n < FT_MAX_THREADS ? (int)n : FT_MAX_THREADS) : 1;
}

int ft_get_num_threads(void) {
    int wanted = atomic_load(&pool.wanted);
    if (wanted == 0) {
        wanted = default_threads();
        atomic_store(&pool.wanted, wanted);
    }
    return wanted;
}

int ft_set_num_threads(int n) {
    if (n < 1) return ft_set_error(FT_ERR_RUNTIME, "set_num_threads expects a positive integer");
    if (n > FT_MAX_THREADS) n = FT_MAX_THREADS;
    atomic_store(&pool.wanted, n);
    return FT_OK;
}

/* A forked child has none of the parent's worker threads: start from an empty pool. */
static void reset_after_fork(void) {
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_mutex_init(&pool.busy, NULL);
    pool.started = 0;
    atomic_store(&pool.sleepers, 0);
    ft_in_job = 0;
}

/* Called with pool.busy held. */
static int ensure_workers(int count) {
    static int atfork_registered = 0;
    if (!atfork_registered) {
        pthread_atfork(NULL, NULL, reset_after_fork);
        atfork_registered = 1;
    }
    while (pool.started < count - 1) {
        int index = pool.started + 1;
        if (pthread_create(&pool.threads[index], NULL, worker_main, (void *)(intptr_t)index) != 0)
            return pool.started + 1; /* run with the workers we have */
        pool.started++;
    }
    return count;
}

int ft_parallel_for(int64_t n, int64_t grain, ft_range_fn fn, void *ctx) {
    return ft_parallel_for_threads(n, grain, ft_get_num_threads(), fn, ctx);
}

int ft_parallel_for_threads(int64_t n, int64_t grain, int max_threads, ft_range_fn fn, void *ctx) {
    if (n <= 0) return FT_OK;
    if (grain < 1) grain = 1;
    int threads = ft_get_num_threads();
    if (threads > max_threads) threads = max_threads;
    if (threads > 1 && n > grain && !ft_in_job && pthread_mutex_trylock(&pool.busy) == 0) {
        threads = ensure_workers(threads);
        /* chunks of at least `grain`; large chunks are whole multiples of 64 elements,
         * so threads writing neighbouring chunks do not share cache lines */
        int64_t chunk = (n + (int64_t)threads * FT_CHUNKS_PER_THREAD - 1) / ((int64_t)threads * FT_CHUNKS_PER_THREAD);
        if (chunk < grain) chunk = grain;
        if (chunk >= 64) chunk = (chunk + 63) / 64 * 64;
        const int64_t chunks = (n + chunk - 1) / chunk;
        if (threads > 1 && chunks > 1) {
            atomic_store_explicit(&pool.fn, fn, memory_order_relaxed);
            atomic_store_explicit(&pool.ctx, ctx, memory_order_relaxed);
            atomic_store_explicit(&pool.n, n, memory_order_relaxed);
            atomic_store_explicit(&pool.chunk, chunk, memory_order_relaxed);
            atomic_store_explicit(&pool.chunks, chunks, memory_order_relaxed);
            atomic_store_explicit(&pool.threads_in_job, threads, memory_order_relaxed);
            atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
            const uint32_t generation = ++pool.generation;
            atomic_store(&pool.ticket, (uint64_t)generation << 32); /* seq_cst: ordered before the sleepers check */
            if (atomic_load(&pool.sleepers) > 0) {
                pthread_mutex_lock(&pool.lock);
                pthread_cond_broadcast(&pool.wake);
                pthread_mutex_unlock(&pool.lock);
            }
            run_chunks(generation);
            /* every chunk is claimed; wait for the ones other threads are still running */
            int spins = 0;
            while (atomic_load_explicit(&pool.done, memory_order_acquire) < chunks) {
                if (++spins < FT_CALLER_SPINS) ft_cpu_relax();
                else sched_yield();
            }
            pthread_mutex_unlock(&pool.busy);
            return FT_OK;
        }
        pthread_mutex_unlock(&pool.busy);
    }
    fn(ctx, 0, n);
    return FT_OK;
}
