#ifndef FOD_SUPPORT_H
#define FOD_SUPPORT_H

/* Compiler intrinsics Swift cannot express, for measured hot paths only. */

/* Asks the CPU to start loading the cache line at `address` (for a write soon). */
static inline void fod_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 1);
}

#endif
