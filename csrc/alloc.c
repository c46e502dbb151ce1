/* The one allocator: every tensor byte the engine owns comes from here.
 *
 * Small blocks (under FT_LARGE_MIN) are 64-byte aligned heap memory.
 *
 * Large blocks are mapped directly, 2 MiB aligned, with MADV_HUGEPAGE, and are
 * cached when freed: a freed block joins the free list of its size class and
 * the next allocation of that class takes it back. A program that makes a big
 * output every step then pays the kernel's page faults once instead of on every
 * step (torch's add on 1e7 floats spends most of its time in them, since glibc
 * maps and unmaps blocks that size on each call).
 *
 * Size classes: a request rounds up to whole 2 MiB huge pages; above 16 MiB to
 * a quarter of a power of two, so a class wastes at most a quarter of a block
 * (of address space: pages never touched cost no memory).
 *
 * The cache is bounded (FT_DEFAULT_CACHE_LIMIT, FTORCH_ALLOC_CACHE_MB in the
 * environment, or ft_alloc_set_cache_limit): past the bound the least recently
 * freed blocks go back to the system. One mutex guards the allocator's tables,
 * since cffi releases the GIL around C calls and Python threads may allocate at
 * once; pthread_atfork keeps a forked child from inheriting a held lock.
 *
 * Under AddressSanitizer the cache poisons what it holds (a use after free of
 * a cached block is reported like one of a freed heap block) and the slack past
 * each request.
 */
#define _GNU_SOURCE
#include "ft_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define FT_POISON(addr, size) ASAN_POISON_MEMORY_REGION((addr), (size))
#define FT_UNPOISON(addr, size) ASAN_UNPOISON_MEMORY_REGION((addr), (size))
#else
#define FT_POISON(addr, size) ((void)(addr), (void)(size))
#define FT_UNPOISON(addr, size) ((void)(addr), (void)(size))
#endif

#define FT_LARGE_MIN ((size_t)1 << 20)     /* requests from 1 MiB go to the large-block cache */
#define FT_HUGE_PAGE ((size_t)2 << 20)     /* block granule and alignment */
#define FT_DEFAULT_CACHE_LIMIT ((int64_t)1 << 30)
#define FT_CLASS_COUNT 160                 /* classes up to far beyond any address space */
#define FT_HASH_BUCKETS 1024

/* One large block, mapped for its whole life and either live or cached. */
typedef struct ft_block {
    char *addr;
    size_t size;                           /* the class size: what is mapped */
    int size_class;
    bool cached;
    struct ft_block *hash_next;            /* in the address table (live and cached blocks) */
    struct ft_block *class_prev, *class_next; /* in its class's free list, newest first */
    struct ft_block *age_prev, *age_next;  /* in the cache's age list, oldest first */
} ft_block;

static struct {
    pthread_mutex_t lock;
    ft_block *by_address[FT_HASH_BUCKETS];
    ft_block *free_lists[FT_CLASS_COUNT];
    ft_block *oldest, *newest;             /* the cached blocks, in the order they were freed */
    int64_t cached_bytes, cache_limit;
    int64_t live_blocks, live_bytes;       /* large blocks handed out */
    int64_t maps, reuses, unmaps;          /* counters for ft_alloc_stats */
} ft_heap = {.lock = PTHREAD_MUTEX_INITIALIZER, .cache_limit = -1};

static void ft_heap_lock(void) { pthread_mutex_lock(&ft_heap.lock); }
static void ft_heap_unlock(void) { pthread_mutex_unlock(&ft_heap.lock); }

static void ft_heap_init(void) {
    pthread_atfork(ft_heap_lock, ft_heap_unlock, ft_heap_unlock);
    const char *limit_mb = getenv("FTORCH_ALLOC_CACHE_MB");
    ft_heap.cache_limit = FT_DEFAULT_CACHE_LIMIT;
    if (limit_mb && *limit_mb) {
        char *end = NULL;
        long long mb = strtoll(limit_mb, &end, 10);
        if (end && *end == '\0' && mb >= 0) ft_heap.cache_limit = (int64_t)mb << 20;
    }
}

static pthread_once_t ft_heap_once = PTHREAD_ONCE_INIT;

