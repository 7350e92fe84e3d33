/*
 * JUnit XML reports, streamed through expat; see junit.h.
 *
 * Why expat: it is a push parser (bytes in as they are read, callbacks
 * out), which is the shape of everything else here (jstream.c); it is
 * small, has been maintained for 25 years, is fuzzed continuously and
 * ships in every distribution (libexpat1-dev, and a plain .a for the
 * static build). libxml2 is ten times its size and pulls in more than we
 * use; a hand-written XML reader would be one more parser to get wrong on
 * hostile input.
 *
 * Memory is bounded: expat allocates through our functions, which refuse
 * past JUNIT_MEMORY_MAX (a 100 MB attribute is refused rather than held);
 * entity declarations stop the parse (no entity expansion at all); nested
 * suites deeper than SUITE_DEPTH_MAX are refused.
 */
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/junit.h"
#include "util/buf.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define SUITE_DEPTH_MAX 64
#define CAPTURE_MAX 1024u
#define READ_CHUNK (64u * 1024)

struct counts {
	long long tests, failures, errors, skipped;
	double time;
};

struct suite {
	struct counts attrs; /* its own attributes */
	int has_time;
	struct counts sum; /* of its cases and child suites */
	int has_children;
};

enum case_status { CASE_PASSED, CASE_FAILURE, CASE_ERROR, CASE_SKIPPED };

struct junit_reader {
	struct junit *j;
	char *source;
	XML_Parser xp;
	size_t mem_used;
	int failed; /* an error was reported */
	const char *stop_why; /* set by a handler that stopped the parse */
	int root_seen, not_junit;
	size_t depth; /* element depth */

	struct suite suites[SUITE_DEPTH_MAX];
	size_t nsuites;
	struct counts file; /* the file's totals, added at the end */

	int in_case;
	size_t case_depth;
	enum case_status status;
	double case_time;
	struct buf case_name;
	struct buf message; /* the failure's message, or its text */
	int capturing; /* the message comes from the text */
};

/* --- bounded allocation ------------------------------------------------ */

/* expat's memory functions take no context: the reader whose parser is
 * running is kept here, per thread. */
static _Thread_local struct junit_reader *current;

union header {
	size_t size;
	max_align_t align;
};

static void *mm_malloc(size_t n)
{
	union header *h;

	if (!current || n > JUNIT_MEMORY_MAX - current->mem_used)
		return NULL;
	h = malloc(sizeof(*h) + n);
	if (!h)
		return NULL;
	h->size = n;
	current->mem_used += n;
	return h + 1;
}

static void mm_free(void *p)
{
	union header *h;

	if (!p)
		return;
	h = (union header *)p - 1;
	if (current)
		current->mem_used -= h->size;
	free(h);
}

static void *mm_realloc(void *p, size_t n)
{
	union header *h, *nh;

	if (!p)
		return mm_malloc(n);
	h = (union header *)p - 1;
	if (!current ||
	    (n > h->size && n - h->size > JUNIT_MEMORY_MAX - current->mem_used))
		return NULL;
	nh = realloc(h, sizeof(*nh) + n);
	if (!nh)
		return NULL;
	current->mem_used = current->mem_used - nh->size + n;
	nh->size = n;
	return nh + 1;
}

static const XML_Memory_Handling_Suite mm = { mm_malloc, mm_realloc, mm_free };

/* --- helpers ----------------------------------------------------------- */

/* The local name: "ns:testcase" and "uri|testcase" are "testcase". */
static const char *local(const XML_Char *name)
{
	const char *c = strrchr(name, ':');

	return c ? c + 1 : name;
}

static const char *attr(const XML_Char **atts, const char *name)
{
	for (size_t i = 0; atts[i]; i += 2)
		if (!strcmp(local(atts[i]), name))
			return atts[i + 1];
	return NULL;
}

static long long attr_count(const XML_Char **atts, const char *name)
{
	const char *v = attr(atts, name);
	char *end;
	long long n;

	if (!v)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || n < 0 || n > (1LL << 40))
		return 0;
	return n;
}

/* Seconds; "1,234.5" as some producers write it. Returns -1 when absent
 * or not a time. */
