/*
 * libFuzzer target for the JUnit XML reader (builder/pipeline/junit.c).
 * The first byte chooses where the rest is split; the two parts are fed
 * one after the other, and the same bytes are read whole: the verdict,
 * the totals and the failing cases must not depend on where the reads
 * were cut. Every kept case has a name and a message within
 * JUNIT_TEXT_MAX bytes, free of newlines, and at most JUNIT_CASES_MAX
 * are kept; a failure always says why.
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -Ibuilder \
 *	    tests/fuzz/fuzz_junit.c builder/pipeline/junit.c builder/util/buf.c
 *\ builder/util/error.c builder/util/xmalloc.c -lexpat -o build/fuzz_junit
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/junit.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run(const char *text, size_t size, size_t split, struct junit *j,
	       struct error *err)
{
	struct junit_reader *r = junit_reader_new(j, "fuzz.xml");
	int rc = -1;

	if (junit_reader_feed(r, text, split, err) == 0 &&
	    junit_reader_feed(r, text + split, size - split, err) == 0)
		rc = junit_reader_finish(r, err);
	junit_reader_free(r);
	if (rc < 0 && !err->msg[0])
		abort();
	if (rc >= 0 && err->code)
		abort();
	return rc;
}

static void check_text(const char *s)
{
	if (!s || strlen(s) > JUNIT_TEXT_MAX || strchr(s, '\n'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct junit a, b;
	struct error ea = ERROR_INIT, eb = ERROR_INIT;
	const char *text = (const char *)data + 1;
	size_t at;
	int ra, rb;

	if (!size)
		return 0;
	at = size > 1 ? data[0] % size : 0;
	size--;
	if (at > size)
		at = size;
	junit_init(&a);
	junit_init(&b);
	ra = run(text, size, at, &a, &ea);
	rb = run(text, size, size, &b, &eb);
	if (ra != rb || a.tests != b.tests || a.failures != b.failures ||
	    a.errors != b.errors || a.skipped != b.skipped ||
	    a.ncases != b.ncases || a.more_cases != b.more_cases ||
	    a.files != b.files || a.time != b.time)
		abort();
	if (ra < 0 && strcmp(ea.msg, eb.msg) &&
	    !strstr(ea.msg, "not well-formed"))
		abort();
	if (a.ncases > JUNIT_CASES_MAX || a.tests < 0 || a.failures < 0 ||
	    a.time < 0)
		abort();
	for (size_t i = 0; i < a.ncases; i++) {
		check_text(a.cases[i].name);
		check_text(a.cases[i].message);
		if (strcmp(a.cases[i].name, b.cases[i].name) ||
		    strcmp(a.cases[i].message, b.cases[i].message) ||
		    strcmp(a.cases[i].kind, b.cases[i].kind))
			abort();
	}
	junit_release(&a);
	junit_release(&b);
	return 0;
}
