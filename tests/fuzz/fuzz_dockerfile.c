/*
 * libFuzzer target for the Dockerfile base-image reader
 * (builder/context/dockerfile.c). The input is a Dockerfile, then after a NUL byte
 * any number of NUL-separated build arguments ("K=V"). Every image found
 * must be a non-empty name without '$', not `scratch`, listed once; the
 * result must not change when the lines end in CRLF instead of LF, nor
 * when the same text is read again into a list that already holds it.
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -Ibuilder \
 *	    tests/fuzz/fuzz_dockerfile.c builder/context/dockerfile.c builder/util/buf.c \
 *	    builder/util/strlist.c builder/util/error.c builder/util/xmalloc.c \
 *	    -o build/fuzz_dockerfile
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "context/dockerfile.h"
#include "util/strlist.h"
#include "util/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_list(const struct strlist *a, const struct strlist *b)
{
	if (a->n != b->n)
		abort();
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const uint8_t *nul = memchr(data, 0, size);
	size_t text_len = nul ? (size_t)(nul - data) : size, pos, i, j;
	struct strlist args = STRLIST_INIT, out = STRLIST_INIT;
	struct strlist crlf_out = STRLIST_INIT;
	char *crlf;
	size_t crlf_len = 0, before;

	for (pos = text_len + 1; nul && pos <= size;) {
		const uint8_t *end = memchr(data + pos, 0, size - pos);
		size_t n = end ? (size_t)(end - (data + pos)) : size - pos;
		char *arg = xstrndup((const char *)data + pos, n);

		strlist_push(&args, arg);
		free(arg);
		pos += n + 1;
	}

	dockerfile_base_images(text, text_len, &args, &out);
	for (i = 0; i < out.n; i++) {
		if (!out.v[i][0] || strchr(out.v[i], '$') ||
		    !strcasecmp(out.v[i], "scratch"))
			abort();
		for (j = 0; j < i; j++)
			if (!strcmp(out.v[i], out.v[j]))
				abort();
	}

	/* Reading it again adds nothing: each image is listed once. */
	before = out.n;
	dockerfile_base_images(text, text_len, &args, &out);
	if (out.n != before)
		abort();

	crlf = xmalloc(2 * text_len + 1);
	for (i = 0; i < text_len; i++) {
		if (text[i] == '\n')
			crlf[crlf_len++] = '\r';
		crlf[crlf_len++] = text[i];
	}
	dockerfile_base_images(crlf, crlf_len, &args, &crlf_out);
	same_list(&out, &crlf_out);

	free(crlf);
	strlist_clear(&crlf_out);
	strlist_clear(&out);
	strlist_clear(&args);
	return 0;
}