/* The class of a request: 2 MiB granules, then four classes per doubling above 8 granules. */
static int ft_size_class(size_t nbytes, size_t *class_size) {
    size_t granules = (nbytes + FT_HUGE_PAGE - 1) / FT_HUGE_PAGE;
    if (granules <= 8) {
        *class_size = granules * FT_HUGE_PAGE;
        return (int)granules - 1;
    }
    int log2 = 63 - __builtin_clzll((unsigned long long)(granules - 1)); /* 2^log2 < granules <= 2^(log2+1) */
    size_t step = (size_t)1 << (log2 - 2);
    size_t rounded = (granules + step - 1) / step * step;
    *class_size = rounded * FT_HUGE_PAGE;
    /* granules in (2^log2, 2^(log2+1)] fall in classes 5..8 of that doubling, counted from 8 granules up */
    return 8 + (log2 - 3) * 4 + (int)(rounded / step) - 5;
}

static size_t ft_bucket(const void *addr) { return ((uintptr_t)addr / FT_HUGE_PAGE) % FT_HASH_BUCKETS; }

static ft_block *ft_find_block(const void *addr) {
    for (ft_block *b = ft_heap.by_address[ft_bucket(addr)]; b; b = b->hash_next)
        if (b->addr == addr) return b;
    return NULL;
}

