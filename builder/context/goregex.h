#ifndef BUILDER_GOREGEX_H
#define BUILDER_GOREGEX_H

/*
 * A matcher for the part of Go's regexp syntax that docker's .dockerignore
 * rewrite produces (ignore.c), with Go's answers, that never backtracks.
 *
 *	struct goregex re;
 *	struct goregex_sim sim;
 *	const char *why;
 *
 *	if (goregex_compile(&re, "^[^/]*\\.c$", 10, &why) < 0)
 *		return error("bad pattern: %s", why);
 *	goregex_sim_init(&sim, goregex_size(&re));
 *	if (goregex_match(&re, &sim, path, strlen(path)))
 *		...
 *	goregex_sim_release(&sim);
 *	goregex_release(&re);
 *
 * Syntax. Go's regexp.Compile with its default flags, minus what docker's
 * rewrite cannot produce:
 *
 *  - literal runes; '.' is any rune but '\n';
 *  - '^' and '$' anchor at the start and end of the text (never at a line),
 *    as do "\A" and "\z"; "\b" and "\B" are ASCII word boundaries;
 *  - "[...]" and "[^...]" classes with ranges and escapes, the ASCII
 *    classes "[:alpha:]" (and "[:^alpha:]") inside them, and "\d", "\s",
 *    "\w" and their negations "\D", "\S", "\W" inside or outside them;
 *  - '|', "(...)" (captures nothing), '*', '+', '?', "{n}", "{n,}" and
 *    "{n,m}" with counts up to 1000, each maybe followed by a '?' that
 *    makes no difference to whether there is a match; a '{' that does not
 *    start a count is a literal, as in Go;
 *  - escapes: '\' before punctuation, "\a\f\n\r\t\v", octal "\0" to
 *    "\777", "\x7F" and "\x{10FFFF}", and "\Q...\E" quoting.
 *
 * Errors are Go's (a '*' with nothing to repeat, "a**", "\8", "\C" and
 * "[z-a]" are errors there too), with two differences. Unicode classes
 * ("\pL") and flag groups ("(?i)") are refused as unsupported. Nested
 * counts whose product passes 1000, like "(a{1000}){1000}", which Go
 * refuses, are accepted within GOREGEX_MAX_SIZE; docker's rewrite cannot
 * produce them.
 *
 * Text and pattern are UTF-8; as in Go, each byte that is not part of a
 * valid sequence stands for U+FFFD, and NUL is an ordinary rune.
 *
 * Cost. A program has at most about GOREGEX_MAX_SIZE instructions of 16
 * bytes each, plus its classes' ranges, which are bounded by the pattern's
 * length; a larger one is refused at compile time. Matching allocates
 * nothing and takes time proportional to the length of the text times the
 * size of the program, whatever the pattern: every instruction is visited
 * at most twice per rune of text. Compiling takes time up to the pattern's
 * length times the program's size.
 */

#include <stddef.h>
#include <stdint.h>

/* Go's utf8.RuneError, the rune an invalid byte decodes to. */
#define GOREGEX_RUNE_ERROR 0xFFFDu

/* The largest program goregex_compile() builds, in instructions. */
#define GOREGEX_MAX_SIZE (1u << 20)

/*
 * A compiled pattern. The members are private. An all-zero struct is an
 * empty one, which goregex_release() accepts but which must not be
 * matched.
 */
struct goregex {
	struct goregex_inst *inst;
	size_t n, alloc;
	struct goregex_class *cls;
	size_t ncls, cls_alloc;
	int anchored; /* starts with an unrepeated '^' */
};

/*
 * The working memory of a match, reusable across matches and across
 * programs no larger than the size it was made for. Members are private.
 */
struct goregex_sim {
	uint32_t *cur, *seeds, *alt, *stack, *mark;
	size_t cap;
	uint32_t gen;
};

/*
 * Compiles pattern (len bytes, need not be NUL-terminated) into *re,
 * overwriting it. Returns 0 on success. On failure returns -1, leaves *re
 * empty and points *why at a static phrase saying what is wrong, written
 * to follow the pattern in a message ("it has an unclosed '('").
 */
int goregex_compile(struct goregex *re, const char *pattern, size_t len,
		    const char **why);

/* The program's size in instructions: what goregex_sim_init() needs. */
size_t goregex_size(const struct goregex *re);

/* Frees what *re holds and leaves it empty. */
void goregex_release(struct goregex *re);

/*
 * Makes working memory for programs of up to size instructions (20 bytes
 * each, allocated now with xmalloc).
 */
void goregex_sim_init(struct goregex_sim *s, size_t size);

/* Frees the working memory. */
void goregex_sim_release(struct goregex_sim *s);

/*
 * Go's regexp.MatchString: returns 1 when re matches anywhere in text (len
 * bytes), 0 when not. s must have been made for at least goregex_size(re).
 */
int goregex_match(const struct goregex *re, struct goregex_sim *s,
		  const char *text, size_t len);

/*
 * Returns 1 when re matches text, or text cut just before any of its '/'
 * ("a/b/c", "a/b" or "a"), as if each were tried with goregex_match(), in
 * one pass over text at the same cost as goregex_match().
 */
int goregex_match_or_parent(const struct goregex *re, struct goregex_sim *s,
			    const char *text, size_t len);

/*
 * Go's utf8.DecodeRune on s[0, n), n >= 1: returns the first rune and sets
 * *width to its length in bytes; an invalid or truncated sequence is
 * GOREGEX_RUNE_ERROR with width 1.
 */
uint32_t goregex_decode_rune(const unsigned char *s, size_t n, size_t *width);

#endif
