/*
 * Unit tests for the multiplexed-output decoder (builder/engine/demux.c): every
 * case is fed whole, one byte at a time, and split in two and in three at
 * every position, and must give the same output and the same verdict.
 */
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "engine/demux.h"
#include "util/error.h"
#include "unit.h"

/* What the callback saw: "o:" / "e:" runs, merged across pieces. */
struct seen {
	struct buf text;
	int last; /* stream of the previous piece, 0 at first */
	size_t calls;
	size_t fail_after; /* fail on this call (1-based), 0: never */
};

static int record(enum demux_stream stream, const char *data, size_t len,
		  void *ctx, struct error *err)
{
	struct seen *s = ctx;

	if (!len)
		return err_set(err, 99, "empty piece");
	s->calls++;
	if (s->fail_after && s->calls == s->fail_after)
		return err_set(err, 98, "sink refused");
	if ((int)stream != s->last) {
		if (s->last)
			buf_addch(&s->text, '|');
		buf_addstr(&s->text, stream == DEMUX_STDOUT ? "o:" : "e:");
		s->last = (int)stream;
	}
	buf_add(&s->text, data, len);
	return 0;
}

/* Appends a frame header and payload to b. */
static void frame(struct buf *b, int type, const char *payload, size_t len)
{
	unsigned char h[8] = { (unsigned char)type,
			       0,
			       0,
			       0,
			       (unsigned char)(len >> 24),
			       (unsigned char)(len >> 16),
			       (unsigned char)(len >> 8),
			       (unsigned char)len };

	buf_add(b, h, sizeof(h));
	buf_add(b, payload, len);
}

static void frames(struct buf *b, int type, const char *payload)
{
	frame(b, type, payload, strlen(payload));
}

struct outcome {
	int ret; /* -1 when feed or finish failed */
	int code;
	char msg[ERROR_MSG_MAX];
	char *text; /* owned */
};

/* Feeds input cut at the given points (sorted, may repeat), then finishes. */
static struct outcome feed_cut(const struct buf *in, const size_t *cuts,
			       size_t ncuts, size_t fail_after)
{
	struct demux d;
	struct seen s = { BUF_INIT(BUF_TEXT_MAX), 0, 0, fail_after };
	struct error err = ERROR_INIT;
	struct outcome o = { 0, 0, "", NULL };
	size_t pos = 0;

	buf_init(&s.text, 1u << 24);
	demux_init(&d, record, &s);
	for (size_t i = 0; i <= ncuts && o.ret == 0; i++) {
		size_t end = i < ncuts ? cuts[i] : in->len;

		if (demux_feed(&d, in->data ? in->data + pos : "", end - pos,
			       &err) < 0)
			o.ret = -1;
		pos = end;
	}
	if (o.ret == 0 && demux_finish(&d, &err) < 0)
		o.ret = -1;
	if (o.ret < 0) {
		o.code = err.code;
		snprintf(o.msg, sizeof(o.msg), "%s", err.msg);
	}
	o.text = buf_detach(&s.text);
	demux_release(&d);
	return o;
}

static void check_same(const struct outcome *a, const struct outcome *b,
		       size_t i, size_t j)
{
	if (a->ret != b->ret || a->code != b->code || strcmp(a->msg, b->msg)) {
		fprintf(stderr,
			"cut %zu,%zu: verdict differs: %d %d '%s' vs "
			"%d %d '%s'\n",
			i, j, a->ret, a->code, a->msg, b->ret, b->code, b->msg);
		unit_failures_in_test++;
	}
	/* On failure the output before the failure may end at a different
	 * place only when the sink itself refused; otherwise it must match. */
	if (strcmp(a->text, b->text)) {
		fprintf(stderr,
			"cut %zu,%zu: output differs: '%.60s' vs "
			"'%.60s'\n",
			i, j, a->text, b->text);
		unit_failures_in_test++;
	}
}

/* Runs in through every split and checks the verdict and output against
 * want_text / want_ret / a substring of the message. */
