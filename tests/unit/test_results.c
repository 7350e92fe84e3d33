/*
 * TEST_RESULTS values (builder/pipeline/results.c): PATH[:LOCAL_DIR].
 */
#include <string.h>

#include "pipeline/results.h"
#include "unit.h"

struct spec_case {
	const char *arg;
	const char *path, *local; /* NULL path: refused */
	const char *error;
};

static const struct spec_case spec_cases[] = {
	{ "/app/out", "/app/out", "test-results", NULL },
	{ "/app/out/", "/app/out", "test-results", NULL },
	{ "/app/out/.", "/app/out", "test-results", NULL },
	{ "/app/out//./", "/app/out", "test-results", NULL },
	{ "/app/junit.xml:reports", "/app/junit.xml", "reports", NULL },
	{ "out:/tmp/r:x", "out", "/tmp/r:x", NULL },
	{ "reports", "reports", "test-results", NULL },
	{ "/", NULL, NULL,
	  "TEST_RESULTS '/': name a file or directory of the test container, "
	  "e.g. /app/test-results[:LOCAL_DIR]" },
	{ "//", NULL, NULL, NULL },
	{ "", NULL, NULL, NULL },
	{ ":x", NULL, NULL, NULL },
	{ "/out:", NULL, NULL,
	  "TEST_RESULTS '/out:': nothing after ':'; give LOCAL_DIR or leave "
	  "out the ':'" },
};

static void test_spec(void)
{
	for (size_t i = 0; i < sizeof(spec_cases) / sizeof(*spec_cases); i++) {
		const struct spec_case *c = &spec_cases[i];
		struct results_spec spec;
		struct error err = ERROR_INIT;
		int rc =
			results_spec_parse(&spec, c->arg, "TEST_RESULTS", &err);

		if (c->path) {
			CHECK(rc == 0);
			CHECK_STR(spec.path, c->path);
			CHECK_STR(spec.local_dir, c->local);
		} else {
			CHECK(rc < 0);
			CHECK(err.code == EXIT_USAGE);
			if (c->error)
				CHECK_STR(err.msg, c->error);
		}
		if (unit_failures_in_test)
			fprintf(stderr, "  in '%s'\n", c->arg);
		results_spec_release(&spec);
	}
}

int main(void)
{
	RUN(test_spec);
	return unit_summary();
}
