#ifndef BUILDER_IGNORE_H
#define BUILDER_IGNORE_H

/*
 * .dockerignore, read and matched exactly as the docker CLI does.
 *
 * The CLI reads the file with moby/patternmatcher's ignorefile.ReadAll,
 * compiles every line with patternmatcher.New, and walks the context with
 * go-archive, which asks the matcher about each path. This module is that
 * chain without Go: a pure function of the file's bytes and a path.
 *
 *	struct ignore *ig = NULL;
 *
 *	if (ignore_load(&ig, ".dockerignore", err) < 0)
 *		return -1;
 *	if (ignore_excluded(ig, "Dockerfile"))
 *		ignore_add_exception(ig, "Dockerfile");
 *	...
 *	if (ignore_excluded(ig, "src/app.c"))
 *		... leave it out of the tar ...
 *	ignore_free(ig);
 *
 * Reading. A UTF-8 BOM is dropped from the first line; a line whose first
 * byte is '#' is a comment (so "  # x" is a pattern); lines are trimmed of
 * whitespace (Unicode spaces too, like Go's strings.TrimSpace) and blank
 * ones skipped; a leading '!' makes an exception and is trimmed after; the
 * rest is cleaned like Go's filepath.Clean ("./a/" and "a" are one pattern,
 * "a/../b" is "b") and one leading '/' is removed.
 *
 * Patterns. '*' matches any run of characters but '/'; '?' one character
 * but '/'; "**" any number of directories ("**" followed by '/' matches
 * zero or more leading directories, a trailing "**" anything at all);
 * "[...]" is a class ("[^...]" negated, ranges "a-z"); '\' escapes the next
 * character. Docker turns each pattern into a Go regular expression by
 * textual substitution, and some regexp syntax leaks through: a '\d'
 * escape is a digit, "[[:alpha:]]" a letter, '|' an alternation and "{2}"
 * a count once the pattern has any wildcard ("*.c|*.h" is "^[^/]*\.c" or
 * "[^/]*\.h$"), '^' outside brackets an anchor. Such patterns behave here
 * as they do in docker, with one difference: Unicode classes such as '\pL'
 * are rejected as unsupported. A pattern docker would reject (an unclosed
 * '[', a trailing '\', a bare '!', an escape its regexp lacks) is an error
 * at parse time, naming the file and line; docker reports some of them only
 * when the pattern is first used.
 *
 * Matching never backtracks: every pattern is compiled to a small automaton
 * and run over the path in time proportional to path length times pattern
 * length, so no .dockerignore can make the walk slow.
 */

#include <stddef.h>

#include "util/error.h"

/* The largest .dockerignore read. The docker CLI has no limit; this one is
 * explicit and generous. */
#define IGNORE_FILE_MAX (16u * 1024 * 1024)

/* An opaque compiled pattern list; owned by the caller, freed with
 * ignore_free(). */
struct ignore;

/*
 * Parses the text of a .dockerignore file (len bytes, need not be
 * NUL-terminated). source_name names the file in error messages. On success
 * *out is a new list (possibly empty) and 0 is returned; on failure *out is
 * NULL and err says which line is wrong and why (EXIT_USAGE). A line of 64 KiB
 * or more is an error, as it is for the CLI.
 */
int ignore_parse(struct ignore **out, const char *text, size_t len,
		 const char *source_name, struct error *err);

/*
 * Reads and parses the file at path. A file that does not exist gives an
 * empty list, like a context without .dockerignore; any other failure to
 * read it is an error naming the path.
 */
int ignore_load(struct ignore **out, const char *path, struct error *err);

/*
 * Appends the exception "!<pattern>" after the file's own lines, as the CLI
 * does for the Dockerfile and for .dockerignore when the file excludes them.
 * The pattern is compiled like any other; one docker would refuse (a
 * Dockerfile named with an unclosed '[') is kept as a literal path instead.
 */
void ignore_add_exception(struct ignore *ig, const char *pattern);

/*
 * Returns 1 when relpath is excluded from the context, 0 when it is sent.
 * relpath is relative to the context root, '/'-separated, clean, with no
 * leading "./" (what a walk of the context produces). Patterns are tried in
 * order and the last one that matches wins; a pattern matches a path when it
 * matches the path itself or any of its parent directories ("a" excludes
 * "a/b/c"). This is patternmatcher's MatchesOrParentMatches, which the CLI
 * uses to decide about the Dockerfile and .dockerignore. The root ("." or "")
 * is never excluded. A NULL list excludes nothing.
 */
int ignore_excluded(const struct ignore *ig, const char *relpath);

/*
 * The variant the tar walk itself uses (MatchesUsingParentResults): each
 * pattern counts as matching an entry when it matched the entry's parent
 * directory during the walk, or else when it matches the entry itself. It
 * differs from ignore_excluded() only for odd lists where an exception is
 * followed by a pattern it overlaps.
 *
 * hits receives one byte per pattern (ignore_count() bytes, allocated by the
 * caller); keep a directory's hits and pass them as parent_hits for each of
 * its entries. Pass NULL as parent_hits for entries at the top of the
 * context; hits may be NULL when the entry is not a directory.
 */
int ignore_excluded_walk(const struct ignore *ig, const char *relpath,
			 const unsigned char *parent_hits, unsigned char *hits);

/*
 * Returns 1 when reldir, an excluded directory, must still be walked
 * because an exception might re-include something inside it. The rule is
 * go-archive's, and it is literal: the directory is walked when some
 * exception pattern, with a '/' appended, starts with "<reldir>/". So
 * "!dir/keep" rescues "dir/keep", but an exception that starts with a
 * wildcard, like "!*.py" or one starting with "**", rescues nothing under an
 * excluded directory (docker/cli#2919). The directory's own entry is not
 * sent either way; only re-included entries below it are.
 */
int ignore_walk_excluded_dir(const struct ignore *ig, const char *reldir);

/* 1 when the list has at least one exception ('!') pattern. */
int ignore_has_exceptions(const struct ignore *ig);

/* The number of patterns, added exceptions included (0 for NULL). */
size_t ignore_count(const struct ignore *ig);

/* Frees the list; NULL is fine. */
void ignore_free(struct ignore *ig);

#endif
