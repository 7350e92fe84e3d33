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

static void push_trimmed(struct strlist *l, const char *start, const char *end,
			 int trim_end)
{
	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (trim_end && end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end > start) {
		ALLOC_GROW(l->v, l->n + 1, l->alloc);
		l->v[l->n++] = xstrndup(start, (size_t)(end - start));
	}
}

/* 1 when s starts with blanks, then KEY=. */
static int starts_with_key(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
	      *s == '_'))
		return 0;
	while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
	       (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-')
		s++;
	return *s == '=';
}

/* The comma form's item: "\," is a comma of the value. */
static void push_unescaped(struct strlist *l, const char *start,
			   const char *end)
{
	size_t before = l->n;
	char *w, *r;

	push_trimmed(l, start, end, 1);
	if (l->n == before)
		return;
	for (w = r = l->v[l->n - 1]; *r; r++) {
		if (r[0] == '\\' && r[1] == ',')
			r++;
		*w++ = *r;
	}
	*w = '\0';
}

void strlist_split_pairs(struct strlist *l, const char *s)
{
	const char *start = s;

	if (strchr(s, '\n')) {
		while (*s) {
			size_t len = strcspn(s, "\n");

			push_trimmed(l, s, s + len, 0);
			s += len;
			if (*s)
				s++;
		}
		return;
	}
	for (;;) {
		const char *comma = strchr(s, ',');

		while (comma && ((comma > start && comma[-1] == '\\') ||
				 !starts_with_key(comma + 1)))
			comma = strchr(comma + 1, ',');
		if (!comma) {
			push_unescaped(l, start, start + strlen(start));
			return;
		}
		push_unescaped(l, start, comma);
		start = s = comma + 1;
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
