/*
 * The Markdown summary and the GitHub step outputs
 * (builder/pipeline/summary.c): the exact text for a pushed run, for a
 * failed test run with hostile case names, and the GITHUB_OUTPUT
 * delimiter rules.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/summary.h"
#include "unit.h"
#include "util/xmalloc.h"

static void fill(struct summary *s, struct strlist *tags)
{
	memset(s, 0, sizeof(*s));
	strlist_push(tags, "reg:5000/acme/app:1.2");
	strlist_push(tags, "reg:5000/acme/app:latest");
	s->image = "reg:5000/acme/app:1.2";
	s->digest = "sha256:abcd";
	s->image_id = "sha256:1234";
	s->tags = tags;
	s->stages[0] = (struct summary_stage){ "build", "ok", 12.34 };
	s->stages[1] = (struct summary_stage){ "test", "ok", 1.0 };
	s->stages[2] = (struct summary_stage){ "push", "not run", -1 };
	s->nstages = 3;
}

static void test_markdown_ok(void)
{
	struct summary s;
	struct strlist tags = STRLIST_INIT;
	struct buf out = BUF_INIT(BUF_TEXT_MAX);

	fill(&s, &tags);
	CHECK(summary_markdown(&s, &out) == 0);
	CHECK_STR(out.data,
		  "### builder: `reg:5000/acme/app:1.2` ok\n\n"
		  "| | |\n|---|---|\n"
		  "| image | `reg:5000/acme/app:1.2` |\n"
		  "| digest | `sha256:abcd` |\n"
		  "| image ID | `sha256:1234` |\n"
		  "| tags | "
		  "`reg:5000/acme/app:1.2`<br>`reg:5000/acme/app:latest` |\n"
		  "\n"
		  "| stage | result | duration |\n|---|---|---|\n"
		  "| build | ok | 12.3 s |\n"
		  "| test | ok | 1.0 s |\n"
		  "| push | not run |  |\n\n");
	buf_release(&out);
	strlist_clear(&tags);
}

static void test_markdown_failed_tests(void)
{
	struct summary s;
	struct strlist tags = STRLIST_INIT;
	struct buf out = BUF_INIT(BUF_TEXT_MAX);
	struct junit j;

	fill(&s, &tags);
	s.digest = NULL;
	s.tags = NULL;
	junit_init(&j);
	j.tests = 3;
	j.failures = 1;
	j.errors = 1;
	j.skipped = 0;
	j.time = 0.25;
	j.files = 1;
	j.ncases = 2;
	j.more_cases = 4;
	j.cases[0] =
		(struct junit_case){ xstrdup("a|b"), "failure",
				     xstrdup("<script>x</script> *bold* `c`") };
	j.cases[1] = (struct junit_case){ xstrdup("[x](http://e)"), "error",
					  xstrdup("") };
	s.tests = &j;
	s.exit_code = 4;
	s.error = "tests failed: exit code 1";
	summary_markdown(&s, &out);
	CHECK(strstr(out.data,
		     "### builder: `reg:5000/acme/app:1.2` failed\n") != NULL);
	CHECK(strstr(out.data, "digest") == NULL);
	CHECK(strstr(out.data,
		     "**Tests:** 3 tests, 1 failure, 1 error, 0 skipped "
		     "in 0.2 s (1 JUnit file)\n\n") != NULL ||
	      strstr(out.data,
		     "**Tests:** 3 tests, 1 failure, 1 error, 0 skipped "
		     "in 0.3 s (1 JUnit file)\n\n") != NULL);
	CHECK(strstr(out.data,
		     "| failing test | message |\n|---|---|\n"
		     "| a\\|b (failure) | &lt;script&gt;x&lt;/script&gt; "
		     "\\*bold\\* \\`c\\` |\n"
		     "| \\[x\\](http://e) (error) |  |\n"
		     "\nand 4 more failing tests\n\n") != NULL);
	CHECK(strstr(out.data, "**Error:** tests failed: exit code 1\n") !=
	      NULL);
	if (unit_failures_in_test)
		fprintf(stderr, "%s", out.data);
	junit_release(&j);
	buf_release(&out);
	strlist_clear(&tags);
}

static void test_github_output(void)
{
	struct summary s;
	struct strlist tags = STRLIST_INIT;
	struct buf out = BUF_INIT(BUF_TEXT_MAX);
	struct error err = ERROR_INIT;

	fill(&s, &tags);
	CHECK(summary_github_output(&s, "{\"a\":1}\n", "EOF_x", &out, &err) ==
	      0);
	CHECK_STR(out.data, "digest<<EOF_x\nsha256:abcd\nEOF_x\n"
			    "imageid<<EOF_x\nsha256:1234\nEOF_x\n"
			    "tags<<EOF_x\nreg:5000/acme/app:1.2\n"
			    "reg:5000/acme/app:latest\nEOF_x\n"
			    "metadata<<EOF_x\n{\"a\":1}\nEOF_x\n");
	buf_reset(&out);
	s.digest = NULL;
	s.tags = NULL;
	CHECK(summary_github_output(&s, NULL, "D", &out, &err) == 0);
	CHECK_STR(out.data, "digest<<D\nD\nimageid<<D\nsha256:1234\nD\n"
			    "tags<<D\nD\nmetadata<<D\nD\n");
	buf_reset(&out);
	CHECK(summary_github_output(&s, "x\nEOF_x\nevil=1", "EOF_x", &out,
				    &err) < 0);
	CHECK_STR(err.msg, "cannot write 'metadata' to GITHUB_OUTPUT: the "
			   "value holds the delimiter");
	buf_release(&out);
	strlist_clear(&tags);
}

static void test_delimiter(void)
{
	char a[64], b[64];

	summary_delimiter(a, sizeof(a));
	summary_delimiter(b, sizeof(b));
	CHECK(strncmp(a, "ghadelimiter_", 13) == 0);
	CHECK(strlen(a) == 13 + 32);
	CHECK(strspn(a + 13, "0123456789abcdef") == 32);
	CHECK(strcmp(a, b) != 0);
}

static void test_write_file(void)
{
	char path[64], data[128] = "";
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	struct error err = ERROR_INIT;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/tmp/test_summary.%d", (int)getpid());
	buf_addstr(&b, "one\n");
	CHECK(summary_write_file("GITHUB_OUTPUT", path, &b, 1, &err) == 0);
	CHECK(summary_write_file("GITHUB_OUTPUT", path, &b, 1, &err) == 0);
	fd = open(path, O_RDONLY);
	n = read(fd, data, sizeof(data) - 1);
	close(fd);
	data[n > 0 ? n : 0] = '\0';
	CHECK_STR(data, "one\none\n");
	CHECK(summary_write_file("SUMMARY", path, &b, 0, &err) == 0);
	fd = open(path, O_RDONLY);
	n = read(fd, data, sizeof(data) - 1);
	close(fd);
	data[n > 0 ? n : 0] = '\0';
	CHECK_STR(data, "one\n");
	unlink(path);
	CHECK(summary_write_file("SUMMARY", "/nonexistent/dir/x", &b, 0, &err) <
	      0);
	CHECK(strstr(err.msg, "cannot open SUMMARY '/nonexistent/dir/x'") ==
	      err.msg);
	buf_release(&b);
}

int main(void)
{
	RUN(test_markdown_ok);
	RUN(test_markdown_failed_tests);
	RUN(test_github_output);
	RUN(test_delimiter);
	RUN(test_write_file);
	return unit_summary();
}
