/*
 * Unit tests for the gRPC message framing (builder/session/grpc.c): every
 * input is fed whole, split in two and in three at every position, and one
 * byte at a time, and must give the same messages and the same verdict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session/grpc.h"
#include "util/buf.h"
#include "util/error.h"
#include "unit.h"

/* What the callback saw: "[len:bytes]" per message. */
struct seen {
	struct buf text;
	size_t calls;
	size_t fail_at; /* refuse this call (1-based), 0: never */
};

static int record(const uint8_t *msg, size_t len, void *ctx, struct error *err)
{
	struct seen *s = ctx;

	s->calls++;
	if (s->fail_at && s->calls == s->fail_at)
		return err_set(err, 98, "sink refused");
	buf_addf(&s->text, "[%zu:", len);
	buf_add(&s->text, msg, len);
	buf_addch(&s->text, ']');
	return 0;
}

static void frame(struct buf *b, const char *payload, size_t len)
{
	uint8_t h[GRPC_HEADER_LEN];

	grpc_frame_header(h, (uint32_t)len);
	buf_add(b, h, sizeof(h));
	buf_add(b, payload, len);
}

struct outcome {
	int ret;
	int code;
	char msg[ERROR_MSG_MAX];
	char *text;
};

static struct outcome feed_cut(const struct buf *in, const size_t *cuts,
			       size_t ncuts, size_t max, size_t fail_at)
{
	struct grpc_reader r;
	struct seen s = { BUF_INIT(BUF_TEXT_MAX), 0, fail_at };
	struct error err = ERROR_INIT;
	struct outcome o = { 0, 0, "", NULL };
	size_t pos = 0;

	grpc_reader_init(&r, max, record, &s);
	for (size_t i = 0; i <= ncuts && o.ret == 0; i++) {
		size_t end = i < ncuts ? cuts[i] : in->len;

		if (grpc_reader_feed(&r, in->data ? in->data + pos : "",
				     end - pos, &err) < 0)
			o.ret = -1;
		pos = end;
	}
	if (o.ret == 0 && grpc_reader_finish(&r, &err) < 0)
		o.ret = -1;
	if (o.ret < 0) {
		o.code = err.code;
		snprintf(o.msg, sizeof(o.msg), "%s", err.msg);
	}
	o.text = buf_detach(&s.text);
	grpc_reader_release(&r);
	return o;
}

static void check_same(const struct outcome *a, const struct outcome *b,
		       size_t i, size_t j)
{
	if (a->ret != b->ret || a->code != b->code || strcmp(a->msg, b->msg) ||
	    strcmp(a->text, b->text)) {
		fprintf(stderr,
			"cut %zu,%zu: differs: %d '%s' '%.60s' vs %d '%s' "
			"'%.60s'\n",
			i, j, a->ret, a->msg, a->text, b->ret, b->msg, b->text);
		unit_failures_in_test++;
	}
}

static void check_all_splits(const struct buf *in, size_t max,
			     const char *want_text, int want_ret,
			     const char *want_msg)
{
	struct outcome whole = feed_cut(in, NULL, 0, max, 0);
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
		struct outcome o = feed_cut(in, cut, 1, max, 0);

		check_same(&whole, &o, i, i);
		free(o.text);
	}
	if (n <= 120)
		for (size_t i = 0; i <= n; i++)
			for (size_t j = i; j <= n; j++) {
				size_t cut[2] = { i, j };
				struct outcome o = feed_cut(in, cut, 2, max, 0);

				check_same(&whole, &o, i, j);
				free(o.text);
			}
	{
		size_t *cuts = calloc(n ? n : 1, sizeof(*cuts));
		struct outcome o;

		for (size_t i = 0; i < n; i++)
			cuts[i] = i;
		o = feed_cut(in, cuts, n, max, 0);
		check_same(&whole, &o, 1, 1);
		free(o.text);
		free(cuts);
	}
	free(whole.text);
}

