/*
 * libFuzzer target for builder/engine/bktrace.c. The input is one StatusResponse,
 * decoded three times into one decoder: raw, raw again (the steps are now
 * known), and base64-encoded through bktrace_feed. Each call must agree on
 * the verdict, fail only with EXIT_ENGINE, print nothing when it fails, and
 * print only whole lines when it succeeds.
 *
 *	clang -g -fsanitize=fuzzer,address,undefined -Ibuilder \
 *	    tests/fuzz/fuzz_bktrace.c builder/engine/bktrace.c builder/util/base64.c \
 *	    builder/util/buf.c builder/util/error.c builder/util/xmalloc.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"
#include "engine/bktrace.h"
#include "util/buf.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *out;
static char *text;
static size_t text_len;

/* Checks one call's outcome against the output it left. */
static void check(int ret, const struct error *err, size_t before)
{
	fflush(out);
	if (ret != 0 && ret != -1)
		abort();
	if (ret < 0 && (err->code != EXIT_ENGINE || text_len != before))
		abort();
	if (text_len && text[text_len - 1] != '\n')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bktrace t;
	struct error e1 = ERROR_INIT, e2 = ERROR_INIT, e3 = ERROR_INIT;
	char *b64;
	size_t before;
	int r1, r2, r3;

	text = NULL;
	text_len = 0;
	out = open_memstream(&text, &text_len);
	if (!out)
		abort();
	bktrace_init(&t);
	t.out = out;

	r1 = bktrace_decode(&t, data, size, &e1);
	check(r1, &e1, 0);
	fflush(out);
	before = text_len;
	r2 = bktrace_decode(&t, data, size, &e2);
	check(r2, &e2, before);
	b64 = base64_encode(data, size);
	fflush(out);
	before = text_len;
	r3 = bktrace_feed(&t, b64, &e3);
	check(r3, &e3, before);
	free(b64);
	/* The same bytes are malformed every time or never, whatever the
	 * decoder has seen; only the step cap may trip later. */
	if (r1 != r2 && !strstr(e2.msg, "build steps"))
		abort();
	if (r2 != r3 || (r2 < 0 && strcmp(e2.msg, e3.msg)))
		abort();
	if (t.failed_step.len && !t.failed_error.len)
		abort();
	bktrace_flush(&t);
	fflush(out);
	if (text_len && text[text_len - 1] != '\n')
		abort();
	bktrace_release(&t);
	fclose(out);
	free(text);
	return 0;
}
