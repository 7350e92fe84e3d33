/*
 * Base images found in Dockerfiles.
 */
#include <string.h>

#include "context/dockerfile.h"
#include "unit.h"

static const struct {
	const char *text;
	const char *args; /* comma-separated K=V, or NULL */
	const char *want; /* space-separated images */
} cases[] = {
	{ "FROM busybox\n", NULL, "busybox" },
	{ "from busybox:1.36 as base\nRUN x\nFROM base\n", NULL,
	  "busybox:1.36" },
	{ "FROM --platform=linux/amd64 r.example.com:5000/a/b@sha256:x AS b\n",
	  NULL, "r.example.com:5000/a/b@sha256:x" },
	{ "FROM scratch\nCOPY x /\n", NULL, "" },
	{ "ARG V=1.2\nFROM img:${V}\nARG V=9\nFROM other:$V\n", NULL,
	  "img:1.2 other:1.2" },
	{ "ARG V=1.2\nFROM img:${V}\n", "V=3", "img:3" },
	{ "ARG BASE\nFROM $BASE\n", NULL, "" },
	{ "ARG BASE\nFROM $BASE\n", "BASE=alpine:3", "alpine:3" },
	{ "# syntax=docker/dockerfile:1\nFROM \\\n  busybox \\\n  AS x\n"
	  "FROM x AS y\nFROM y\nFROM busybox\n",
	  NULL, "busybox" },
	{ "FROM a\r\nFROM b\r\nFROM a\r\n", NULL, "a b" },
	{ "  FROM   spaced  \nRUN echo FROM fake\n", NULL, "spaced" },
	{ "FROM a \\\n# comment inside\n  AS s\nFROM s\n", NULL, "a" },
	{ "FROM\n", NULL, "" },
	{ "", NULL, "" },
	{ "FROM ${UNCLOSED\n", NULL, "" },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strlist args = STRLIST_INIT, got = STRLIST_INIT;
		char joined[512] = "";

		if (cases[i].args)
			strlist_split(&args, cases[i].args, ",");
		dockerfile_base_images(cases[i].text, strlen(cases[i].text),
				       &args, &got);
		for (size_t j = 0; j < got.n; j++) {
			snprintf(joined + strlen(joined),
				 sizeof(joined) - strlen(joined), "%s%s",
				 j ? " " : "", got.v[j]);
		}
		CHECK_STR(joined, cases[i].want);
		strlist_clear(&args);
		strlist_clear(&got);
	}
}

int main(void)
{
	RUN(test_cases);
	return unit_summary();
}