static void check_all_splits(const struct buf *in, const char *want_text,
			     int want_ret, const char *want_msg)
{
	struct outcome whole = feed_cut(in, NULL, 0, 0);
	size_t n = in->len;

	CHECK(whole.ret == want_ret);
	if (want_text)
		CHECK_STR(whole.text, want_text);
	if (want_msg && !strstr(whole.msg, want_msg)) {
		fprintf(stderr, "message '%s' lacks '%s'\n", whole.msg,
			want_msg);
		unit_failures_in_test++;
	}
	if (want_ret < 0)
		CHECK(whole.code == EXIT_ENGINE);

	for (size_t i = 0; i <= n; i++) {
		size_t cut[1] = { i };

		/* Long inputs: every cut near the ends, a sample between. */
		if (n > 4096 && i > 64 && i + 64 < n && i % 997)
			continue;
		struct outcome o = feed_cut(in, cut, 1, 0);

		check_same(&whole, &o, i, i);
		free(o.text);
	}
	/* Three pieces: every pair of cuts (inputs are kept small). */
	if (n <= 200)
		for (size_t i = 0; i <= n; i++)
			for (size_t j = i; j <= n; j++) {
				size_t cut[2] = { i, j };
				struct outcome o = feed_cut(in, cut, 2, 0);

				check_same(&whole, &o, i, j);
				free(o.text);
			}
	/* One byte at a time. */
	{
		size_t *cuts = calloc(n ? n : 1, sizeof(*cuts));
		struct outcome o;

		for (size_t i = 0; i < n; i++)
			cuts[i] = i;
		o = feed_cut(in, cuts, n, 0);
		check_same(&whole, &o, 1, 1);
		free(o.text);
		free(cuts);
	}
	free(whole.text);
}

static void test_empty(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);

	check_all_splits(&in, "", 0, NULL);
	buf_release(&in);
}

static void test_stdout_only(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);

	frames(&in, 1, "hello\n");
	frames(&in, 1, "world\n");
	check_all_splits(&in, "o:hello\nworld\n", 0, NULL);
	buf_release(&in);
}

static void test_interleaved(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);

	frames(&in, 1, "first line\n");
	frames(&in, 2, "warning: x\n");
	frames(&in, 1, "second");
	frames(&in, 1, " half\n");
	frames(&in, 2, "e");
	check_all_splits(&in,
			 "o:first line\n|e:warning: x\n|o:second half\n|e:e", 0,
			 NULL);
	buf_release(&in);
}

static void test_stdin_type_is_stdout(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);

	frames(&in, 0, "zero");
	frames(&in, 1, "one");
	check_all_splits(&in, "o:zeroone", 0, NULL);
	buf_release(&in);
}

static void test_zero_length_frames(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);

	frame(&in, 1, "", 0);
	frames(&in, 2, "x");
	frame(&in, 2, "", 0);
	frame(&in, 1, "", 0);
	check_all_splits(&in, "e:x", 0, NULL);
	buf_release(&in);
}

static void test_binary_payload(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);
	const char bytes[] = { 0, 1, 2, '\n', 3, 0, (char)0xff };
	struct outcome o;

	frame(&in, 1, bytes, sizeof(bytes));
	o = feed_cut(&in, NULL, 0, 0);
	CHECK(o.ret == 0);
	CHECK(!memcmp(o.text, "o:", 2) && !memcmp(o.text + 2, bytes, 3));
	free(o.text);
	check_all_splits(&in, NULL, 0, NULL);
	buf_release(&in);
}

static void test_large_frame(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);
	size_t n = 70000; /* size needs the third header byte */
	char *big = malloc(n);
	struct outcome o;

	buf_init(&in, 1u << 20);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	frame(&in, 2, big, n);
	frames(&in, 1, "tail");
	o = feed_cut(&in, NULL, 0, 0);
	CHECK(o.ret == 0);
	CHECK(strlen(o.text) == 2 + n + 1 + 2 + 4);
	CHECK(!memcmp(o.text + 2, big, n));
	CHECK_STR(o.text + 2 + n, "|o:tail");
	free(o.text);
	check_all_splits(&in, NULL, 0, NULL);
	free(big);
	buf_release(&in);
}

static void test_systemerr(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);

	frames(&in, 1, "before\n");
	frames(&in, 3, "error from daemon in stream: log file gone\nmore");
	frames(&in, 1, "after\n");
	check_all_splits(&in, "o:before\n", -1,
			 "streaming the container's output: error from "
			 "daemon in stream: log file gone");
	buf_release(&in);
}

static void test_systemerr_empty_and_long(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);
	struct buf longmsg = BUF_INIT(BUF_TEXT_MAX);
	struct outcome o;

	frame(&in, 3, "", 0);
	check_all_splits(&in, "", -1, "no message");
	buf_reset(&in);

	buf_init(&in, 1u << 20);
	for (int i = 0; i < 1000; i++)
		buf_addstr(&longmsg, "0123456789");
	frame(&in, 3, longmsg.data, longmsg.len);
	o = feed_cut(&in, NULL, 0, 0);
	CHECK(o.ret == -1);
	CHECK(strstr(o.msg, "0123456789") != NULL);
	free(o.text);
	buf_release(&longmsg);
	buf_release(&in);
}

