/*
 * Unit tests for the BuildKit progress decoder (builder/engine/bktrace.c).
 *
 * Recorded traces: tests/unit/data/bktrace/<name>.json are raw POST /build
 * ?version=2 responses from a Docker 20.10 engine (see the README there);
 * each must decode to <name>.out exactly, and report the steps, cache hits
 * and failure it holds. Hand-built StatusResponses check the decoding
 * (protobuf-c, from builder/engine/progress.proto): cut at every offset,
 * malformed varints and wire types, unknown fields, and log lines split
 * across messages at every byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/base64.h"
#include "engine/bktrace.h"
#include "util/buf.h"
#include "util/error.h"
#include "unit.h"

#define DATA "tests/unit/data/bktrace/"

/* --- a decoder writing into memory ---------------------------------------- */

struct run {
	struct bktrace t;
	struct error err;
	char *text;
	size_t len;
	FILE *f;
};

static void run_start(struct run *r)
{
	memset(r, 0, sizeof(*r));
	bktrace_init(&r->t);
	r->f = open_memstream(&r->text, &r->len);
	r->t.out = r->f;
}

static int run_decode(struct run *r, const struct buf *msg, size_t len)
{
	return bktrace_decode(&r->t, (const unsigned char *)msg->data, len,
			      &r->err);
}

static const char *run_text(struct run *r)
{
	fflush(r->f);
	return r->text ? r->text : "";
}

static void run_end(struct run *r)
{
	bktrace_release(&r->t);
	fclose(r->f);
	free(r->text);
}

/* --- building StatusResponses ------------------------------------------- */

static void put_varint(struct buf *b, uint64_t v)
{
	while (v >= 0x80) {
		buf_addch(b, (char)((v & 0x7f) | 0x80));
		v >>= 7;
	}
	buf_addch(b, (char)v);
}

static void put_key(struct buf *b, unsigned num, unsigned wire)
{
	put_varint(b, (uint64_t)num << 3 | wire);
}

static void put_bytes(struct buf *b, unsigned num, const void *p, size_t len)
{
	put_key(b, num, 2);
	put_varint(b, len);
	buf_add(b, p, len);
}

static void put_str(struct buf *b, unsigned num, const char *s)
{
	put_bytes(b, num, s, strlen(s));
}

static void put_int(struct buf *b, unsigned num, int64_t v)
{
	put_key(b, num, 0);
	put_varint(b, (uint64_t)v);
}

/* Appends sub as field num and empties sub. */
static void put_msg(struct buf *b, unsigned num, struct buf *sub)
{
	put_bytes(b, num, sub->data, sub->len);
	buf_release(sub);
}

/* A Timestamp at t seconds; t < 0 leaves it out. */
static void put_ts(struct buf *b, unsigned num, double t)
{
	struct buf ts = BUF_INIT(BUF_TEXT_MAX);
	int64_t sec = (int64_t)t;

	if (t < 0)
		return;
	put_int(&ts, 1, sec);
	put_int(&ts, 2, (int64_t)((t - (double)sec) * 1e9 + 0.5));
	put_msg(b, num, &ts);
}

/* Appends a Vertex to the response; an error of NULL is left out. */
static void vertex(struct buf *resp, const char *digest, const char *name,
		   double started, double completed, int cached,
		   const char *error)
{
	struct buf v = BUF_INIT(BUF_TEXT_MAX);

	put_str(&v, 1, digest);
	put_str(&v, 2, "sha256:input");
	put_str(&v, 3, name);
	if (cached)
		put_int(&v, 4, 1);
	put_ts(&v, 5, started);
	put_ts(&v, 6, completed);
	if (error)
		put_str(&v, 7, error);
	put_msg(resp, 1, &v);
}

static void vlog(struct buf *resp, const char *digest, double at, int stream,
		 const char *msg, size_t len)
{
	struct buf l = BUF_INIT(BUF_TEXT_MAX);

	put_str(&l, 1, digest);
	put_ts(&l, 2, at);
	put_int(&l, 3, stream);
	put_bytes(&l, 4, msg, len);
	put_msg(resp, 3, &l);
}

