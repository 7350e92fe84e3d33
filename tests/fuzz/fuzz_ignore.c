/*
 * libFuzzer target for builder/context/ignore.c: the input is a .dockerignore, then
 * after a NUL byte any number of NUL-separated paths. Every path is matched
 * three ways (ignore_excluded, the walk's parent-carrying variant, the
 * excluded-directory rule), with invariants that must hold for any input.
 *
 *	clang -g -O1 -std=c17 -D_GNU_SOURCE \
 *	    -fsanitize=fuzzer,address,undefined -Ibuilder \
 *	    tests/fuzz/fuzz_ignore.c builder/context/ignore.c builder/context/goregex.c \
 *	    builder/util/buf.c builder/util/xmalloc.c builder/util/error.c \
 *	    -o build/fuzz_ignore
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "context/ignore.h"
#include "util/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walks the components of path as the tar walk would, carrying hits. */
static void walk_components(const struct ignore *ig, const char *path)
{
	size_t n = ignore_count(ig), len = strlen(path), i;
	unsigned char *parent = xcalloc(n + 1, 1), *hits = xcalloc(n + 1, 1);
	char *sub = xstrdup(path);
	int first = 1;

	for (i = 0; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		sub[i] = '\0';
		ignore_excluded_walk(ig, sub, first ? NULL : parent, hits);
		memcpy(parent, hits, n);
		sub[i] = path[i];
		first = 0;
	}
	free(sub);
	free(parent);
	free(hits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const uint8_t *nul = memchr(data, 0, size);
	size_t text_len = nul ? (size_t)(nul - data) : size;
	struct error err = ERROR_INIT;
	struct ignore *ig = NULL;
	size_t pos;

	if (ignore_parse(&ig, text, text_len, "fuzz", &err) < 0) {
		/* A failed parse leaves nothing behind and says why. */
		if (ig || err.code != EXIT_USAGE || !err.msg[0])
			abort();
		return 0;
	}
	if (ignore_excluded(ig, ".") || ignore_excluded(ig, ""))
		abort();
	for (pos = text_len + 1; nul && pos <= size; ) {
		const uint8_t *end = memchr(data + pos, 0, size - pos);
		size_t n = end ? (size_t)(end - (data + pos)) : size - pos;
		char *path = xstrndup((const char *)data + pos, n);
		int ex = ignore_excluded(ig, path);

		/* Without a parent directory both matchers must agree. */
		if (!strchr(path, '/') &&
		    ignore_excluded_walk(ig, path, NULL, NULL) != ex)
			abort();
		ignore_walk_excluded_dir(ig, path);
		walk_components(ig, path);
		/* Later paths run against the list grown by this one,
		 * as the CLI grows it for the Dockerfile. */
		if (path[0])
			ignore_add_exception(ig, path);
		free(path);
		pos += n + 1;
	}
	ignore_free(ig);
	return 0;
}
