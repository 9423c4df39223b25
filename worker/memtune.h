/* memtune.h: the worker's memory tuning, all of it: glibc malloc's mmap
 * threshold, giving freed heap pages back while the worker waits, and the
 * mark that keeps a function's large stack buffers out of its caller's
 * frame. A worker is one of hundreds of processes alike: what each keeps
 * resident is multiplied by the pool size. `make bench` keeps the figures
 * (instructions per job, USS per idle worker) that decide what stays. */
#ifndef DS_MEMTUNE_H
#define DS_MEMTUNE_H

/* For a function with large stack buffers (log values, an error text)
 * called rarely from a long-lived frame: not inlined, its buffers take
 * stack pages only while it runs, and the job loop's own frame stays
 * small. */
#define DS_OWN_FRAME __attribute__((noinline))

/* Once, before the libraries allocate: fixes malloc's mmap threshold so
 * that response-sized blocks go back to the kernel when freed. */
void ds_memtune_init(void);

/* When the worker is about to wait: the pages of what was freed inside
 * the heap go back to the kernel (malloc_trim). Costs a pass over the
 * heap: call it once per spell of waiting, not per loop timeout. */
void ds_memtune_trim(void);

#endif
