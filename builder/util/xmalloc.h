#ifndef BUILDER_XMALLOC_H
#define BUILDER_XMALLOC_H

#include <stddef.h>

/*
 * Allocation wrappers that never return NULL: on exhaustion they print one
 * line and exit 3, so no caller needs an out-of-memory branch.
 */

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* For allocations made by a library: the same line and exit 3. */
_Noreturn void xalloc_die(size_t size);

/* Grows *arr (of *alloc elements of elem_size) to hold at least nr. */
#define ALLOC_GROW(arr, nr, alloc)                                         \
	do {                                                               \
		if ((nr) > (alloc)) {                                      \
			(alloc) = (alloc) < 8 ? 8 : (alloc)*2;             \
			if ((alloc) < (nr))                                \
				(alloc) = (nr);                            \
			(arr) = xrealloc((arr), (alloc) * sizeof(*(arr))); \
		}                                                          \
	} while (0)

#endif