/* A fresh mapping of size bytes at a 2 MiB boundary, or NULL. */
static char *ft_map_aligned(size_t size) {
    char *raw = mmap(NULL, size + FT_HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    char *aligned = (char *)(((uintptr_t)raw + FT_HUGE_PAGE - 1) & ~(uintptr_t)(FT_HUGE_PAGE - 1));
    if (aligned > raw) munmap(raw, (size_t)(aligned - raw));
    size_t tail = (size_t)(raw + size + FT_HUGE_PAGE - (aligned + size));
    if (tail) munmap(aligned + size, tail);
    madvise(aligned, size, MADV_HUGEPAGE);
    return aligned;
}

static void ft_cache_remove(ft_block *b) {
    if (b->class_prev) b->class_prev->class_next = b->class_next;
    else ft_heap.free_lists[b->size_class] = b->class_next;
    if (b->class_next) b->class_next->class_prev = b->class_prev;
    if (b->age_prev) b->age_prev->age_next = b->age_next;
    else ft_heap.oldest = b->age_next;
    if (b->age_next) b->age_next->age_prev = b->age_prev;
    else ft_heap.newest = b->age_prev;
    b->class_prev = b->class_next = b->age_prev = b->age_next = NULL;
    b->cached = false;
    ft_heap.cached_bytes -= (int64_t)b->size;
}

static void ft_unmap_block(ft_block *b) {
    ft_block **link = &ft_heap.by_address[ft_bucket(b->addr)];
    while (*link != b) link = &(*link)->hash_next;
    *link = b->hash_next;
    FT_UNPOISON(b->addr, b->size);
    munmap(b->addr, b->size);
    ft_heap.unmaps++;
    free(b);
}

/* Unmap the oldest cached blocks until the cache holds at most limit bytes. */
static void ft_cache_trim(int64_t limit) {
    while (ft_heap.oldest && ft_heap.cached_bytes > limit) {
        ft_block *b = ft_heap.oldest;
        ft_cache_remove(b);
        ft_unmap_block(b);
    }
}

static void *ft_large_alloc(size_t nbytes, int zero) {
    size_t size;
    int size_class = ft_size_class(nbytes, &size);
    if (size_class >= FT_CLASS_COUNT || size < nbytes) return NULL;
    ft_heap_lock();
    ft_block *b = ft_heap.free_lists[size_class];
    bool reused = b != NULL;
    if (reused) {
        ft_cache_remove(b);
        ft_heap.reuses++;
    } else {
        b = calloc(1, sizeof *b);
        char *addr = b ? ft_map_aligned(size) : NULL;
        if (!addr) {
            free(b);
            b = NULL; /* freed: the retry below allocates its own, and the failure path frees only that */
            /* the cache may hold what the system cannot give: return it and try once more */
            if (ft_heap.cached_bytes) {
                ft_cache_trim(0);
                b = calloc(1, sizeof *b);
                addr = b ? ft_map_aligned(size) : NULL;
            }
            if (!addr) {
                free(b);
                ft_heap_unlock();
                return NULL;
            }
        }
        b->addr = addr;
        b->size = size;
        b->size_class = size_class;
        size_t bucket = ft_bucket(addr);
        b->hash_next = ft_heap.by_address[bucket];
        ft_heap.by_address[bucket] = b;
        ft_heap.maps++;
    }
    ft_heap.live_blocks++;
    ft_heap.live_bytes += (int64_t)b->size;
    ft_heap_unlock();
    FT_UNPOISON(b->addr, nbytes);
    FT_POISON(b->addr + nbytes, b->size - nbytes);
    if (zero && reused) memset(b->addr, 0, nbytes); /* a fresh mapping is already zero */
    return b->addr;
}

intptr_t ft_alloc(int64_t nbytes, int zero) {
    if (nbytes < 0) { ft_set_error(FT_ERR_RUNTIME, "Trying to create tensor with negative dimension"); return 0; }
    if (nbytes == 0) nbytes = 1; /* a real address for empty tensors, like torch's non-null data_ptr for storages */
    void *p = NULL;
    if ((uint64_t)nbytes >= FT_LARGE_MIN) {
        pthread_once(&ft_heap_once, ft_heap_init);
        p = ft_large_alloc((size_t)nbytes, zero);
    } else {
        size_t rounded = (size_t)((nbytes + 63) / 64 * 64);
        if (posix_memalign(&p, 64, rounded) != 0) p = NULL;
        if (p && zero) memset(p, 0, (size_t)nbytes);
    }
    if (!p) {
        ft_set_error(FT_ERR_NOMEM, "DefaultCPUAllocator: not enough memory: you tried to allocate %lld bytes.", (long long)nbytes);
        return 0;
    }
    return (intptr_t)p;
}

/* nbytes is the caller's idea of the size, which may have shrunk since the block was
 * made (a storage resized down keeps its block): the block itself is looked up. Large
 * blocks are 2 MiB aligned, so a block that is not is a small one and needs no lock. */
void ft_free(intptr_t ptr, int64_t nbytes) {
    (void)nbytes;
    if (!ptr) return;
    void *p = (void *)ptr;
    if (((uintptr_t)p & (FT_HUGE_PAGE - 1)) == 0) {
        pthread_once(&ft_heap_once, ft_heap_init);
        ft_heap_lock();
        ft_block *b = ft_find_block(p);
        if (b && !b->cached) {
            ft_heap.live_blocks--;
            ft_heap.live_bytes -= (int64_t)b->size;
            if ((int64_t)b->size > ft_heap.cache_limit) {
                ft_unmap_block(b);
            } else {
                FT_POISON(b->addr, b->size);
                b->cached = true;
                b->class_next = ft_heap.free_lists[b->size_class];
                if (b->class_next) b->class_next->class_prev = b;
                ft_heap.free_lists[b->size_class] = b;
                b->age_prev = ft_heap.newest;
                if (ft_heap.newest) ft_heap.newest->age_next = b;
                else ft_heap.oldest = b;
                ft_heap.newest = b;
                ft_heap.cached_bytes += (int64_t)b->size;
                ft_cache_trim(ft_heap.cache_limit);
            }
            ft_heap_unlock();
            return;
        }
        ft_heap_unlock();
        if (b) return; /* already cached: a double free, ignored rather than corrupting the lists */
    }
    free(p);
}

int64_t ft_alloc_set_cache_limit(int64_t nbytes) {
    pthread_once(&ft_heap_once, ft_heap_init);
    ft_heap_lock();
    int64_t previous = ft_heap.cache_limit;
    if (nbytes >= 0) {
        ft_heap.cache_limit = nbytes;
        ft_cache_trim(nbytes);
    }
    ft_heap_unlock();
    return previous;
}

void ft_alloc_empty_cache(void) {
    pthread_once(&ft_heap_once, ft_heap_init);
    ft_heap_lock();
    ft_cache_trim(0);
    ft_heap_unlock();
}

int ft_alloc_stats(int64_t *stats, int count) {
    pthread_once(&ft_heap_once, ft_heap_init);
    ft_heap_lock();
    const int64_t values[FT_ALLOC_STAT_COUNT] = {
        [FT_ALLOC_STAT_LIVE_BLOCKS] = ft_heap.live_blocks,
        [FT_ALLOC_STAT_LIVE_BYTES] = ft_heap.live_bytes,
        [FT_ALLOC_STAT_CACHED_BYTES] = ft_heap.cached_bytes,
        [FT_ALLOC_STAT_CACHE_LIMIT] = ft_heap.cache_limit,
        [FT_ALLOC_STAT_MAPS] = ft_heap.maps,
        [FT_ALLOC_STAT_REUSES] = ft_heap.reuses,
        [FT_ALLOC_STAT_UNMAPS] = ft_heap.unmaps,
    };
    ft_heap_unlock();
    if (count > FT_ALLOC_STAT_COUNT) count = FT_ALLOC_STAT_COUNT;
    for (int i = 0; i < count; i++) stats[i] = values[i];
    return count;
}
