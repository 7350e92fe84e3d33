/*
 * BuildKit progress; see bktrace.h. This file renders moby/buildkit's
 * controlapi.StatusResponse as plain "#N ..." lines. The protobuf is
 * decoded by protobuf-c from our own schema, progress.proto, which has the
 * fields we show. It talks to no endpoint: build.c hands it the aux strings
 * of the POST /build?version=2 stream.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"
#include "engine/bktrace.h"
#include "progress.pb-c.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/pballoc.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* How much of a failing step's name and error we keep for the message. */
#define FAILED_TEXT_MAX 4000
/* Status IDs remembered per vertex, so a status repeated as done prints
 * once. */
#define STATUS_SEEN_MAX (16 * 1024)

struct bktrace_vertex {
	unsigned char *digest;
	size_t digest_len;
	char *name; /* NULL until one arrives */
	int shown; /* the name line was printed */
	int completed; /* the completion line was printed */
	int cached, failed;
	int has_start;
	double start; /* seconds since the epoch */
	struct buf partial[2]; /* unfinished log line: stdout, stderr */
	double partial_at[2]; /* when it began, seconds into the step */
	struct buf status_seen; /* IDs of statuses shown done, NUL-ended */
};

/* --- the messages --------------------------------------------------------- */

/* What rendering needs of each message, taken from protobuf-c's decoding
 * (build/proto/progress.pb-c.h); the bytes stay the decoded message's. */

struct bytes {
	const unsigned char *p;
	size_t len;
};

struct ts {
	int set;
	double t; /* seconds since the epoch */
};

struct vertex_msg {
	struct bytes digest, name, error;
	int cached;
	struct ts started, completed;
};

struct status_msg {
	struct bytes id, vertex;
	int64_t current, total;
	struct ts started, completed;
};

struct log_msg {
	struct bytes vertex, msg;
	struct ts at;
	int64_t stream;
};

struct warning_msg {
	struct bytes vertex, text;
};

static int bad(struct error *err, const char *why)
{
	return err_set(err, EXIT_ENGINE,
		       "malformed BuildKit progress from the engine: %s; "
		       "try BUILDER=classic if the engine keeps sending it",
		       why);
}

static struct bytes bytes_of(ProtobufCBinaryData b)
{
	return (struct bytes){ b.data, b.len };
}

static struct ts ts_of(const Moby__Buildkit__V1__Timestamp *t)
{
	if (!t)
		return (struct ts){ 0, 0 };
	return (struct ts){ 1, (double)t->seconds + (double)t->nanos / 1e9 };
}

static void vertex_of(const Moby__Buildkit__V1__Vertex *v,
		      struct vertex_msg *m)
{
	m->digest = bytes_of(v->digest);
	m->name = bytes_of(v->name);
	m->error = bytes_of(v->error);
	m->cached = v->cached != 0;
	m->started = ts_of(v->started);
	m->completed = ts_of(v->completed);
}

static void status_of(const Moby__Buildkit__V1__VertexStatus *v,
		      struct status_msg *m)
{
	m->id = bytes_of(v->id);
	m->vertex = bytes_of(v->vertex);
	m->current = v->current;
	m->total = v->total;
	m->started = ts_of(v->started);
	m->completed = ts_of(v->completed);
}

static void log_of(const Moby__Buildkit__V1__VertexLog *v, struct log_msg *m)
{
	m->vertex = bytes_of(v->vertex);
	m->msg = bytes_of(v->msg);
	m->at = ts_of(v->timestamp);
	m->stream = v->stream;
}

static void warning_of(const Moby__Buildkit__V1__VertexWarning *v,
		       struct warning_msg *m)
{
	m->vertex = bytes_of(v->vertex);
	m->text = bytes_of(v->short_);
}

/* --- rendering ------------------------------------------------------------ */

/* Names and errors go on one line: control characters become spaces
 * (heredoc RUN steps have newlines in their names). */
static char *one_line(struct bytes b)
{
	char *s = xmalloc(b.len + 1);
	size_t i;

	for (i = 0; i < b.len; i++) {
		unsigned char c = b.p[i];

		s[i] = (char)(c < 0x20 || c == 0x7f ? ' ' : c);
	}
	s[b.len] = '\0';
	return s;
}

