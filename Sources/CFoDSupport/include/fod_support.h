#ifndef FOD_SUPPORT_H
#define FOD_SUPPORT_H

/* What Swift cannot express: compiler intrinsics for measured hot paths, and a variadic syscall. */

/* Asks the CPU to start loading the cache line at `address` (for a write soon). */
static inline void fod_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 1);
}

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Lowers the calling thread's priority by `niceness` (Linux: nice is per thread). Returns 0 or -1. */
static inline int fod_nice_this_thread(int niceness) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), niceness);
}
#endif

#endif
