#ifndef BUILDER_TAGREGEX_H
#define BUILDER_TAGREGEX_H

/*
 * The regular expressions of `regex:PATTERN:TEMPLATE` tag rules: a small
 * Pike VM with capture groups, leftmost-first like Go's regexp (and
 * Docker Hub's autobuild rules), linear in the text for a given pattern:
 * it never backtracks. context/goregex.h matches the same way but keeps
 * no groups, which the templates' {\1} need.
 *
 *	struct tagregex re;
 *	size_t m[TAGREGEX_SLOTS];
 *	const char *why;
 *
 *	if (tagregex_compile(&re, "^v([0-9.]+)$", &why) < 0)
 *		return err_set(err, 2, "bad pattern: %s", why);
 *	if (tagregex_match(&re, "v1.2", 4, m) == 1)
 *		group 1 is text[m[2], m[3]), SIZE_MAX pairs for unset groups
 *	tagregex_release(&re);
 *
 * Syntax (bytes, not runes: branch and tag names are ASCII in practice):
 * literals; '.' (any byte but '\n'); "[...]" and "[^...]" with ranges,
 * escapes and \d \w \s inside; \d \D \w \W \s \S; '\' before punctuation;
 * \t \n \r; '^' and '$' at the start and end of the text; "(...)"
 * capturing, "(?:...)" not; '|'; '*', '+', '?', "{n}", "{n,}", "{n,m}"
 * (counts up to 100), each maybe followed by '?' (lazy). Anything else
 * (flags, \b, named groups, backreferences) is refused with a reason.
 */

#include <stddef.h>

#define TAGREGEX_GROUPS 9 /* \1 to \9 */
#define TAGREGEX_SLOTS (2 * (TAGREGEX_GROUPS + 1))
#define TAGREGEX_PATTERN_MAX 1024
#define TAGREGEX_TEXT_MAX 4096
#define TAGREGEX_PROG_MAX 4096

struct tagregex {
	struct tagregex_inst *inst; /* private */
	size_t n;
	unsigned char (*cls)[32]; /* byte sets, private */
	size_t ncls;
	int ngroups; /* capture groups in the pattern */
};

/*
 * Compiles pattern (NUL-terminated, at most TAGREGEX_PATTERN_MAX bytes).
 * Returns 0, or -1 with *why a static phrase to follow the pattern in a
 * message ("has an unclosed '('") and re left empty.
 */
int tagregex_compile(struct tagregex *re, const char *pattern,
		     const char **why);

/*
 * Searches text (len bytes, at most TAGREGEX_TEXT_MAX) for the leftmost
 * match, preferring alternatives and greedy counts as Go does. Returns 1
 * and fills m (slots 2k and 2k+1: start and end of group k, group 0 the
 * whole match, SIZE_MAX for a group that did not take part) or 0 for no
 * match, or -1 when the text is too long.
 */
int tagregex_match(const struct tagregex *re, const char *text, size_t len,
		   size_t m[TAGREGEX_SLOTS]);

/* Frees what re holds; an all-zero struct is fine. */
void tagregex_release(struct tagregex *re);

#endif