static size_t vertex_index(struct bktrace *t, struct bytes digest,
			   struct error *err)
{
	struct bktrace_vertex *v;
	size_t i;

	for (i = 0; i < t->nr; i++)
		if (t->v[i].digest_len == digest.len &&
		    !memcmp(t->v[i].digest, digest.p, digest.len))
			return i;
	if (t->nr >= BKTRACE_MAX_VERTEXES) {
		err_set(err, EXIT_ENGINE,
			"the engine reported more than %d build steps; "
			"try BUILDER=classic",
			BKTRACE_MAX_VERTEXES);
		return SIZE_MAX;
	}
	ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	v = &t->v[t->nr];
	memset(v, 0, sizeof(*v));
	v->digest = xmalloc(digest.len);
	memcpy(v->digest, digest.p, digest.len);
	v->digest_len = digest.len;
	buf_init(&v->partial[0], BKTRACE_MAX_PARTIAL);
	buf_init(&v->partial[1], BKTRACE_MAX_PARTIAL);
	buf_init(&v->status_seen, STATUS_SEEN_MAX);
	return t->nr++;
}

static void show(struct bktrace *t, size_t i)
{
	struct bktrace_vertex *v = &t->v[i];

	if (v->shown)
		return;
	v->shown = 1;
	fprintf(t->out, "#%zu %s\n", i + 1, v->name ? v->name : "");
}

static void put_line(struct bktrace *t, size_t i, double at, struct buf *head,
		     const unsigned char *tail, size_t tail_len)
{
	const char *h = head->data;
	size_t h_len = head->len;

	show(t, i);
	/* A CRLF line end is one line end. */
	if (tail_len && tail[tail_len - 1] == '\r')
		tail_len--;
	else if (!tail_len && h_len && h[h_len - 1] == '\r')
		h_len--;
	fprintf(t->out, "#%zu %.3f ", i + 1, at);
	if (h_len)
		fwrite(h, 1, h_len, t->out);
	if (tail_len)
		fwrite(tail, 1, tail_len, t->out);
	fputc('\n', t->out);
	buf_reset(head);
}

static void flush_vertex(struct bktrace *t, size_t i)
{
	struct bktrace_vertex *v = &t->v[i];
	int s;

	for (s = 0; s < 2; s++)
		if (v->partial[s].len)
			put_line(t, i, v->partial_at[s], &v->partial[s], NULL,
				 0);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !memcmp(s + n - m, suffix, m);
}

static void show_error(struct bktrace *t, size_t i, struct bytes error)
{
	struct bktrace_vertex *v = &t->v[i];
	char *msg = one_line(error);

	v->failed = 1;
	/* Steps running beside the one that failed end "context canceled";
	 * they are not the cause. */
	if (ends_with(msg, "context canceled")) {
		fprintf(t->out, "#%zu CANCELED\n", i + 1);
	} else {
		fprintf(t->out, "#%zu ERROR: %s\n", i + 1, msg);
		if (!t->failed_error.len) {
			const char *name = v->name ? v->name : "";
			size_t n = strlen(name), m = strlen(msg);

			buf_reset(&t->failed_step);
			buf_add(&t->failed_step, name,
				n < FAILED_TEXT_MAX ? n : FAILED_TEXT_MAX);
			buf_add(&t->failed_error, msg,
				m < FAILED_TEXT_MAX ? m : FAILED_TEXT_MAX);
		}
	}
	free(msg);
}

/* Phase 1: number the vertex, remember its name and start, show it. */
static int vertex_begin(struct bktrace *t, const struct vertex_msg *m,
			struct error *err)
{
	struct bktrace_vertex *v;
	size_t i;

	if (!m->digest.len)
		return 0;
	if ((i = vertex_index(t, m->digest, err)) == SIZE_MAX)
		return -1;
	v = &t->v[i];
	if (m->name.len && !v->shown) {
		free(v->name);
		v->name = one_line(m->name);
	}
	/* A vertex can be reported started again after it completed (the
	 * solver re-evaluates it); its first run is the one we timed. */
	if (m->started.set && !v->completed) {
		v->start = m->started.t;
		v->has_start = 1;
	}
	/* A step that arrives already complete is shown with its verdict
	 * (or its first log line), so that cache hits read "#N name",
	 * "#N CACHED" together. */
	if (m->started.set && !m->completed.set && !m->error.len)
		show(t, i);
	return 0;
}