static void status(struct buf *resp, const char *digest, const char *id,
		   int64_t current, int64_t total, double started,
		   double completed)
{
	struct buf s = BUF_INIT(BUF_TEXT_MAX);

	put_str(&s, 1, id);
	put_str(&s, 2, digest);
	put_str(&s, 3, id);
	put_int(&s, 4, current);
	put_int(&s, 5, total);
	put_ts(&s, 6, completed >= 0 ? completed : started);
	put_ts(&s, 7, started);
	put_ts(&s, 8, completed);
	put_msg(resp, 2, &s);
}

static void warning(struct buf *resp, const char *digest, const char *text)
{
	struct buf w = BUF_INIT(BUF_TEXT_MAX);

	put_str(&w, 1, digest);
	put_int(&w, 2, 1);
	put_str(&w, 3, text);
	put_str(&w, 4, "detail");
	put_msg(resp, 4, &w);
}

/* Decodes each message whole into a fresh decoder, then flushes. */
static char *decode_all(struct buf *msgs, size_t n, int *ret)
{
	struct run r;
	char *out;
	size_t i;

	*ret = 0;
	run_start(&r);
	for (i = 0; i < n && !*ret; i++)
		*ret = run_decode(&r, &msgs[i], msgs[i].len);
	bktrace_flush(&r.t);
	out = strdup(run_text(&r));
	run_end(&r);
	return out;
}

/* --- recorded traces ------------------------------------------------------ */

static char *slurp(const char *path)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f) {
		fprintf(stderr, "cannot open '%s'; run from the repo root\n",
			path);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	if (!b.data)
		buf_addstr(&b, "");
	return buf_detach(&b);
}

/* Feeds every moby.buildkit.trace aux of a recorded response. */
static int replay(struct run *r, const char *name)
{
	char path[256], *all, *line, *next;
	int traces = 0;

	snprintf(path, sizeof(path), DATA "%s.json", name);
	if (!(all = slurp(path)))
		return -1;
	for (line = all; *line; line = next) {
		cJSON *msg, *id, *aux;

		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		if (!(msg = cJSON_Parse(line)))
			continue;
		id = cJSON_GetObjectItemCaseSensitive(msg, "id");
		aux = cJSON_GetObjectItemCaseSensitive(msg, "aux");
		if (cJSON_IsString(id) &&
		    !strcmp(id->valuestring, "moby.buildkit.trace") &&
		    cJSON_IsString(aux)) {
			if (bktrace_feed(&r->t, aux->valuestring, &r->err) <
			    0) {
				fprintf(stderr, "%s: %s\n", name, r->err.msg);
				traces = -1;
			} else if (traces >= 0) {
				traces++;
			}
		}
		cJSON_Delete(msg);
	}
	free(all);
	bktrace_flush(&r->t);
	return traces;
}

static void check_golden(struct run *r, const char *name)
{
	char path[256], *want;

	snprintf(path, sizeof(path), DATA "%s.out", name);
	want = slurp(path);
	CHECK(want != NULL);
	if (want)
		CHECK_STR(run_text(r), want);
	free(want);
}

