/*
 * The engine's JSON message-stream decoder, fed recorded streams split at
 * every offset, and the ways a stream can go wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "engine/jstream.h"
#include "unit.h"

struct seen {
	size_t messages;
	size_t streams; /* messages with "stream" */
	char last_status[256];
};

static int count(const cJSON *msg, void *ctx, struct error *err)
{
	struct seen *s = ctx;
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(msg, "status");

	(void)err;
	s->messages++;
	if (cJSON_GetObjectItemCaseSensitive(msg, "stream"))
		s->streams++;
	if (cJSON_IsString(status))
		snprintf(s->last_status, sizeof(s->last_status), "%s",
			 status->valuestring);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	char block[4096];
	size_t n;

	if (!f) {
		fprintf(stderr,
			"cannot open %s (run from the repository root)\n",
			path);
		exit(1);
	}
	while ((n = fread(block, 1, sizeof(block), f)) > 0)
		buf_add(&b, block, n);
	fclose(f);
	*len = b.len;
	return buf_detach(&b);
}

/* Decodes data fed in two pieces split at `split`; returns the result of
 * the whole decode (0 or -1) and fills s and err. */
static int decode_split(const char *data, size_t len, size_t split,
			struct seen *s, struct error *err)
{
	struct jstream js;
	int ret;

	memset(s, 0, sizeof(*s));
	err_clear(err);
	jstream_init(&js, count, s);
	ret = jstream_feed(&js, data, split, err);
	if (!ret)
		ret = jstream_feed(&js, data + split, len - split, err);
	if (!ret)
		ret = jstream_finish(&js, err);
	jstream_release(&js);
	return ret;
}

static int decode_bytewise(const char *data, size_t len, struct seen *s,
			   struct error *err)
{
	struct jstream js;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	err_clear(err);
	jstream_init(&js, count, s);
	for (size_t i = 0; i < len && !ret; i++)
		ret = jstream_feed(&js, data + i, 1, err);
	if (!ret)
		ret = jstream_finish(&js, err);
	jstream_release(&js);
	return ret;
}

static const struct {
	const char *file;
	int ok; /* whole stream succeeds */
	size_t messages; /* messages seen by the callback */
	const char *error; /* substring of the error */
	long code; /* errorDetail.code */
} recorded[] = {
	{ "tests/unit/data/streams/build-ok.jsonl", 1, 12, NULL, 0 },
	{ "tests/unit/data/streams/build-fail.jsonl", 0, 9,
	  "returned a non-zero code: 3", 3 },
	{ "tests/unit/data/streams/push-ok.jsonl", 1, 7, NULL, 0 },
	{ "tests/unit/data/streams/push-unauthorized.jsonl", 0, 4,
	  "no basic auth credentials", 0 },
};

static void test_recorded_every_split(void)
{
	for (size_t i = 0; i < sizeof(recorded) / sizeof(recorded[0]); i++) {
		size_t len;
		char *data = slurp(recorded[i].file, &len);

		for (size_t split = 0; split <= len; split++) {
			struct seen s;
			struct error err = ERROR_INIT;
			int ret = decode_split(data, len, split, &s, &err);

			CHECK(ret == (recorded[i].ok ? 0 : -1));
			CHECK(s.messages == recorded[i].messages);
			if (recorded[i].error) {
				CHECK(strstr(err.msg, recorded[i].error) !=
				      NULL);
				CHECK(err.code == EXIT_ENGINE);
			}
			if (unit_failures_in_test) {
				fprintf(stderr, "  %s split at %zu: %s\n",
					recorded[i].file, split, err.msg);
				break;
			}
		}
		free(data);
	}
}

static void test_recorded_bytewise(void)
{
	for (size_t i = 0; i < sizeof(recorded) / sizeof(recorded[0]); i++) {
		size_t len;
		char *data = slurp(recorded[i].file, &len);
		struct seen s;
		struct error err = ERROR_INIT;

		CHECK(decode_bytewise(data, len, &s, &err) ==
		      (recorded[i].ok ? 0 : -1));
		CHECK(s.messages == recorded[i].messages);
		free(data);
	}
}

static void test_error_code_kept(void)
{
	const char *data = "{\"stream\":\"x\"}\r\n{\"errorDetail\":{\"code\":7,"
			   "\"message\":\"boom\"},\"error\":\"boom\"}\r\n"
			   "{\"stream\":\"after\"}\r\n";
	struct jstream js;
	struct seen s = { 0 };
	struct error err = ERROR_INIT;

	jstream_init(&js, count, &s);
	CHECK(jstream_feed(&js, data, strlen(data), &err) == -1);
	CHECK(js.error_code == 7);
	CHECK_STR(err.msg, "boom");
	/* Nothing after the failure is decoded. */
	CHECK(s.messages == 2);
	CHECK(jstream_finish(&js, &err) == -1);
	jstream_release(&js);
}

