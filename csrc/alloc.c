/* The one allocator: every tensor byte the engine owns comes from here.
 * Small blocks: 64-byte aligned heap memory. Large blocks: 2 MiB aligned with
 * MADV_HUGEPAGE so big outputs take fewer page faults. */
#define _GNU_SOURCE
#include "ft_internal.h"

#include <stdlib.h>
#include <sys/mman.h>

#define FT_HUGE_THRESHOLD (4LL << 20)
#define FT_HUGE_ALIGN (2LL << 20)

intptr_t ft_alloc(int64_t nbytes, int zero) {
    if (nbytes < 0) { ft_set_error(FT_ERR_RUNTIME, "Trying to create tensor with negative dimension"); return 0; }
    if (nbytes == 0) nbytes = 1; /* a real address for empty tensors, like torch's non-null data_ptr for storages */
    void *p = NULL;
    if (nbytes >= FT_HUGE_THRESHOLD) {
        size_t rounded = (size_t)((nbytes + FT_HUGE_ALIGN - 1) / FT_HUGE_ALIGN * FT_HUGE_ALIGN);
        if (posix_memalign(&p, (size_t)FT_HUGE_ALIGN, rounded) != 0) p = NULL;
        if (p) madvise(p, rounded, MADV_HUGEPAGE);
    } else {
        size_t rounded = (size_t)((nbytes + 63) / 64 * 64);
        if (posix_memalign(&p, 64, rounded) != 0) p = NULL;
    }
    if (!p) {
        ft_set_error(FT_ERR_NOMEM, "DefaultCPUAllocator: not enough memory: you tried to allocate %lld bytes.", (long long)nbytes);
        return 0;
    }
    if (zero) memset(p, 0, (size_t)nbytes);
    return (intptr_t)p;
}

void ft_free(intptr_t ptr, int64_t nbytes) {
    (void)nbytes;
    free((void *)ptr);
}
