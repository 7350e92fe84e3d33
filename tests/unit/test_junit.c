/*
 * JUnit XML reading (builder/pipeline/junit.c): the shapes real producers
 * write (Surefire, pytest, go-junit-report, jest-junit, totals-only
 * suites), fed whole and at every split point, plus the hostile ones
 * (not well-formed, entity bombs, huge attributes, deep nesting).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/junit.h"
#include "unit.h"
#include "util/buf.h"

struct totals_case {
	const char *what;
	const char *xml;
	int rc; /* of junit_read_mem */
	long long tests, failures, errors, skipped;
	double time;
	size_t ncases;
	const char *first_name, *first_kind, *first_message;
};

static const struct totals_case totals_cases[] = {
	{ "surefire",
	  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	  "<testsuite name=\"com.acme.AppTest\" tests=\"3\" failures=\"1\" "
	  "errors=\"0\" skipped=\"1\" time=\"0.5\">\n"
	  " <testcase classname=\"com.acme.AppTest\" name=\"ok\" "
	  "time=\"0.1\"/>\n"
	  " <testcase classname=\"com.acme.AppTest\" name=\"bad\" "
	  "time=\"0.2\">\n"
	  "  <failure message=\"expected:&lt;1&gt; but was:&lt;2&gt;\" "
	  "type=\"AssertionError\">stack\ntrace</failure>\n"
	  " </testcase>\n"
	  " <testcase classname=\"com.acme.AppTest\" "
	  "name=\"later\"><skipped/></testcase>\n"
	  "</testsuite>\n",
	  1, 3, 1, 0, 1, 0.5, 1, "com.acme.AppTest.bad", "failure",
	  "expected:<1> but was:<2>" },
	{ "pytest: testsuites root, message from the text",
	  "<testsuites><testsuite name=\"pytest\" time=\"1,234.5\">"
	  "<testcase classname=\"t.test_x\" name=\"test_a\"/>"
	  "<testcase classname=\"t.test_x\" name=\"test_b\">"
	  "<error>\n\n   ValueError: boom  \nmore</error></testcase>"
	  "</testsuite></testsuites>",
	  1, 2, 0, 1, 0, 1234.5, 1, "t.test_x.test_b", "error",
	  "ValueError: boom" },
	{ "totals only: attributes counted",
	  "<testsuites><testsuite tests=\"10\" failures=\"2\" errors=\"1\" "
	  "disabled=\"3\" time=\"2\"/><testsuite tests=\"5\" time=\"1\"/>"
	  "</testsuites>",
	  1, 15, 2, 1, 3, 3, 0, NULL, NULL, NULL },
	{ "wrong attributes lose to the cases",
	  "<testsuite tests=\"99\" failures=\"99\"><testcase name=\"a\" "
	  "time=\"2\"/>"
	  "<testcase name=\"b\" time=\"x\"/></testsuite>",
	  1, 2, 0, 0, 0, 2, 0, NULL, NULL, NULL },
	{ "outer time wins over the sum",
	  "<testsuites time=\"9\"><testsuite time=\"1\"><testcase name=\"a\"/>"
	  "</testsuite><testsuite time=\"2\"/></testsuites>",
	  1, 1, 0, 0, 0, 9, 0, NULL, NULL, NULL },
	{ "namespaced names, a case with no name",
	  "<j:testsuite xmlns:j=\"urn:x\"><j:testcase><j:failure "
	  "message=\"m\"/>"
	  "</j:testcase></j:testsuite>",
	  1, 1, 1, 0, 0, 0, 1, "(unnamed)", "failure", "m" },
	{ "first of two failures counts once",
	  "<testsuite><testcase name=\"a\"><failure message=\"one\"/>"
	  "<error message=\"two\"/></testcase></testsuite>",
	  1, 1, 1, 0, 0, 0, 1, "a", "failure", "one" },
	{ "control characters in names and messages",
	  "<testsuite><testcase name=\"a&#9;b&#127;\"><failure message=\""
	  "  first&#10;second\"/></testcase></testsuite>",
	  1, 1, 1, 0, 0, 0, 1, "a b ", "failure", "first" },
	{ "not JUnit: a Cobertura report",
	  "<?xml version=\"1.0\"?><coverage "
	  "line-rate=\"0.9\"><packages/></coverage>",
	  0, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "not JUnit, and broken after the root: still ignored",
	  "<coverage><a></b></coverage>", 0, 0, 0, 0, 0, 0, 0, NULL, NULL,
	  NULL },
	{ "not well-formed", "<testsuite><testcase name=\"a\"></testsuite>", -1,
	  0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "truncated", "<testsuite><testcase name=\"a\"/>", -1, 0, 0, 0, 0, 0,
	  0, NULL, NULL, NULL },
	{ "empty", "", -1, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "entity declarations refused",
	  "<!DOCTYPE t [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
	  "\"&a;&a;&a;&a;\">]>"
	  "<testsuite><testcase name=\"&b;\"/></testsuite>",
	  -1, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
	{ "external entity refused",
	  "<!DOCTYPE t [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
	  "<testsuite><testcase name=\"&x;\"/></testsuite>",
	  -1, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL },
};

static void check_totals(const struct totals_case *c, const struct junit *j,
			 int rc, const struct error *err)
{
	int before = unit_failures_in_test;

	CHECK(rc == c->rc);
	if (rc != c->rc)
		fprintf(stderr, "  case '%s': rc %d (%s)\n", c->what, rc,
			err->msg);
	if (c->rc < 0) {
		CHECK(err->msg[0] != '\0');
		CHECK(j->tests == 0 && j->files == 0);
		return;
	}
	CHECK(j->tests == c->tests);
	CHECK(j->failures == c->failures);
	CHECK(j->errors == c->errors);
	CHECK(j->skipped == c->skipped);
	CHECK(j->time > c->time - 1e-9 && j->time < c->time + 1e-9);
	CHECK(j->ncases == c->ncases);
	CHECK(j->files == (size_t)(c->rc == 1));
	if (c->ncases) {
		CHECK_STR(j->cases[0].name, c->first_name);
		CHECK_STR(j->cases[0].kind, c->first_kind);
		CHECK_STR(j->cases[0].message, c->first_message);
	}
	if (unit_failures_in_test > before)
		fprintf(stderr, "  in case '%s'\n", c->what);
}

static void test_totals(void)
{
	for (size_t i = 0; i < sizeof(totals_cases) / sizeof(*totals_cases);
	     i++) {
		const struct totals_case *c = &totals_cases[i];
		struct junit j;
		struct error err = ERROR_INIT;
		int rc;

		junit_init(&j);
		rc = junit_read_mem(&j, c->xml, strlen(c->xml), "t.xml", &err);
		check_totals(c, &j, rc, &err);
		junit_release(&j);
	}
}

/* The same answers whatever the read sizes: split at every point. */
static void test_every_split(void)
{
	for (size_t i = 0; i < sizeof(totals_cases) / sizeof(*totals_cases);
	     i++) {
		const struct totals_case *c = &totals_cases[i];
		size_t len = strlen(c->xml);

		for (size_t at = 0; at <= len; at++) {
			struct junit j;
			struct error err = ERROR_INIT;
			struct junit_reader *r;
			int rc = -1;

			junit_init(&j);
			r = junit_reader_new(&j, "t.xml");
			if (junit_reader_feed(r, c->xml, at, &err) == 0 &&
			    junit_reader_feed(r, c->xml + at, len - at, &err) ==
				    0)
				rc = junit_reader_finish(r, &err);
			junit_reader_free(r);
			check_totals(c, &j, rc, &err);
			junit_release(&j);
			if (unit_failures_in_test)
				return;
		}
	}
}

static void test_many_failures_and_files(void)
{
	struct buf x = BUF_INIT(BUF_TEXT_MAX);
	struct junit j;
	struct error err = ERROR_INIT;

	buf_addstr(&x, "<testsuite>");
	for (int i = 0; i < 25; i++)
		buf_addf(&x,
			 "<testcase classname=\"c\" name=\"t%d\">"
			 "<failure message=\"m%d\"/></testcase>",
			 i, i);
	buf_addstr(&x, "</testsuite>");
	junit_init(&j);
	CHECK(junit_read_mem(&j, x.data, x.len, "a.xml", &err) == 1);
	CHECK(junit_read_mem(&j, x.data, x.len, "b.xml", &err) == 1);
	CHECK(j.tests == 50 && j.failures == 50 && j.files == 2);
	CHECK(j.ncases == JUNIT_CASES_MAX);
	CHECK(j.more_cases == 30);
	CHECK_STR(j.cases[19].name, "c.t19");
	CHECK_STR(j.cases[19].message, "m19");
	junit_release(&j);
	buf_release(&x);
}

/* Long names and messages are cut, never inside a UTF-8 sequence. */
static void test_long_text(void)
{
	struct buf x = BUF_INIT(BUF_TEXT_MAX);
	struct junit j;
	struct error err = ERROR_INIT;

	buf_addstr(&x, "<testsuite><testcase name=\"");
	for (int i = 0; i < 300; i++)
		buf_addstr(&x, "\xC3\xA9");
	buf_addstr(&x, "\"><failure>");
	for (int i = 0; i < 5000; i++)
		buf_addch(&x, 'm');
	buf_addstr(&x, "</failure></testcase></testsuite>");
	junit_init(&j);
	CHECK(junit_read_mem(&j, x.data, x.len, "t.xml", &err) == 1);
	CHECK(j.ncases == 1);
	CHECK(strlen(j.cases[0].name) == JUNIT_TEXT_MAX);
	CHECK(strlen(j.cases[0].message) == JUNIT_TEXT_MAX);
	junit_release(&j);
	buf_release(&x);

	buf_addstr(&x, "<testsuite><testcase name=\"");
	buf_addstr(&x, "a");
	for (int i = 0; i < 300; i++)
		buf_addstr(&x, "\xC3\xA9");
	buf_addstr(&x, "\"><error/></testcase></testsuite>");
	junit_init(&j);
	CHECK(junit_read_mem(&j, x.data, x.len, "t.xml", &err) == 1);
	CHECK(j.ncases == 1 && strlen(j.cases[0].name) == JUNIT_TEXT_MAX - 1);
	junit_release(&j);
	buf_release(&x);
}

/* A 20 MB attribute: refused for memory, not held. */
static void test_memory_bound(void)
{
	struct junit j;
	struct error err = ERROR_INIT;
	struct junit_reader *r;
	char chunk[65536];
	int rc = 0;

	memset(chunk, 'a', sizeof(chunk));
	junit_init(&j);
	r = junit_reader_new(&j, "big.xml");
	rc = junit_reader_feed(r, "<testsuite><testcase name=\"", 27, &err);
	for (int i = 0; i < 320 && rc == 0; i++)
		rc = junit_reader_feed(r, chunk, sizeof(chunk), &err);
	CHECK(rc < 0);
	CHECK(strstr(err.msg, "'big.xml': needs more than 8 MiB") == err.msg);
	junit_reader_free(r);
	junit_release(&j);
}

static void test_deep_nesting(void)
{
	struct buf x = BUF_INIT(BUF_TEXT_MAX);
	struct junit j;
	struct error err = ERROR_INIT;

	for (int i = 0; i < 100; i++)
		buf_addstr(&x, "<testsuite>");
	for (int i = 0; i < 100; i++)
		buf_addstr(&x, "</testsuite>");
	junit_init(&j);
	CHECK(junit_read_mem(&j, x.data, x.len, "t.xml", &err) < 0);
	CHECK_STR(err.msg, "'t.xml': test suites nested too deeply");
	junit_release(&j);
	buf_release(&x);
}

static void test_read_file(void)
{
	char path[64], link_path[80];
	struct junit j;
	struct error err = ERROR_INIT;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/test_junit.%d.xml", (int)getpid());
	snprintf(link_path, sizeof(link_path), "%s.link", path);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("<testsuite><testcase name=\"a\"/><testcase name=\"b\">"
	      "<skipped/></testcase></testsuite>",
	      f);
	fclose(f);
	junit_init(&j);
	CHECK(junit_read_file(&j, path, &err) == 1);
	CHECK(j.tests == 2 && j.skipped == 1);
	CHECK(symlink(path, link_path) == 0);
	CHECK(junit_read_file(&j, link_path, &err) < 0);
	CHECK(strstr(err.msg, "cannot open") == err.msg);
	CHECK(j.tests == 2);
	junit_release(&j);
	unlink(link_path);
	unlink(path);
}

int main(void)
{
	RUN(test_totals);
	RUN(test_every_split);
	RUN(test_many_failures_and_files);
	RUN(test_long_text);
	RUN(test_memory_bound);
	RUN(test_deep_nesting);
	RUN(test_read_file);
	return unit_summary();
}
