/* Receive buffer memory: hugetlb pages when reserved, else THP-advised anonymous memory, else plain. */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "zec.h"

#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif

void *zec_map(size_t len, int allow_hugetlb, int *kind)
{
    void *p;
    if (allow_hugetlb) {
        /* len must be a multiple of the huge page size (the caller rounds it up). */
        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
        if (p != MAP_FAILED) {
            *kind = ZEC_MAP_HUGETLB;
            return p;
        }
    }
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        *kind = -1;
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    if (madvise(p, len, MADV_HUGEPAGE) == 0) {
        *kind = ZEC_MAP_THP;
        return p;
    }
#endif
    *kind = ZEC_MAP_PLAIN;
    return p;
}

int zec_unmap(void *p, size_t len)
{
    return munmap(p, len);
}