static double attr_time(const XML_Char **atts)
{
	const char *v = attr(atts, "time");
	char clean[64], *end;
	size_t n = 0;
	double t;

	if (!v)
		return -1;
	for (; *v && n + 1 < sizeof(clean); v++)
		if (*v != ',')
			clean[n++] = *v;
	clean[n] = '\0';
	t = strtod(clean, &end);
	if (end == clean || !isfinite(t) || t < 0 || t > 1e9)
		return -1;
	return t;
}

static void add_counts(struct counts *to, const struct counts *c)
{
	to->tests += c->tests;
	to->failures += c->failures;
	to->errors += c->errors;
	to->skipped += c->skipped;
	to->time += c->time;
}

/* Appends s to b as one printable line, at most max bytes, never cutting
 * a UTF-8 sequence. */
static void add_line(struct buf *b, const char *s, size_t len, size_t max)
{
	size_t i;

	for (i = 0; i < len && b->len < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || c == '\r')
			return;
		buf_addch(b, (c < 0x20 || c == 0x7f) ? ' ' : (char)c);
	}
	/* Cut inside a sequence: drop its first bytes too. */
	if (i < len && ((unsigned char)s[i] & 0xC0) == 0x80) {
		while (b->len &&
		       ((unsigned char)b->data[b->len - 1] & 0xC0) == 0x80)
			b->len--;
		if (b->len)
			b->len--;
		b->data[b->len] = '\0';
	}
}

/* The first non-blank line of text, trimmed. */
static void first_line(struct buf *out, const char *text, size_t len)
{
	size_t i = 0, end;

	while (i < len && (text[i] == ' ' || text[i] == '\t' ||
			   text[i] == '\n' || text[i] == '\r'))
		i++;
	for (end = i; end < len && text[end] != '\n' && text[end] != '\r';)
		end++;
	while (end > i && (text[end - 1] == ' ' || text[end - 1] == '\t'))
		end--;
	add_line(out, text + i, end - i, JUNIT_TEXT_MAX);
}

static void stop(struct junit_reader *r, const char *why)
{
	r->stop_why = why;
	XML_StopParser(r->xp, XML_FALSE);
}

static void keep_case(struct junit_reader *r)
{
	struct junit *j = r->j;
	struct junit_case *c;
	struct buf line = BUF_INIT(BUF_PATH_MAX);

	if (j->ncases == JUNIT_CASES_MAX) {
		j->more_cases++;
		return;
	}
	c = &j->cases[j->ncases++];
	c->name = xstrdup(buf_str(&r->case_name));
	c->kind = r->status == CASE_ERROR ? "error" : "failure";
	first_line(&line, r->message.data ? r->message.data : "",
		   r->message.len);
	c->message = xstrdup(buf_str(&line));
	buf_release(&line);
}

/* --- expat handlers ---------------------------------------------------- */

