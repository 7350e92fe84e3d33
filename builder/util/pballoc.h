#ifndef BUILDER_PBALLOC_H
#define BUILDER_PBALLOC_H

/*
 * A ceiling on the memory protobuf-c may take to decode one message of
 * foreign bytes (the daemon's session messages, BuildKit's progress). Its
 * unpack allocates a struct, a pointer and bookkeeping for every element of
 * a repeated field or map, tens of times an element's two bytes on the
 * wire: a 16 MiB session message of empty xattrs took 850 MB. With
 * this allocator the unpack fails (returns NULL) once what it holds would
 * pass PBALLOC_RATIO times the message's size plus PBALLOC_SLACK; real
 * messages stay far below that (their elements carry data).
 *
 *	struct pballoc a;
 *	m = foo__unpack(pballoc_init(&a, len), len, data);
 *	if (!m)
 *		... "the message is %s", pballoc_failure(&a)
 *	...
 *	foo__free_unpacked(m, &a.base);
 *
 * Allocation failures of malloc itself exit 3, as xmalloc's do.
 */

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#define PBALLOC_RATIO 8u
#define PBALLOC_SLACK (1024u * 1024)

struct pballoc {
	ProtobufCAllocator base; /* what protobuf-c is given */
	size_t held, max;
	int exceeded;
};

/* Sets a up for a message of len bytes; returns &a->base. */
ProtobufCAllocator *pballoc_init(struct pballoc *a, size_t len);

/* Whether an unpack that returned NULL failed for the ceiling. */
int pballoc_exceeded(const struct pballoc *a);

/* Why such an unpack failed, for messages: "too large to decode" or "not
 * valid protobuf". */
const char *pballoc_failure(const struct pballoc *a);

#endif
