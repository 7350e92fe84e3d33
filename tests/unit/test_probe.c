/*
 * Unit tests for the health check command (builder/engine/probe.c): what
 * Docker would run for a container's Config.Healthcheck, and when there is
 * nothing to run.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "engine/probe.h"
#include "util/buf.h"
#include "unit.h"

/* The command for config (JSON text) as "a|b|c", "-" when none; *timeout
 * set through t. */
static char *command(const char *config, double *t)
{
	cJSON *c = cJSON_Parse(config);
	struct strlist argv = STRLIST_INIT;
	struct buf out = BUF_INIT(4096);
	double timeout = -1;

	CHECK(c != NULL);
	if (!probe_command(c, &argv, &timeout)) {
		CHECK(argv.n == 0);
		buf_addstr(&out, "-");
	}
	for (size_t i = 0; i < argv.n; i++)
		buf_addf(&out, "%s%s", i ? "|" : "", argv.v[i]);
	if (t)
		*t = timeout;
	strlist_clear(&argv);
	cJSON_Delete(c);
	return buf_detach(&out);
}

#define CHECK_CMD(config, want)                     \
	do {                                        \
		char *got_ = command(config, NULL); \
		CHECK_STR(got_, want);              \
		free(got_);                         \
	} while (0)

static void test_cmd_and_shell(void)
{
	CHECK_CMD(
		"{\"Healthcheck\":{\"Test\":[\"CMD\",\"pg_isready\",\"-q\"]}}",
		"pg_isready|-q");
	CHECK_CMD("{\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"curl -f x || "
		  "exit 1\"]}}",
		  "/bin/sh|-c|curl -f x || exit 1");
	/* SHELL in the Dockerfile: Docker runs CMD-SHELL with it. */
	CHECK_CMD("{\"Shell\":[\"/bin/bash\",\"-eo\",\"pipefail\",\"-c\"],"
		  "\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"a | b\"]}}",
		  "/bin/bash|-eo|pipefail|-c|a | b");
	CHECK_CMD("{\"Shell\":[],"
		  "\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"true\"]}}",
		  "/bin/sh|-c|true");
}

static void test_nothing_to_run(void)
{
	CHECK_CMD("{}", "-");
	CHECK_CMD("{\"Healthcheck\":null}", "-");
	CHECK_CMD("{\"Healthcheck\":{\"Test\":[\"NONE\"]}}", "-");
	CHECK_CMD("{\"Healthcheck\":{\"Test\":[]}}", "-");
	CHECK_CMD("{\"Healthcheck\":{\"Test\":[\"CMD\"]}}", "-");
	CHECK_CMD("{\"Healthcheck\":{\"Test\":\"CMD true\"}}", "-");
	CHECK_CMD("{\"Healthcheck\":{\"Test\":[\"CMD\",\"a\",7]}}", "-");
	CHECK_CMD("{\"Healthcheck\":{\"Test\":[\"CMD-SHELL\"]}}", "-");
	CHECK_CMD("{\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"a\",\"b\"]}}",
		  "-");
	CHECK_CMD("{\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",null]}}", "-");
	CHECK_CMD("{\"Shell\":[\"sh\",1],"
		  "\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"true\"]}}",
		  "-");
	CHECK_CMD("{\"Healthcheck\":{\"Test\":[\"cmd\",\"true\"]}}", "-");
}

static void test_timeout(void)
{
	double t = 0;
	char *s;

	s = command("{\"Healthcheck\":{\"Test\":[\"CMD\",\"x\"]}}", &t);
	CHECK(t == 30.0);
	free(s);
	s = command("{\"Healthcheck\":{\"Test\":[\"CMD\",\"x\"],"
		    "\"Timeout\":1500000000}}",
		    &t);
	CHECK(t == 1.5);
	free(s);
	s = command("{\"Healthcheck\":{\"Test\":[\"CMD\",\"x\"],"
		    "\"Timeout\":-5}}",
		    &t);
	CHECK(t == 30.0);
	free(s);
}

int main(void)
{
	RUN(test_cmd_and_shell);
	RUN(test_nothing_to_run);
	RUN(test_timeout);
	return unit_summary();
}