static void XMLCALL on_start(void *ud, const XML_Char *name,
			     const XML_Char **atts)
{
	struct junit_reader *r = ud;
	const char *n = local(name);

	r->depth++;
	if (!r->root_seen) {
		r->root_seen = 1;
		if (strcmp(n, "testsuites") && strcmp(n, "testsuite")) {
			r->not_junit = 1;
			stop(r, NULL);
			return;
		}
	}
	if (r->in_case) {
		if (r->depth != r->case_depth + 1 || r->status != CASE_PASSED)
			return;
		if (!strcmp(n, "failure") || !strcmp(n, "error")) {
			const char *m = attr(atts, "message");

			r->status =
				!strcmp(n, "error") ? CASE_ERROR : CASE_FAILURE;
			buf_reset(&r->message);
			if (m && *m)
				buf_add(&r->message, m,
					strlen(m) < CAPTURE_MAX ? strlen(m)
								: CAPTURE_MAX);
			else
				r->capturing = 1;
		} else if (!strcmp(n, "skipped")) {
			r->status = CASE_SKIPPED;
		}
		return;
	}
	if (!strcmp(n, "testsuite") || !strcmp(n, "testsuites")) {
		struct suite *s;
		double t = attr_time(atts);

		if (r->nsuites == SUITE_DEPTH_MAX) {
			stop(r, "test suites nested too deeply");
			return;
		}
		if (r->nsuites)
			r->suites[r->nsuites - 1].has_children = 1;
		s = &r->suites[r->nsuites++];
		memset(s, 0, sizeof(*s));
		s->attrs.tests = attr_count(atts, "tests");
		s->attrs.failures = attr_count(atts, "failures");
		s->attrs.errors = attr_count(atts, "errors");
		s->attrs.skipped = attr_count(atts, "skipped");
		if (!s->attrs.skipped)
			s->attrs.skipped = attr_count(atts, "disabled");
		s->has_time = t >= 0;
		s->attrs.time = t >= 0 ? t : 0;
	} else if (!strcmp(n, "testcase") && r->nsuites) {
		const char *cls = attr(atts, "classname");
		const char *cname = attr(atts, "name");
		double t = attr_time(atts);

		r->in_case = 1;
		r->case_depth = r->depth;
		r->status = CASE_PASSED;
		r->case_time = t >= 0 ? t : 0;
		r->capturing = 0;
		buf_reset(&r->case_name);
		buf_reset(&r->message);
		if (cls && *cls) {
			add_line(&r->case_name, cls, strlen(cls),
				 JUNIT_TEXT_MAX);
			buf_addch(&r->case_name, '.');
		}
		cname = cname && *cname ? cname : "(unnamed)";
		add_line(&r->case_name, cname, strlen(cname), JUNIT_TEXT_MAX);
	}
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct junit_reader *r = ud;
	const char *n = local(name);

	if (r->in_case && r->depth == r->case_depth + 1)
		r->capturing = 0;
	if (r->in_case && r->depth == r->case_depth) {
		struct suite *s = &r->suites[r->nsuites - 1];

		s->has_children = 1;
		s->sum.tests++;
		s->sum.time += r->case_time;
		if (r->status == CASE_FAILURE || r->status == CASE_ERROR) {
			if (r->status == CASE_FAILURE)
				s->sum.failures++;
			else
				s->sum.errors++;
			keep_case(r);
		} else if (r->status == CASE_SKIPPED) {
			s->sum.skipped++;
		}
		r->in_case = 0;
	} else if (!r->in_case && r->nsuites &&
		   (!strcmp(n, "testsuite") || !strcmp(n, "testsuites"))) {
		struct suite *s = &r->suites[--r->nsuites];
		struct counts c = s->has_children ? s->sum : s->attrs;

		if (s->has_time)
			c.time = s->attrs.time;
		if (r->nsuites)
			add_counts(&r->suites[r->nsuites - 1].sum, &c);
		else
			add_counts(&r->file, &c);
	}
	r->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct junit_reader *r = ud;

	if (!r->capturing || len <= 0 || r->message.len >= CAPTURE_MAX)
		return;
	if ((size_t)len > CAPTURE_MAX - r->message.len)
		len = (int)(CAPTURE_MAX - r->message.len);
	buf_add(&r->message, s, (size_t)len);
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
				   const XML_Char *value, int value_len,
				   const XML_Char *base,
				   const XML_Char *system_id,
				   const XML_Char *public_id,
				   const XML_Char *notation)
{
	(void)name, (void)is_param, (void)value, (void)value_len, (void)base;
	(void)system_id, (void)public_id, (void)notation;
	stop(ud, "entity declarations are not allowed in a test report");
}

/* --- the reader -------------------------------------------------------- */

void junit_init(struct junit *j)
{
	memset(j, 0, sizeof(*j));
}

void junit_release(struct junit *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->ncases; i++) {
		free(j->cases[i].name);
		free(j->cases[i].message);
	}
	memset(j, 0, sizeof(*j));
}

struct junit_reader *junit_reader_new(struct junit *j, const char *source)
{
	struct junit_reader *r = xcalloc(1, sizeof(*r));
	struct junit_reader *saved = current;

