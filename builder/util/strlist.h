#ifndef BUILDER_STRLIST_H
#define BUILDER_STRLIST_H

#include <stddef.h>

/* A growable list of owned strings. */
struct strlist {
	char **v;
	size_t n;
	size_t alloc;
};

#define STRLIST_INIT       \
	{                  \
		NULL, 0, 0 \
	}

/* Appends a copy of s. */
void strlist_push(struct strlist *l, const char *s);
/* Appends each non-empty item of s split at any character of seps, trimmed
 * of surrounding spaces and tabs. */
void strlist_split(struct strlist *l, const char *s, const char *seps);
/* 1 when s is in the list. */
int strlist_has(const struct strlist *l, const char *s);
void strlist_clear(struct strlist *l);

#endif