static void test_legacy_error_only(void)
{
	const char *data = "{\"error\":\"legacy failure\"}\n";
	struct seen s;
	struct error err = ERROR_INIT;

	CHECK(decode_split(data, strlen(data), 3, &s, &err) == -1);
	CHECK_STR(err.msg, "legacy failure");
}

static void test_overlong_line(void)
{
	struct jstream js;
	struct seen s = { 0 };
	struct error err = ERROR_INIT;
	char *big = malloc(JSTREAM_LINE_MAX + 10);
	int ret;

	memset(big, 'a', JSTREAM_LINE_MAX + 10);
	jstream_init(&js, count, &s);
	ret = jstream_feed(&js, "{\"stream\":\"", 11, &err);
	for (size_t off = 0; !ret && off < JSTREAM_LINE_MAX + 10; off += 4096)
		ret = jstream_feed(&js, big + off,
				   4096 < JSTREAM_LINE_MAX + 10 - off
					   ? 4096
					   : JSTREAM_LINE_MAX + 10 - off,
				   &err);
	CHECK(ret == -1);
	CHECK(strstr(err.msg, "longer than") != NULL);
	/* Memory stayed at the cap. */
	CHECK(js.line.alloc <= 2 * JSTREAM_LINE_MAX + 2);
	jstream_release(&js);
	free(big);
}

static void test_invalid_json(void)
{
	static const char *const bad[] = {
		"{\"stream\": \"unterminated}\r\n",
		"not json at all\r\n",
		"[1,2,3]\r\n",
		"\"just a string\"\r\n",
		"{\"a\":1}{\"b\":2}\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct seen s;
		struct error err = ERROR_INIT;

		CHECK(decode_split(bad[i], strlen(bad[i]), 1, &s, &err) == -1);
		CHECK(strstr(err.msg, "not a JSON object") != NULL);
		CHECK(s.messages == 0);
	}
}

static void test_cut_inside_message(void)
{
	const char *data = "{\"stream\":\"ok\"}\r\n{\"stream\":\"cut her";
	struct seen s;
	struct error err = ERROR_INIT;

	CHECK(decode_split(data, strlen(data), 5, &s, &err) == -1);
	CHECK(s.messages == 1);
	CHECK(strstr(err.msg, "ended in the middle of a message") != NULL);
}

static void test_last_message_without_newline(void)
{
	const char *data = "{\"stream\":\"a\"}\r\n{\"status\":\"last\"}";
	struct seen s;
	struct error err = ERROR_INIT;

	CHECK(decode_split(data, strlen(data), 20, &s, &err) == 0);
	CHECK(s.messages == 2);
	CHECK_STR(s.last_status, "last");
}

static void test_blank_lines_and_unknown_fields(void)
{
	const char *data =
		"\r\n\r\n  \n{\"stream\":\"a\",\"whatever\":{\"x\":[1]}}"
		"\r\n\r\n{\"unknown\":true}\r\n";
	struct seen s;
	struct error err = ERROR_INIT;

	CHECK(decode_split(data, strlen(data), 7, &s, &err) == 0);
	CHECK(s.messages == 2);
	CHECK(s.streams == 1);
}

static int stop_at_second(const cJSON *msg, void *ctx, struct error *err)
{
	size_t *n = ctx;

	(void)msg;
	if (++*n == 2)
		return err_set(err, EXIT_BUILD, "callback stopped");
	return 0;
}

static void test_callback_stops_stream(void)
{
	const char *data = "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n";
	struct jstream js;
	struct error err = ERROR_INIT;
	size_t n = 0;

	jstream_init(&js, stop_at_second, &n);
	CHECK(jstream_feed(&js, data, strlen(data), &err) == -1);
	CHECK(n == 2);
	CHECK(err.code == EXIT_BUILD);
	CHECK_STR(err.msg, "callback stopped");
	jstream_release(&js);
}

int main(void)
{
	RUN(test_recorded_every_split);
	RUN(test_recorded_bytewise);
	RUN(test_error_code_kept);
	RUN(test_legacy_error_only);
	RUN(test_overlong_line);
	RUN(test_invalid_json);
	RUN(test_cut_inside_message);
	RUN(test_last_message_without_newline);
	RUN(test_blank_lines_and_unknown_fields);
	RUN(test_callback_stops_stream);
	return unit_summary();
}