	r->j = j;
	r->source = xstrdup(source);
	buf_init(&r->case_name, 2 * JUNIT_TEXT_MAX + 8);
	buf_init(&r->message, CAPTURE_MAX + 8);
	current = r;
	r->xp = XML_ParserCreate_MM(NULL, &mm, NULL);
	current = saved;
	if (!r->xp) {
		/* Only on out of memory: treated as xmalloc would. */
		xalloc_die(sizeof(XML_Parser));
	}
	XML_SetUserData(r->xp, r);
	XML_SetElementHandler(r->xp, on_start, on_end);
	XML_SetCharacterDataHandler(r->xp, on_text);
	XML_SetEntityDeclHandler(r->xp, on_entity_decl);
	return r;
}

static int parse(struct junit_reader *r, const char *data, size_t len,
		 int final, struct error *err)
{
	struct junit_reader *saved = current;
	enum XML_Status st = XML_STATUS_OK;
	enum XML_Error code;

	if (r->failed)
		return err_set(err, EXIT_TESTS, "'%s': already failed",
			       r->source);
	if (r->not_junit)
		return 0;
	current = r;
	while (st == XML_STATUS_OK && (len || final)) {
		int n = len > INT32_MAX / 2 ? INT32_MAX / 2 : (int)len;

		st = XML_Parse(r->xp, data, n, final && (size_t)n == len);
		data += n;
		len -= (size_t)n;
		if (!len)
			break;
	}
	current = saved;
	if (st != XML_STATUS_ERROR)
		return 0;
	code = XML_GetErrorCode(r->xp);
	if (code == XML_ERROR_ABORTED && r->not_junit)
		return 0;
	r->failed = 1;
	if (code == XML_ERROR_ABORTED && r->stop_why)
		return err_set(err, EXIT_TESTS, "'%s': %s", r->source,
			       r->stop_why);
	if (code == XML_ERROR_NO_MEMORY)
		return err_set(err, EXIT_TESTS,
			       "'%s': needs more than %u MiB to read "
			       "(a huge attribute or name?)",
			       r->source, JUNIT_MEMORY_MAX >> 20);
	return err_set(err, EXIT_TESTS,
		       "'%s' line %lu: not well-formed XML: %s", r->source,
		       (unsigned long)XML_GetCurrentLineNumber(r->xp),
		       XML_ErrorString(code));
}

int junit_reader_feed(struct junit_reader *r, const char *data, size_t len,
		      struct error *err)
{
	if (!len)
		return 0;
	return parse(r, data, len, 0, err);
}

int junit_reader_finish(struct junit_reader *r, struct error *err)
{
	if (parse(r, NULL, 0, 1, err) < 0)
		return -1;
	if (r->not_junit || !r->root_seen)
		return 0;
	r->j->tests += r->file.tests;
	r->j->failures += r->file.failures;
	r->j->errors += r->file.errors;
	r->j->skipped += r->file.skipped;
	r->j->time += r->file.time;
	r->j->files++;
	return 1;
}

void junit_reader_free(struct junit_reader *r)
{
	struct junit_reader *saved = current;

	if (!r)
		return;
	current = r;
	XML_ParserFree(r->xp);
	current = saved;
	buf_release(&r->case_name);
	buf_release(&r->message);
	free(r->source);
	free(r);
}

int junit_read_mem(struct junit *j, const char *data, size_t len,
		   const char *source, struct error *err)
{
	struct junit_reader *r = junit_reader_new(j, source);
	int rc = -1;

	if (junit_reader_feed(r, data, len, err) == 0)
		rc = junit_reader_finish(r, err);
	junit_reader_free(r);
	return rc;
}

int junit_read_file(struct junit *j, const char *path, struct error *err)
{
	struct junit_reader *r = NULL;
	char *chunk = NULL;
	ssize_t n;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return err_set(err, EXIT_TESTS, "cannot open '%s': %s", path,
			       strerror(errno));
	r = junit_reader_new(j, path);
	chunk = xmalloc(READ_CHUNK);
	for (;;) {
		n = read(fd, chunk, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, EXIT_TESTS, "cannot read '%s': %s", path,
				strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (junit_reader_feed(r, chunk, (size_t)n, err) < 0)
			goto out;
		if (r->not_junit)
			break;
	}
	rc = junit_reader_finish(r, err);
out:
	junit_reader_free(r);
	free(chunk);
	close(fd);
	return rc;
}
