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
/*
 * Appends the KEY=VALUE items of a list variable (BUILD_ARGS, LABELS,
 * TEST_ENV), so that every value can be written:
 *  - a value holding a newline is split at newlines only: each line is an
 *    item, leading blanks dropped, the rest verbatim (commas, '=', trailing
 *    blanks and all); empty lines are skipped;
 *  - else it is split at commas, but a comma starts a new item only where
 *    the text after it (past blanks) is KEY= with KEY a letter or '_'
 *    followed by letters, digits, '_', '.' and '-'; any other comma belongs
 *    to the value: "A=x,y,B=1" is "A=x,y" and "B=1"; "\," is always a
 *    comma of the value ("Q=a=1\,b=2" is one item). Items are trimmed of
 *    surrounding blanks.
 */
void strlist_split_pairs(struct strlist *l, const char *s);
/* 1 when s is in the list. */
int strlist_has(const struct strlist *l, const char *s);
void strlist_clear(struct strlist *l);

#endif
