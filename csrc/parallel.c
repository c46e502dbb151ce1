/* The engine's thread pool: persistent workers that split a range [0, n) with
 * the calling thread. One job at a time (kernels are called from Python under
 * the GIL, and the pool is not re-entered from inside a job). Workers sleep on a
 * condition variable between jobs, after a short spin that keeps back-to-back
 * kernels cheap. */
#define _GNU_SOURCE
#include "ft_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#define FT_MAX_THREADS 64

typedef struct {
    ft_range_fn fn;
    void *ctx;
    int64_t n;
    int64_t chunk;
} ft_job;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t done;
    pthread_t threads[FT_MAX_THREADS];
    int started;             /* workers running */
    int wanted;              /* threads to use, the caller included */
    _Atomic uint64_t generation;
    _Atomic int pending;     /* workers still running the current job */
    ft_job job;
    int shutting_down;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void run_share(int index, int nthreads) {
    const ft_job *job = &pool.job;
    int64_t begin = (int64_t)index * job->chunk;
    int64_t end = begin + job->chunk;
    (void)nthreads;
    if (begin >= job->n) return;
    if (end > job->n) end = job->n;
    job->fn(job->ctx, begin, end);
}

static void *worker_main(void *arg) {
    const int index = (int)(intptr_t)arg; /* 1..started */
    uint64_t seen = 0;
    for (;;) {
        /* Spin briefly for the next job, then sleep. */
        int spins = 0;
        while (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen && spins < 20000) {
            spins++;
            __builtin_ia32_pause();
        }
        if (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen) {
            pthread_mutex_lock(&pool.lock);
            while (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen && !pool.shutting_down)
                pthread_cond_wait(&pool.wake, &pool.lock);
            pthread_mutex_unlock(&pool.lock);
        }
        if (pool.shutting_down) return NULL;
        seen = atomic_load_explicit(&pool.generation, memory_order_acquire);
        if (index < pool.wanted) run_share(index, pool.wanted);
        if (atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.lock);
        }
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
    if (pool.wanted == 0) pool.wanted = default_threads();
    return pool.wanted;
}

int ft_set_num_threads(int n) {
    if (n < 1) return ft_set_error(FT_ERR_RUNTIME, "set_num_threads expects a positive integer");
    if (n > FT_MAX_THREADS) n = FT_MAX_THREADS;
    pool.wanted = n;
    return FT_OK;
}

/* A forked child has none of the parent's worker threads: start from an empty pool. */
static void reset_after_fork(void) {
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    pool.started = 0;
    atomic_store(&pool.pending, 0);
}

static int ensure_workers(int count) {
    static int atfork_registered = 0;
    if (!atfork_registered) {
        pthread_atfork(NULL, NULL, reset_after_fork);
        atfork_registered = 1;
    }
    while (pool.started < count - 1) {
        int index = pool.started + 1;
        if (pthread_create(&pool.threads[index], NULL, worker_main, (void *)(intptr_t)index) != 0)
            return ft_set_error(FT_ERR_RUNTIME, "could not start a worker thread");
        pool.started++;
    }
    return FT_OK;
}

int ft_parallel_for(int64_t n, int64_t grain, ft_range_fn fn, void *ctx) {
    if (n <= 0) return FT_OK;
    int threads = ft_get_num_threads();
    if (grain < 1) grain = 1;
    int64_t max_useful = (n + grain - 1) / grain;
    if (threads > max_useful) threads = (int)max_useful;
    if (threads <= 1) {
        fn(ctx, 0, n);
        return FT_OK;
    }
    int rc = ensure_workers(threads);
    if (rc) {
        fn(ctx, 0, n);
        return FT_OK;
    }
    pool.job.fn = fn;
    pool.job.ctx = ctx;
    pool.job.n = n;
    /* Chunks rounded to 64 elements keep each thread's writes on its own cache lines. */
    int64_t chunk = (n + threads - 1) / threads;
    chunk = (chunk + 63) / 64 * 64;
    pool.job.chunk = chunk;
    int saved_wanted = pool.wanted;
    pool.wanted = threads;
    atomic_store_explicit(&pool.pending, pool.started, memory_order_release);
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_acq_rel);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    run_share(0, threads);
    /* Wait for every started worker to acknowledge this job (idle ones just check in). */
    int spins = 0;
    while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0 && spins < 200000) {
        spins++;
        __builtin_ia32_pause();
    }
    if (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0) {
        pthread_mutex_lock(&pool.lock);
        while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0)
            pthread_cond_wait(&pool.done, &pool.lock);
        pthread_mutex_unlock(&pool.lock);
    }
    pool.wanted = saved_wanted;
    return FT_OK;
}
