/*
 * The error idiom: the first failure sticks, an interruption replaces an
 * ordinary failure, err_wrap adds context, err_clear forgets.
 */
#include <string.h>

#include "util/error.h"
#include "unit.h"

static void test_first_error_sticks(void)
{
	struct error err = ERROR_INIT;

	CHECK(err_set(&err, EXIT_ENGINE, "lost the connection") == -1);
	CHECK(err_set(&err, EXIT_BUILD, "a tar record larger than %u", 4u) ==
	      -1);
	CHECK(err.code == EXIT_ENGINE);
	CHECK_STR(err.msg, "lost the connection");
	err_wrap(&err, "build failed");
	CHECK_STR(err.msg, "build failed: lost the connection");
	CHECK(err.code == EXIT_ENGINE);
	err_clear(&err);
	CHECK(err.code == 0);
	err_set(&err, EXIT_BUILD, "second");
	CHECK(err.code == EXIT_BUILD);
	CHECK_STR(err.msg, "second");
}

static void test_interruption_wins(void)
{
	struct error err = ERROR_INIT;

	err_set(&err, EXIT_PUSH, "push failed");
	err_set(&err, EXIT_SIGINT, "interrupted by SIGINT");
	CHECK(err.code == EXIT_SIGINT);
	CHECK_STR(err.msg, "interrupted by SIGINT");
	/* ...and is itself the first failure from then on. */
	err_set(&err, EXIT_SIGTERM, "interrupted by SIGTERM");
	err_set(&err, EXIT_ENGINE, "cleanup failed");
	CHECK(err.code == EXIT_SIGINT);
	CHECK_STR(err.msg, "interrupted by SIGINT");
}

/* A hint goes after the message, keeps the code, and never overruns. */
static void test_hint(void)
{
	struct error err = ERROR_INIT;
	char big[ERROR_MSG_MAX + 10];

	err_set(&err, EXIT_BUILD, "secret npmrc not found");
	err_hint(&err, "give it with --secret id=%s,src=PATH", "npmrc");
	CHECK_STR(err.msg, "secret npmrc not found; give it with --secret "
			   "id=npmrc,src=PATH");
	CHECK(err.code == EXIT_BUILD);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	err_clear(&err);
	err_set(&err, EXIT_BUILD, "%s", big);
	err_hint(&err, "%s", big);
	CHECK(strlen(err.msg) == ERROR_MSG_MAX - 1);
}

int main(void)
{
	RUN(test_first_error_sticks);
	RUN(test_interruption_wins);
	RUN(test_hint);
	return unit_summary();
}
