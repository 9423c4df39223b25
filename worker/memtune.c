/* memtune.c: the worker's malloc tuning (memtune.h). */
#include "worker/memtune.h"

#include <malloc.h>

/* Above the 64 KiB upload buffer libcurl allocates and frees for each
 * form POST: at 64 KiB that buffer was an mmap, a page fault and an
 * munmap per job (form jobs cost 1.44 x the limit's CPU). */
#define MMAP_THRESHOLD_BYTES (128 * 1024)

void
ds_memtune_init(void)
{
	/* By default glibc raises its mmap threshold to the size of any
	 * mmapped block freed (up to 32 MiB), so after one large answer the
	 * next ones come from the heap and stay resident; a fixed threshold
	 * turns that off. */
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
}

void
ds_memtune_trim(void)
{
	malloc_trim(0);
}
