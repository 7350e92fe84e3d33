/*
 * Unit tests for build secret specs (builder/session/secrets.c): the three
 * forms, SECRETS lines, and errors that name the file or variable but
 * never a value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session/secrets.h"
#include "util/error.h"
#include "unit.h"

static const char *lookup_env(const char *name)
{
	return getenv(name);
}

static void test_forms(void)
{
	struct secrets s = SECRETS_INIT;
	struct error err = ERROR_INIT;
	char path[] = "/tmp/test_secret.XXXXXX";
	int fd = mkstemp(path);
	const struct secret *x;

	CHECK(fd >= 0);
	CHECK(write(fd, "file-value\n", 11) == 11);
	close(fd);
	setenv("TEST_SECRET_VAR", "env-value", 1);
	setenv("TOKEN_T", "token-value", 1);
	{
		char spec[128];

		snprintf(spec, sizeof(spec), "id=npmrc,src=%s", path);
		CHECK(secrets_add(&s, spec, lookup_env, &err) == 0);
	}
	CHECK(secrets_add(&s, "id=var,env=TEST_SECRET_VAR", lookup_env, &err) ==
	      0);
	CHECK(secrets_add(&s, "id=TOKEN_T", lookup_env, &err) == 0);
	CHECK(secrets_add(&s, "type=env,id=t2,src=TOKEN_T", lookup_env, &err) ==
	      0);
	x = secrets_find(&s, "npmrc");
	CHECK(x && x->len == 11 && !memcmp(x->value, "file-value\n", 11));
	x = secrets_find(&s, "var");
	CHECK(x && x->len == 9 && !memcmp(x->value, "env-value", 9));
	x = secrets_find(&s, "TOKEN_T");
	CHECK(x && !strcmp(x->value, "token-value"));
	x = secrets_find(&s, "t2");
	CHECK(x && !strcmp(x->value, "token-value"));
	CHECK(secrets_find(&s, "nope") == NULL);
	/* The same id again replaces the value. */
	CHECK(secrets_add(&s, "id=var,env=TOKEN_T", lookup_env, &err) == 0);
	CHECK(s.n == 4);
	CHECK(!strcmp(secrets_find(&s, "var")->value, "token-value"));
	secrets_clear(&s);
	CHECK(s.n == 0);
	unlink(path);
}

static void test_lines(void)
{
	struct secrets s = SECRETS_INIT;
	struct error err = ERROR_INIT;

	setenv("TEST_SECRET_A", "a", 1);
	setenv("TEST_SECRET_B", "b", 1);
	CHECK(secrets_add_lines(&s,
				"\n  id=a,env=TEST_SECRET_A  \r\n# comment\n"
				"id=TEST_SECRET_B\n",
				lookup_env, &err) == 0);
	CHECK(s.n == 2);
	CHECK(secrets_find(&s, "a") && secrets_find(&s, "TEST_SECRET_B"));
	secrets_clear(&s);
}

static void test_errors(void)
{
	struct secrets s = SECRETS_INIT;
	struct error err = ERROR_INIT;

	unsetenv("TEST_SECRET_UNSET");
	CHECK(secrets_add(&s, "id=x,env=TEST_SECRET_UNSET", lookup_env, &err) <
	      0);
	CHECK(err.code == EXIT_USAGE);
	CHECK(strstr(err.msg, "'TEST_SECRET_UNSET', which is not set") != NULL);
	err_clear(&err);
	CHECK(secrets_add(&s, "id=x,src=/nonexistent/npmrc", lookup_env, &err) <
	      0);
	CHECK(strstr(err.msg, "'/nonexistent/npmrc'") != NULL);
	err_clear(&err);
	CHECK(secrets_add(&s, "src=/etc/hostname", lookup_env, &err) < 0);
	CHECK(strstr(err.msg, "has no id") != NULL);
	err_clear(&err);
	CHECK(secrets_add(&s, "id=x,colour=blue", lookup_env, &err) < 0);
	CHECK(strstr(err.msg, "unknown field 'colour'") != NULL);
	err_clear(&err);
	CHECK(secrets_add(&s, "id=x,src=/a,env=B", lookup_env, &err) < 0);
	err_clear(&err);
	CHECK(secrets_add(&s, "id=x,type=ssh", lookup_env, &err) < 0);
	err_clear(&err);
	CHECK(secrets_add(&s, "id=x,novalue", lookup_env, &err) < 0);
	err_clear(&err);
	/* A directory is not a secret file. */
	CHECK(secrets_add(&s, "id=x,src=/tmp", lookup_env, &err) < 0);
	CHECK(s.n == 0);
	/* Values never appear in messages. */
	setenv("TEST_SECRET_V", "hunter2", 1);
	err_clear(&err);
	CHECK(secrets_add_lines(&s, "id=v,env=TEST_SECRET_V\nid=bad,what=1",
				lookup_env, &err) < 0);
	CHECK(strstr(err.msg, "hunter2") == NULL);
	CHECK(strstr(err.msg, "SECRETS") != NULL);
	secrets_clear(&s);
}

int main(void)
{
	RUN(test_forms);
	RUN(test_lines);
	RUN(test_errors);
	return unit_summary();
}