/* Phase 4, after the logs: the completion line, once. */
static void vertex_end(struct bktrace *t, const struct vertex_msg *m)
{
	struct bktrace_vertex *v;
	size_t i;

	if (!m->digest.len)
		return;
	for (i = 0; i < t->nr; i++)
		if (t->v[i].digest_len == m->digest.len &&
		    !memcmp(t->v[i].digest, m->digest.p, m->digest.len))
			break;
	if (i == t->nr)
		return;
	v = &t->v[i];
	if (!m->completed.set && !m->error.len)
		return;
	if (v->completed) {
		/* Later reports only refine the verdict: count a late cache
		 * hit, show a late error. */
		if (m->error.len && !v->failed)
			show_error(t, i, m->error);
		else if (m->cached && !v->cached && !v->failed) {
			v->cached = 1;
			t->cached++;
		}
		return;
	}
	show(t, i);
	flush_vertex(t, i);
	v->completed = 1;
	t->done++;
	if (m->error.len) {
		show_error(t, i, m->error);
	} else if (m->cached) {
		v->cached = 1;
		t->cached++;
		fprintf(t->out, "#%zu CACHED\n", i + 1);
	} else if (v->has_start && m->completed.set) {
		double d = m->completed.t - v->start;

		fprintf(t->out, "#%zu DONE %.1fs\n", i + 1, d > 0 ? d : 0.0);
	} else {
		fprintf(t->out, "#%zu DONE\n", i + 1);
	}
}

static int log_apply(struct bktrace *t, const struct log_msg *m,
		     struct error *err)
{
	struct bktrace_vertex *v;
	struct buf *part;
	const unsigned char *p = m->msg.p, *end = p;
	double at = 0, *part_at;
	size_t i;
	int s = m->stream == 2;

	if (!m->vertex.len || !m->msg.len)
		return 0;
	if ((i = vertex_index(t, m->vertex, err)) == SIZE_MAX)
		return -1;
	end = p + m->msg.len;
	v = &t->v[i];
	part = &v->partial[s];
	part_at = &v->partial_at[s];
	if (v->has_start && m->at.set && m->at.t > v->start)
		at = m->at.t - v->start;
	while (p < end) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t room = BKTRACE_MAX_PARTIAL - part->len;

		if (!part->len)
			*part_at = at;
		if (nl) {
			put_line(t, i, *part_at, part, p, n);
			p = nl + 1;
			continue;
		}
		/* No line end yet: hold the text back, and print it in
		 * pieces when a line outgrows the cap. */
		if (n >= room) {
			n = room;
			buf_add(part, p, n);
			put_line(t, i, *part_at, part, NULL, 0);
		} else {
			buf_add(part, p, n);
		}
		p += n;
	}
	return 0;
}

static void human(char *out, size_t size, int64_t n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = n > 0 ? (double)n : 0;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u)
		snprintf(out, size, "%.2f%s", d, unit[u]);
	else
		snprintf(out, size, "%.0f%s", d, unit[u]);
}

static int seen_status(struct bktrace_vertex *v, const char *id)
{
	const char *p = v->status_seen.data;
	size_t off = 0;

	while (p && off < v->status_seen.len) {
		if (!strcmp(p + off, id))
			return 1;
		off += strlen(p + off) + 1;
	}
	/* When the list is full we may print a repeat; no harm. */
	buf_add(&v->status_seen, id, strlen(id) + 1);
	return 0;
}

static int status_apply(struct bktrace *t, const struct status_msg *m,
			struct error *err)
{
	char *id = NULL, size[80] = "", cur[32], tot[32], tm[48] = "";
	size_t i;

	if (!m->vertex.len || !m->id.len || !m->completed.set)
		return 0;
	if ((i = vertex_index(t, m->vertex, err)) == SIZE_MAX)
		return -1;
	id = one_line(m->id);
	if (seen_status(&t->v[i], id))
		goto out;
	if (m->total > 0) {
		human(cur, sizeof(cur), m->current);
		human(tot, sizeof(tot), m->total);
		snprintf(size, sizeof(size), " %s / %s", cur, tot);
	} else if (m->current > 0) {
		human(cur, sizeof(cur), m->current);
		snprintf(size, sizeof(size), " %s", cur);
	}
	if (m->started.set && m->completed.t - m->started.t > 0.01)
		snprintf(tm, sizeof(tm), " %.1fs",
			 m->completed.t - m->started.t);
	show(t, i);
	fprintf(t->out, "#%zu %s%s%s done\n", i + 1, id, size, tm);
out:
	free(id);
	return 0;
}