static void test_unknown_type(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);

	frames(&in, 1, "ok");
	frames(&in, 4, "??");
	check_all_splits(&in, "o:ok", -1, "not a multiplexed stream");
	buf_release(&in);
}

static void test_raw_stream_rejected(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);

	/* What a Tty=true container sends: plain text. */
	buf_addstr(&in, "\x01hello world\n");
	check_all_splits(&in, "", -1, "not a multiplexed stream");
	buf_reset(&in);
	buf_addstr(&in, "hello world\n");
	check_all_splits(&in, "", -1, "created with a TTY");
	buf_release(&in);
}

static void test_truncated(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);
	struct buf cut = BUF_INIT(BUF_TEXT_MAX);

	frames(&in, 1, "complete\n");
	frames(&in, 2, "partial payload");
	/* Every proper prefix that ends inside the second frame. */
	for (size_t n = 8 + 9 + 1; n < in.len; n++) {
		struct outcome o;

		buf_reset(&cut);
		buf_add(&cut, in.data, n);
		o = feed_cut(&cut, NULL, 0, 0);
		CHECK(o.ret == -1);
		CHECK(strstr(o.msg, "middle of a frame") != NULL);
		CHECK(!strncmp(o.text, "o:complete\n", 11));
		free(o.text);
	}
	buf_reset(&cut);
	buf_add(&cut, in.data, 17 + 8 + 3); /* header and 3 payload bytes */
	check_all_splits(&cut, "o:complete\n|e:par", -1, "middle of a frame");
	buf_release(&cut);
	buf_release(&in);
}

static void test_sink_failure_stops(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);
	struct demux d;
	struct seen s = { BUF_INIT(BUF_TEXT_MAX), 0, 0, 2 };
	struct error err = ERROR_INIT;

	frames(&in, 1, "a");
	frames(&in, 2, "b");
	frames(&in, 1, "c");
	demux_init(&d, record, &s);
	CHECK(demux_feed(&d, in.data, in.len, &err) == -1);
	CHECK(err.code == 98);
	CHECK_STR(err.msg, "sink refused");
	CHECK_STR(buf_str(&s.text), "o:a");
	CHECK(s.calls == 2);
	/* Later bytes are refused, and finish reports the failure. */
	CHECK(demux_feed(&d, in.data, in.len, &err) == -1);
	CHECK(demux_finish(&d, &err) == -1);
	CHECK(s.calls == 2);
	demux_release(&d);
	buf_release(&s.text);
	buf_release(&in);
}

static void test_frame_count_and_sink(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);
	struct demux d;
	struct seen s = { BUF_INIT(BUF_TEXT_MAX), 0, 0, 0 };
	struct error err = ERROR_INIT;

	frames(&in, 1, "x");
	frame(&in, 2, "", 0);
	frames(&in, 2, "yz");
	demux_init(&d, record, &s);
	CHECK(demux_sink(in.data, 5, &d, &err) == 0);
	CHECK(d.frames == 0);
	CHECK(demux_sink(in.data + 5, in.len - 5, &d, &err) == 0);
	CHECK(d.frames == 3);
	CHECK(demux_finish(&d, &err) == 0);
	CHECK_STR(buf_str(&s.text), "o:x|e:yz");
	demux_release(&d);
	buf_release(&s.text);
	buf_release(&in);
}

static void test_null_callback(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);
	struct demux d;
	struct error err = ERROR_INIT;

	frames(&in, 1, "discarded");
	demux_init(&d, NULL, NULL);
	CHECK(demux_feed(&d, in.data, in.len, &err) == 0);
	CHECK(demux_finish(&d, &err) == 0);
	CHECK(d.frames == 1);
	demux_release(&d);
	buf_release(&in);
}

int main(void)
{
	RUN(test_empty);
	RUN(test_stdout_only);
	RUN(test_interleaved);
	RUN(test_stdin_type_is_stdout);
	RUN(test_zero_length_frames);
	RUN(test_binary_payload);
	RUN(test_large_frame);
	RUN(test_systemerr);
	RUN(test_systemerr_empty_and_long);
	RUN(test_unknown_type);
	RUN(test_raw_stream_rejected);
	RUN(test_truncated);
	RUN(test_sink_failure_stops);
	RUN(test_frame_count_and_sink);
	RUN(test_null_callback);
	return unit_summary();
}
