/*
 * Lists of owned strings, for repeatable flags and separated variables.
 */
#include <stdlib.h>
#include <string.h>

#include "util/strlist.h"
#include "util/xmalloc.h"
#include "util/banned.h"

void strlist_push(struct strlist *l, const char *s)
{
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n++] = xstrdup(s);
}

void strlist_split(struct strlist *l, const char *s, const char *seps)
{
	while (*s) {
		size_t len = strcspn(s, seps);
		const char *end = s + len;
		const char *start = s;

		while (start < end && (*start == ' ' || *start == '\t'))
			start++;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end > start) {
			char *item = xstrndup(start, (size_t)(end - start));

			ALLOC_GROW(l->v, l->n + 1, l->alloc);
			l->v[l->n++] = item;
		}
		s += len;
		if (*s)
			s++;
	}
}

int strlist_has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return 1;
	return 0;
}

void strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}