static int warning_apply(struct bktrace *t, const struct warning_msg *m,
			 struct error *err)
{
	char *text = one_line(m->text);
	size_t i;

	if (!m->vertex.len) {
		fprintf(t->out, "WARN: %s\n", text);
	} else if ((i = vertex_index(t, m->vertex, err)) == SIZE_MAX) {
		free(text);
		return -1;
	} else {
		show(t, i);
		fprintf(t->out, "#%zu WARN: %s\n", i + 1, text);
	}
	free(text);
	return 0;
}

/* --- the response --------------------------------------------------------- */

/*
 * A StatusResponse is decoded whole first (protobuf-c checks every byte),
 * so a malformed one prints nothing. Then vertex starts, logs, statuses,
 * vertex completions and warnings, in that order, so that a step's logs
 * come before its DONE even when both arrive in one message.
 */
static int apply(struct bktrace *t, const Moby__Buildkit__V1__StatusResponse *r,
		 struct error *err)
{
	size_t i;

	for (i = 0; i < r->n_vertexes; i++) {
		struct vertex_msg m;

		vertex_of(r->vertexes[i], &m);
		if (vertex_begin(t, &m, err) < 0)
			return -1;
	}
	for (i = 0; i < r->n_logs; i++) {
		struct log_msg m;

		log_of(r->logs[i], &m);
		if (log_apply(t, &m, err) < 0)
			return -1;
	}
	for (i = 0; i < r->n_statuses; i++) {
		struct status_msg m;

		status_of(r->statuses[i], &m);
		if (status_apply(t, &m, err) < 0)
			return -1;
	}
	for (i = 0; i < r->n_vertexes; i++) {
		struct vertex_msg m;

		vertex_of(r->vertexes[i], &m);
		vertex_end(t, &m);
	}
	for (i = 0; i < r->n_warnings; i++) {
		struct warning_msg m;

		warning_of(r->warnings[i], &m);
		if (warning_apply(t, &m, err) < 0)
			return -1;
	}
	return 0;
}

void bktrace_init(struct bktrace *t)
{
	memset(t, 0, sizeof(*t));
	buf_init(&t->failed_step, FAILED_TEXT_MAX);
	buf_init(&t->failed_error, FAILED_TEXT_MAX);
	t->out = stdout;
}

int bktrace_decode(struct bktrace *t, const unsigned char *data, size_t len,
		   struct error *err)
{
	Moby__Buildkit__V1__StatusResponse *r;
	struct pballoc a;
	int ret;

	r = moby__buildkit__v1__status_response__unpack(pballoc_init(&a, len),
							len, data);
	if (!r)
		return bad(err, pballoc_exceeded(&a)
					? "a StatusResponse too large to decode"
					: "not a StatusResponse protobuf");
	ret = apply(t, r, err);
	moby__buildkit__v1__status_response__free_unpacked(r, &a.base);
	return ret;
}

int bktrace_feed(struct bktrace *t, const char *base64, struct error *err)
{
	char *raw = NULL;
	size_t len;
	int ret;

	if (base64_decode(base64, strlen(base64), &raw, &len) < 0)
		return bad(err, "a trace message is not base64");
	ret = bktrace_decode(t, (const unsigned char *)raw, len, err);
	free(raw);
	return ret;
}

void bktrace_flush(struct bktrace *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		flush_vertex(t, i);
	fflush(t->out);
}

const char *bktrace_failed_step(const struct bktrace *t)
{
	return buf_str(&t->failed_step);
}

void bktrace_release(struct bktrace *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nr; i++) {
		struct bktrace_vertex *v = &t->v[i];

		free(v->digest);
		free(v->name);
		buf_release(&v->partial[0]);
		buf_release(&v->partial[1]);
		buf_release(&v->status_seen);
	}
	free(t->v);
	buf_release(&t->failed_step);
	buf_release(&t->failed_error);
	bktrace_init(t);
}
