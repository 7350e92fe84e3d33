/*
 * protobuf-c's allocator with a ceiling; see pballoc.h. Each block carries
 * its size in front, so that a free gives it back to the count.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/pballoc.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* The size in front of each block, padded to keep the block aligned. */
#define HEAD (sizeof(max_align_t))

static void *pb_alloc(void *data, size_t size)
{
	struct pballoc *a = data;
	unsigned char *p;

	if (size > a->max - a->held) {
		a->exceeded = 1;
		return NULL;
	}
	p = malloc(HEAD + size);
	if (!p)
		xalloc_die(HEAD + size);
	*(size_t *)(void *)p = size;
	a->held += size;
	return p + HEAD;
}

static void pb_free(void *data, void *ptr)
{
	struct pballoc *a = data;
	unsigned char *p;

	if (!ptr)
		return;
	p = (unsigned char *)ptr - HEAD;
	a->held -= *(size_t *)(void *)p;
	free(p);
}

ProtobufCAllocator *pballoc_init(struct pballoc *a, size_t len)
{
	a->base.alloc = pb_alloc;
	a->base.free = pb_free;
	a->base.allocator_data = a;
	a->held = 0;
	a->exceeded = 0;
	a->max = len > (SIZE_MAX - PBALLOC_SLACK) / PBALLOC_RATIO
			 ? SIZE_MAX
			 : len * PBALLOC_RATIO + PBALLOC_SLACK;
	return &a->base;
}

int pballoc_exceeded(const struct pballoc *a)
{
	return a->exceeded;
}

const char *pballoc_failure(const struct pballoc *a)
{
	return a->exceeded ? "too large to decode" : "not valid protobuf";
}