static int has_line(struct run *r, const char *line)
{
	const char *text = run_text(r), *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

static void test_recorded_multistage(void)
{
	struct run r;

	run_start(&r);
	CHECK(replay(&r, "multistage") > 20);
	check_golden(&r, "multistage");
	CHECK(r.t.nr == 10);
	CHECK(r.t.done == 10);
	CHECK(r.t.cached == 0);
	CHECK_STR(bktrace_failed_step(&r.t), "");
	CHECK(has_line(&r, "#5 [base 2/3] RUN echo \"hello from stage one\" "
			   "&& echo \"second line\" && printf 'no newline'"));
	CHECK(has_line(&r, "#5 0.236 hello from stage one"));
	/* The unfinished last line is printed when its step completes. */
	CHECK(has_line(&r, "#5 0.236 no newline"));
	CHECK(has_line(&r, "#6 0.288 to-stderr"));
	CHECK(has_line(&r, "#9 0.180 hello file"));
	CHECK(has_line(&r, "#9 DONE 0.2s"));
	CHECK(has_line(&r, "#10 naming to docker.io/library/bktest:1 done"));
	run_end(&r);
}

static void test_recorded_cached(void)
{
	struct run r;

	run_start(&r);
	CHECK(replay(&r, "cached") > 10);
	check_golden(&r, "cached");
	CHECK(r.t.nr == 10);
	CHECK(r.t.done == 10);
	/* The five Dockerfile steps after FROM, the context copy, and the
	 * context load reported cached after it was done. */
	CHECK(r.t.cached == 7);
	CHECK(has_line(&r, "#9 [stage-1 4/4] RUN cat /done.txt /hello.txt"));
	CHECK(has_line(&r, "#9 CACHED"));
	CHECK(!strstr(run_text(&r), "#5 0.")); /* no RUN output this time */
	CHECK_STR(bktrace_failed_step(&r.t), "");
	run_end(&r);
}

static void test_recorded_failing(void)
{
	struct run r;
	const char *text;

	run_start(&r);
	CHECK(replay(&r, "failing") > 10);
	check_golden(&r, "failing");
	CHECK_STR(bktrace_failed_step(&r.t),
		  "[3/3] RUN echo \"failing now\" && exit 3");
	CHECK_STR(r.t.failed_error.data,
		  "executor failed running [/bin/sh -c echo \"failing now\" "
		  "&& exit 3]: exit code: 3");
	text = run_text(&r);
	CHECK(strstr(text, "#6 0.262 failing now\n#6 ERROR: executor failed"));
	CHECK(has_line(&r, "#5 0.198 about to fail"));
	run_end(&r);
}

/* --- hand-built messages -------------------------------------------------- */

static void test_render(void)
{
	struct buf m[3] = { BUF_INIT(BUF_TEXT_MAX), BUF_INIT(BUF_TEXT_MAX),
			    BUF_INIT(BUF_TEXT_MAX) };
	char *out;
	int ret;

	vertex(&m[0], "sha256:a", "[1/2] FROM base", 100, 100.5, 1, NULL);
	vertex(&m[0], "sha256:b", "[2/2] RUN make", 101, -1, 0, NULL);
	vlog(&m[0], "sha256:b", 101.25, 1, "compiling\nlinking", 17);
	vlog(&m[1], "sha256:b", 102, 2, "warning: x\r\n", 12);
	status(&m[1], "sha256:b", "sha256:layer", 1048576, 2097152, 101, 102.5);
	status(&m[1], "sha256:b", "sha256:layer", 1048576, 2097152, 101, 102.5);
	status(&m[1], "sha256:b", "running", 0, 0, 101, -1);
	warning(&m[1], "sha256:b", "something odd");
	vlog(&m[2], "sha256:b", 103, 1, " done\n", 6);
	vertex(&m[2], "sha256:b", "[2/2] RUN make", 101, 103.5, 0, NULL);
	vertex(&m[2], "sha256:c", "exporting\nto image", 104, 104, 0, NULL);
	out = decode_all(m, 3, &ret);
	CHECK(ret == 0);
	CHECK_STR(out, "#2 [2/2] RUN make\n"
		       "#2 0.250 compiling\n"
		       "#1 [1/2] FROM base\n"
		       "#1 CACHED\n"
		       "#2 1.000 warning: x\n"
		       "#2 sha256:layer 1.00MiB / 2.00MiB 1.5s done\n"
		       "#2 WARN: something odd\n"
		       "#2 0.250 linking done\n"
		       "#2 DONE 2.5s\n"
		       "#3 exporting to image\n"
		       "#3 DONE 0.0s\n");
	free(out);
	for (size_t i = 0; i < 3; i++)
		buf_release(&m[i]);
}

static void test_failure_and_cancel(void)
{
	struct buf m = BUF_INIT(BUF_TEXT_MAX);
	struct run r;

	vertex(&m, "sha256:a", "[1/3] RUN sleep 9", 1, 2, 0,
	       "rpc error: code = Canceled desc = context canceled");
	vertex(&m, "sha256:b", "[2/3] RUN false", 1, 2, 0,
	       "process \"/bin/sh -c false\" did not complete successfully: "
	       "exit code: 1");
	vertex(&m, "sha256:c", "[3/3] RUN also-false", 1, 2, 0, "second");
	run_start(&r);
	CHECK(run_decode(&r, &m, m.len) == 0);
	CHECK(has_line(&r, "#1 CANCELED"));
	CHECK(has_line(&r, "#2 ERROR: process \"/bin/sh -c false\" did not "
			   "complete successfully: exit code: 1"));
	CHECK(has_line(&r, "#3 ERROR: second"));
	CHECK_STR(bktrace_failed_step(&r.t), "[2/3] RUN false");
	CHECK_STR(r.t.failed_error.data,
		  "process \"/bin/sh -c false\" did "
		  "not complete successfully: exit code: 1");
	run_end(&r);
	buf_release(&m);
}

static void test_late_verdicts(void)
{
	struct buf m = BUF_INIT(BUF_TEXT_MAX);
	struct run r;

	run_start(&r);
	/* Reported done, then again as a cache hit: one line, one hit. */
	vertex(&m, "sha256:a", "[1/2] FROM x", 1, 1.2, 0, NULL);
	CHECK(run_decode(&r, &m, m.len) == 0);
	buf_reset(&m);
	vertex(&m, "sha256:a", "[1/2] FROM x", 3, 3, 1, NULL);
	CHECK(run_decode(&r, &m, m.len) == 0);
	CHECK(r.t.cached == 1 && r.t.done == 1);
	/* A late error is shown and recorded. */
	buf_reset(&m);
	vertex(&m, "sha256:b", "[2/2] RUN y", 4, 5, 0, NULL);
	vertex(&m, "sha256:b", "[2/2] RUN y", 4, 5, 0, "late");
	CHECK(run_decode(&r, &m, m.len) == 0);
	CHECK_STR(run_text(&r), "#1 [1/2] FROM x\n#1 DONE 0.2s\n"
				"#2 [2/2] RUN y\n#2 DONE 1.0s\n"
				"#2 ERROR: late\n");
	CHECK_STR(bktrace_failed_step(&r.t), "[2/2] RUN y");
	run_end(&r);
	buf_release(&m);
}

/* A message cut anywhere but between two top-level fields is malformed,
 * and a malformed message prints nothing. */
static void test_cut_at_every_offset(void)
{
	struct buf m = BUF_INIT(BUF_TEXT_MAX);
	size_t bounds[8], nb = 0, k;

	bounds[nb++] = 0;
	vertex(&m, "sha256:a", "[1/1] RUN x", 1, -1, 0, NULL);
	bounds[nb++] = m.len;
	vlog(&m, "sha256:a", 1.5, 1, "out\npart", 8);
	bounds[nb++] = m.len;
	status(&m, "sha256:a", "pulling", 10, 100, 1, 2);
	bounds[nb++] = m.len;
	warning(&m, "sha256:a", "w");
	bounds[nb++] = m.len;
	vertex(&m, "sha256:a", "[1/1] RUN x", 1, 3, 0, "boom");
	bounds[nb++] = m.len;

	for (k = 0; k <= m.len; k++) {
		struct run r;
		int boundary = 0, ret;
		size_t i;

		for (i = 0; i < nb; i++)
			boundary |= bounds[i] == k;
		run_start(&r);
		ret = run_decode(&r, &m, k);
		if (boundary) {
			CHECK(ret == 0);
		} else {
			CHECK(ret == -1);
			CHECK(r.err.code == EXIT_ENGINE);
			CHECK(strstr(r.err.msg, "malformed BuildKit progress"));
			CHECK_STR(run_text(&r), "");
			CHECK(r.t.nr == 0);
		}
		run_end(&r);
	}
	buf_release(&m);
}

/* Log text split into two messages at every byte prints the same lines. */
static void test_log_split_at_every_byte(void)
{
	static const char text[] = "one\ntwo\r\n\nthree\nfour";
	struct buf whole[1] = { BUF_INIT(BUF_TEXT_MAX) };
	char *want;
	size_t k;
	int ret;

	vertex(&whole[0], "sha256:a", "[1/1] RUN x", 1, -1, 0, NULL);
	vlog(&whole[0], "sha256:a", 1.5, 1, text, sizeof(text) - 1);
	want = decode_all(whole, 1, &ret);
	CHECK(ret == 0);
	CHECK_STR(want, "#1 [1/1] RUN x\n#1 0.500 one\n#1 0.500 two\n"
			"#1 0.500 \n#1 0.500 three\n#1 0.500 four\n");
	for (k = 0; k <= sizeof(text) - 1; k++) {
		struct buf m[2] = { BUF_INIT(BUF_TEXT_MAX),
				    BUF_INIT(BUF_TEXT_MAX) };
		char *got;

		vertex(&m[0], "sha256:a", "[1/1] RUN x", 1, -1, 0, NULL);
		vlog(&m[0], "sha256:a", 1.5, 1, text, k);
		vlog(&m[1], "sha256:a", 1.5, 1, text + k, sizeof(text) - 1 - k);
		got = decode_all(m, 2, &ret);
		CHECK(ret == 0);
		CHECK_STR(got, want);
		free(got);
		buf_release(&m[0]);
		buf_release(&m[1]);
	}
	free(want);
	buf_release(&whole[0]);
}

static void test_stdout_stderr_partials(void)
{
	struct buf m = BUF_INIT(BUF_TEXT_MAX);
	char *out;
	int ret;

	vertex(&m, "sha256:a", "[1/1] RUN x", 1, -1, 0, NULL);
	vlog(&m, "sha256:a", 2, 1, "out-", 4);
	vlog(&m, "sha256:a", 2, 2, "err-", 4);
	vlog(&m, "sha256:a", 2, 1, "line\n", 5);
	vlog(&m, "sha256:a", 2, 2, "line\n", 5);
	out = decode_all(&m, 1, &ret);
	CHECK(ret == 0);
	CHECK_STR(out,
		  "#1 [1/1] RUN x\n#1 1.000 out-line\n#1 1.000 err-line\n");
	free(out);
	buf_release(&m);
}

/* A line without an end is printed in pieces of BKTRACE_MAX_PARTIAL. */
static void test_partial_cap(void)
{
	size_t len = 3 * BKTRACE_MAX_PARTIAL + 100, lines = 0;
	char *big = malloc(len);
	struct buf m = BUF_INIT(BUF_TEXT_MAX);
	struct run r;
	const char *p;

	memset(big, 'x', len);
	vertex(&m, "sha256:a", "[1/1] RUN x", 1, -1, 0, NULL);
	vlog(&m, "sha256:a", 1, 1, big, len);
	run_start(&r);
	CHECK(run_decode(&r, &m, m.len) == 0);
	for (p = run_text(&r); (p = strchr(p, '\n')); p++)
		lines++;
	CHECK(lines == 1 + 3);
	buf_reset(&m);
	vlog(&m, "sha256:a", 1, 1, "\n", 1);
	CHECK(run_decode(&r, &m, m.len) == 0);
	CHECK(strstr(run_text(&r), "\n#1 0.000 "
				   "xxxxxxxxxx"));
	lines = 0;
	for (p = run_text(&r); (p = strchr(p, '\n')); p++)
		lines++;
	CHECK(lines == 1 + 4);
	CHECK(r.len ==
	      strlen("#1 [1/1] RUN x\n") + 4 * strlen("#1 0.000 \n") + len);
	run_end(&r);
	buf_release(&m);
	free(big);
}

struct bad_case {
	const char *what;
	const char *bytes;
	size_t len;
};

#define BAD(what, lit)                     \
	{                                  \
		what, lit, sizeof(lit) - 1 \
	}

static void test_malformed(void)
{
	static const struct bad_case cases[] = {
		BAD("truncated key", "\x80"),
		BAD("truncated length", "\x0a"),
		BAD("length past the end", "\x0a\x05"
					   "abc"),
		BAD("eleven-byte varint",
		    "\x48\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
		BAD("field number 0", "\x02\x00"),
		BAD("start group", "\x0b"),
		BAD("end group", "\x0c"),
		BAD("wire type 6", "\x0e"),
		BAD("wire type 7", "\x0f"),
		BAD("vertexes as a varint", "\x08\x01"),
		BAD("digest as a varint", "\x0a\x02\x08\x01"),
		BAD("truncated varint in a timestamp", "\x0a\x07\x0a\x01"
						       "a"
						       "\x2a\x02\x08\x80"),
		BAD("cached as bytes", "\x0a\x03\x22\x01"
				       "x"),
		/* A step that would show as CACHED if the bytes were read as
		 * a bool. */
		BAD("cached as bytes in a completed step",
		    "\x0a\x0d\x0a\x01"
		    "a"
		    "\x1a\x01"
		    "n"
		    "\x22\x01\x00"
		    "\x32\x02\x08\x01"),
		BAD("timestamp as a varint", "\x0a\x05\x0a\x01"
					     "a"
					     "\x28\x01"),
		BAD("log stream as bytes", "\x1a\x03\x1a\x01"
					   "x"),
		BAD("truncated fixed64", "\x79\x01\x02\x03"),
		BAD("truncated fixed32", "\x7d\x01\x02\x03"),
		BAD("bad field inside a status", "\x12\x02\x0a\x05"),
		BAD("bad field inside a warning", "\x22\x01\x80"),
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;
		int ret;

		run_start(&r);
		ret = bktrace_decode(&r.t,
				     (const unsigned char *)cases[i].bytes,
				     cases[i].len, &r.err);
		if (ret != -1 || r.err.code != EXIT_ENGINE)
			fprintf(stderr, "case '%s' was accepted\n",
				cases[i].what);
		CHECK(ret == -1);
		CHECK(r.err.code == EXIT_ENGINE);
		CHECK_STR(run_text(&r), "");
		run_end(&r);
	}
}

static void test_valid_edges(void)
{
	struct run r;

	run_start(&r);
	/* Empty, a ten-byte varint, empty strings, entries with no vertex. */
	CHECK(bktrace_decode(&r.t, (const unsigned char *)"", 0, &r.err) == 0);
	CHECK(bktrace_decode(&r.t, NULL, 0, &r.err) == 0);
	CHECK(bktrace_decode(
		      &r.t,
		      (const unsigned char
			       *)"\x48\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
		      11, &r.err) == 0);
	CHECK(bktrace_decode(&r.t,
			     (const unsigned char *)"\x0a\x00\x12\x00\x1a\x00",
			     6, &r.err) == 0);
	CHECK_STR(run_text(&r), "");
	CHECK(r.t.nr == 0);
	/* What protobuf-c decodes and Go's protobuf would refuse: an unknown
	 * field's varint with bits above 63, a field number past 2^29.
	 * Harmless: nothing is shown for them. */
	CHECK(bktrace_decode(
		      &r.t,
		      (const unsigned char
			       *)"\x48\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02",
		      11, &r.err) == 0);
	CHECK(bktrace_decode(&r.t,
			     (const unsigned char *)"\xfa\xff\xff\xff\x7f\x00",
			     6, &r.err) == 0);
	CHECK_STR(run_text(&r), "");
	CHECK(r.t.nr == 0);
	/* A warning about no step in particular. */
	CHECK(bktrace_decode(&r.t, (const unsigned char *)"\x22\x03\x1a\x01!",
			     5, &r.err) == 0);
	CHECK_STR(run_text(&r), "WARN: !\n");
	run_end(&r);
}

/* Unknown fields of every wire type, at every level, change nothing. */
static void test_unknown_fields(void)
{
	struct buf plain[1] = { BUF_INIT(BUF_TEXT_MAX) },
		   extra[1] = { BUF_INIT(BUF_TEXT_MAX) };
	struct buf v = BUF_INIT(BUF_TEXT_MAX), l = BUF_INIT(BUF_TEXT_MAX),
		   ts = BUF_INIT(BUF_TEXT_MAX), g = BUF_INIT(BUF_TEXT_MAX);
	char *want, *got;
	int ret;

	vertex(&plain[0], "sha256:a", "[1/1] RUN x", 1, 2.5, 0, NULL);
	vlog(&plain[0], "sha256:a", 1.5, 1, "hi\n", 3);
	want = decode_all(plain, 1, &ret);
	CHECK(ret == 0);
	CHECK_STR(want, "#1 [1/1] RUN x\n#1 0.500 hi\n#1 DONE 1.5s\n");

	put_int(&extra[0], 5, 7); /* top level */
	put_key(&extra[0], 9, 1);
	buf_add(&extra[0], "12345678", 8);
	put_key(&extra[0], 10, 5);
	buf_add(&extra[0], "1234", 4);
	put_str(&extra[0], 300000, "future");
	put_str(&v, 1, "sha256:a");
	put_int(&v, 99, -1); /* in a vertex */
	put_str(&v, 3, "[1/1] RUN x");
	put_str(&g, 1, "group");
	put_msg(&v, 8, &g); /* progressGroup */
	put_int(&ts, 1, 1);
	put_int(&ts, 3, 42); /* in a timestamp */
	put_msg(&v, 5, &ts);
	put_int(&ts, 1, 2);
	put_int(&ts, 2, 500000000);
	put_msg(&v, 6, &ts);
	put_msg(&extra[0], 1, &v);
	put_str(&l, 1, "sha256:a");
	put_int(&ts, 1, 1);
	put_int(&ts, 2, 500000000);
	put_msg(&l, 2, &ts);
	put_key(&l, 12, 5); /* in a log */
	buf_add(&l, "abcd", 4);
	put_int(&l, 3, 1);
	put_str(&l, 4, "hi\n");
	put_msg(&extra[0], 3, &l);
	got = decode_all(extra, 1, &ret);
	CHECK(ret == 0);
	CHECK_STR(got, want);
	free(want);
	free(got);
	buf_release(&plain[0]);
	buf_release(&extra[0]);
}

static void test_names_on_one_line(void)
{
	struct buf m = BUF_INIT(BUF_TEXT_MAX);
	char *out;
	int ret;

	vertex(&m, "sha256:a", "[1/1] RUN <<EOF\necho\x1b[31m\nEOF", 1, 2, 0,
	       "bad\nthing");
	out = decode_all(&m, 1, &ret);
	CHECK(ret == 0);
	CHECK_STR(out,
		  "#1 [1/1] RUN <<EOF echo [31m EOF\n#1 ERROR: bad thing\n");
	free(out);
	buf_release(&m);
}

static void test_feed_base64(void)
{
	struct buf m = BUF_INIT(BUF_TEXT_MAX);
	struct run r;
	char *b64;

	vertex(&m, "sha256:a", "[1/1] RUN x", 1, -1, 0, NULL);
	b64 = base64_encode(m.data, m.len);
	run_start(&r);
	CHECK(bktrace_feed(&r.t, b64, &r.err) == 0);
	CHECK_STR(run_text(&r), "#1 [1/1] RUN x\n");
	CHECK(bktrace_feed(&r.t, "not base64!", &r.err) == -1);
	CHECK(r.err.code == EXIT_ENGINE);
	run_end(&r);
	free(b64);
	buf_release(&m);
}

static void test_too_many_vertexes(void)
{
	struct buf m = BUF_INIT(BUF_TEXT_MAX);
	struct run r;
	char digest[32];
	int i;

	for (i = 0; i <= BKTRACE_MAX_VERTEXES; i++) {
		snprintf(digest, sizeof(digest), "sha256:%d", i);
		vertex(&m, digest, "x", -1, -1, 0, NULL);
	}
	run_start(&r);
	CHECK(run_decode(&r, &m, m.len) == -1);
	CHECK(r.err.code == EXIT_ENGINE);
	CHECK(r.t.nr == BKTRACE_MAX_VERTEXES);
	run_end(&r);
	buf_release(&m);
}

/* 300,000 empty vertexes: 600 KB (a progress line holds up to 1 MiB), some
 * 40 MB as protobuf-c's structs. Refused for its size, and nothing shown;
 * the 10,001 named vertexes above stay well under the ceiling. */
static void test_decode_ceiling(void)
{
	struct buf m = BUF_INIT(BUF_TEXT_MAX);
	struct run r;
	int i;

	for (i = 0; i < 300000; i++)
		buf_add(&m, "\x0a\x00", 2);
	run_start(&r);
	CHECK(run_decode(&r, &m, m.len) == -1);
	CHECK(r.err.code == EXIT_ENGINE);
	CHECK(strstr(r.err.msg, "too large to decode"));
	CHECK_STR(run_text(&r), "");
	run_end(&r);
	buf_release(&m);
}

static void test_release_twice(void)
{
	struct bktrace t;

	bktrace_init(&t);
	bktrace_release(&t);
	bktrace_release(&t);
	bktrace_release(NULL);
	CHECK_STR(bktrace_failed_step(&t), "");
}

int main(void)
{
	RUN(test_recorded_multistage);
	RUN(test_recorded_cached);
	RUN(test_recorded_failing);
	RUN(test_render);
	RUN(test_failure_and_cancel);
	RUN(test_late_verdicts);
	RUN(test_cut_at_every_offset);
	RUN(test_log_split_at_every_byte);
	RUN(test_stdout_stderr_partials);
	RUN(test_partial_cap);
	RUN(test_malformed);
	RUN(test_valid_edges);
	RUN(test_unknown_fields);
	RUN(test_names_on_one_line);
	RUN(test_feed_base64);
	RUN(test_too_many_vertexes);
	RUN(test_decode_ceiling);
	RUN(test_release_twice);
	return unit_summary();
}