static void test_empty_stream(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);

	check_all_splits(&in, 64, "", 0, NULL);
	buf_release(&in);
}

static void test_messages(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);

	frame(&in, "hello", 5);
	frame(&in, "", 0);
	frame(&in, "a\0b", 3);
	frame(&in, "world!", 6);
	check_all_splits(&in, 64, NULL, 0, NULL);
	{
		struct outcome o = feed_cut(&in, NULL, 0, 64, 0);

		CHECK(o.ret == 0);
		CHECK(!memcmp(o.text, "[5:hello][0:][3:a\0b][6:world!]", 30));
		free(o.text);
	}
	buf_release(&in);
}

static void test_limit(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);

	/* Exactly at the ceiling: fine; one over: refused. */
	frame(&in, "12345678", 8);
	check_all_splits(&in, 8, "[8:12345678]", 0, NULL);
	check_all_splits(&in, 7, "", -1, "over the limit of 7");
	buf_release(&in);
}

static void test_huge_length(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);
	static const char h[] = { 0, (char)0xff, (char)0xff, (char)0xff,
				  (char)0xff };

	buf_add(&in, h, sizeof(h));
	check_all_splits(&in, 1u << 20, "", -1, "over the limit");
	buf_release(&in);
}

static void test_compressed(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);

	frame(&in, "ok", 2);
	buf_add(&in, "\1\0\0\0\2zz", 7);
	check_all_splits(&in, 64, "[2:ok]", -1, "compressed flag 1");
	buf_release(&in);
}

static void test_truncated(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);

	frame(&in, "ok", 2);
	buf_add(&in, "\0\0\0\0\5abc", 8);
	check_all_splits(&in, 64, "[2:ok]", -1, "inside a message (8 of 10");
	buf_reset(&in);
	frame(&in, "ok", 2);
	buf_add(&in, "\0\0", 2);
	check_all_splits(&in, 64, "[2:ok]", -1, "inside a message (2 of 5");
	buf_release(&in);
}

static void test_sink_refuses(void)
{
	struct buf in = BUF_INIT(BUF_TEXT_MAX);
	struct outcome o;
	struct grpc_reader r;
	struct seen s = { BUF_INIT(BUF_TEXT_MAX), 0, 2 };
	struct error err = ERROR_INIT;

	frame(&in, "one", 3);
	frame(&in, "two", 3);
	frame(&in, "three", 5);
	o = feed_cut(&in, NULL, 0, 64, 2);
	CHECK(o.ret == -1);
	CHECK(o.code == 98);
	CHECK_STR(o.text, "[3:one]");
	free(o.text);
	/* After a failure the reader refuses more input. */
	grpc_reader_init(&r, 64, record, &s);
	CHECK(grpc_reader_feed(&r, in.data, in.len, &err) < 0);
	err_clear(&err);
	CHECK(grpc_reader_feed(&r, "\0", 1, &err) < 0);
	CHECK(grpc_reader_finish(&r, &err) < 0);
	grpc_reader_release(&r);
	buf_release(&s.text);
	buf_release(&in);
}

static void test_header_and_message_encoding(void)
{
	uint8_t h[GRPC_HEADER_LEN];
	struct buf b = BUF_INIT(BUF_TEXT_MAX);

	grpc_frame_header(h, 0x01020304u);
	CHECK(h[0] == 0 && h[1] == 1 && h[2] == 2 && h[3] == 3 && h[4] == 4);
	grpc_add_message(&b, "secret x not found: 100%\n\xc3\xa9");
	CHECK_STR(b.data, "secret x not found: 100%25%0A%C3%A9");
	buf_release(&b);
}

int main(void)
{
	RUN(test_empty_stream);
	RUN(test_messages);
	RUN(test_limit);
	RUN(test_huge_length);
	RUN(test_compressed);
	RUN(test_truncated);
	RUN(test_sink_refuses);
	RUN(test_header_and_message_encoding);
	return unit_summary();
}
