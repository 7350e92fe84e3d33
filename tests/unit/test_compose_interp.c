/*
 * Compose variable interpolation (builder/compose/interp.c). Expected values
 * follow the compose specification; the non-nested cases were checked with
 * Debian's docker-compose 1.29 (`docker-compose config`), see
 * tests/e2e/compose-vs-docker-compose.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "compose/interp.h"
#include "unit.h"

static const char *lookup(const char *name, void *ctx)
{
	(void)ctx;
	if (!strcmp(name, "A"))
		return "a";
	if (!strcmp(name, "EMPTY"))
		return "";
	if (!strcmp(name, "B_2"))
		return "b2";
	if (!strcmp(name, "DOLLAR"))
		return "$A";
	return NULL;
}

struct icase {
	const char *in;
	const char *want; /* NULL: an error */
	const char *unset; /* the names reported unset, space-separated */
};

static const struct icase cases[] = {
	{ "plain", "plain", "" },
	{ "", "", "" },
	{ "$A", "a", "" },
	{ "${A}", "a", "" },
	{ "x$A-y", "xa-y", "" },
	{ "$Ab", "", "Ab" }, /* the longest name */
	{ "${A}b", "ab", "" },
	{ "$B_2$A", "b2a", "" },
	{ "$UNSET", "", "UNSET" },
	{ "${UNSET}x${UNSET}", "x", "UNSET" },
	{ "$$", "$", "" },
	{ "$$A", "$A", "" },
	{ "$$$A", "$a", "" },
	{ "${DOLLAR}", "$A", "" }, /* values are not interpolated again */
	/* :- and - */
	{ "${UNSET:-def}", "def", "" },
	{ "${EMPTY:-def}", "def", "" },
	{ "${A:-def}", "a", "" },
	{ "${UNSET-def}", "def", "" },
	{ "${EMPTY-def}", "", "" },
	{ "${A-def}", "a", "" },
	{ "${UNSET:-}", "", "" },
	{ "${UNSET:-a b:c}", "a b:c", "" },
	{ "${UNSET:-$A}", "a", "" },
	{ "${UNSET:-${A}}", "a", "" },
	{ "${UNSET:-${NOPE:-deep}}", "deep", "" },
	{ "${A:-${NOPE}}", "a", "" }, /* unused default: not looked up */
	{ "${UNSET:-$$}", "$", "" },
	/* :? and ? */
	{ "${A:?need A}", "a", "" },
	{ "${A?need A}", "a", "" },
	{ "${EMPTY?need}", "", "" },
	{ "${UNSET:?need it}", NULL, "" },
	{ "${EMPTY:?need it}", NULL, "" },
	{ "${UNSET?need it}", NULL, "" },
	{ "${UNSET:?}", NULL, "" },
	{ "${A:-${UNSET:?x}}", "a", "" }, /* not evaluated */
	/* :+ and + */
	{ "${A:+yes}", "yes", "" },
	{ "${EMPTY:+yes}", "", "" },
	{ "${EMPTY+yes}", "yes", "" },
	{ "${UNSET+yes}", "", "" },
	/* malformed */
	{ "$", NULL, "" },
	{ "a$", NULL, "" },
	{ "$1", NULL, "" },
	{ "$ x", NULL, "" },
	{ "${}", NULL, "" },
	{ "${A", NULL, "" },
	{ "${A:-x", NULL, "" },
	{ "${1A}", NULL, "" },
	{ "${A:x}", NULL, "" },
	{ "${A B}", NULL, "" },
	{ "${A:-${}}", NULL, "" }, /* syntax errors count even unused */
};

static void test_interp_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct error err = ERROR_INIT;
		struct strlist unset = STRLIST_INIT;
		char *out = NULL, joined[256] = "";
		int rc = interp_string(cases[i].in, lookup, NULL, &out, &unset,
				       &err);
		size_t u;

		for (u = 0; u < unset.n; u++)
			snprintf(joined + strlen(joined),
				 sizeof(joined) - strlen(joined), "%s%s",
				 u ? " " : "", unset.v[u]);
		if (cases[i].want) {
			if (rc != 0)
				fprintf(stderr, "case '%s': %s\n", cases[i].in,
					err.msg);
			CHECK(rc == 0);
			CHECK_STR(out, cases[i].want);
			CHECK_STR(joined, cases[i].unset);
		} else {
			if (rc == 0)
				fprintf(stderr, "case '%s' gave '%s'\n",
					cases[i].in, out);
			CHECK(rc == -1);
			CHECK(out == NULL);
			CHECK(err.code == EXIT_USAGE);
			CHECK(err.msg[0] != '\0');
		}
		free(out);
		strlist_clear(&unset);
	}
}

static void test_interp_messages(void)
{
	struct error err = ERROR_INIT;
	char *out = NULL;

	CHECK(interp_string("${DB:?set DB to the test database}", lookup, NULL,
			    &out, NULL, &err) == -1);
	CHECK(strstr(err.msg, "'DB'") != NULL);
	CHECK(strstr(err.msg, "set DB to the test database") != NULL);
	err_clear(&err);
	CHECK(interp_string("echo $1", lookup, NULL, &out, NULL, &err) == -1);
	CHECK(strstr(err.msg, "$$") != NULL);
}

int main(void)
{
	RUN(test_interp_table);
	RUN(test_interp_messages);
	return unit_summary();
}
