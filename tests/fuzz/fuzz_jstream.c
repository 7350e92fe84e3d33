/*
 * libFuzzer target for the JSON stream decoder (builder/engine/jstream.c). The
 * first byte chooses where the rest is split; the two parts are fed one
 * after the other, then the stream is finished. The same bytes are also
 * fed whole, and (when short) one byte at a time: the framing must not
 * depend on where the transport cut the stream, so all runs must agree on
 * the verdict, the message, the number of messages and errorDetail.code.
 * A failure is always EXIT_ENGINE with a message, and every message the
 * callback sees is a JSON object.
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -Ibuilder \
 *	    tests/fuzz/fuzz_jstream.c builder/engine/jstream.c builder/util/buf.c \
 *	    builder/util/error.c builder/util/xmalloc.c -lcjson -o build/fuzz_jstream
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/error.h"
#include "engine/jstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
	int ret;
	size_t messages, seen;
	long error_code;
	struct error err;
};

static int on_msg(const struct cJSON *msg, void *ctx, struct error *err)
{
	struct outcome *o = ctx;

	(void)err;
	if (!cJSON_IsObject(msg))
		abort();
	o->seen++;
	return 0;
}

/* Feeds data as pieces of at most `step` bytes, the first one cut at
 * `split`, then finishes. */
static void run(const char *data, size_t size, size_t split, size_t step,
		struct outcome *o)
{
	struct jstream js;
	size_t pos = 0;

	memset(o, 0, sizeof(*o));
	jstream_init(&js, on_msg, o);
	if (split > size)
		split = size;
	if (jstream_feed(&js, data, split, &o->err) < 0)
		o->ret = -1;
	for (pos = split; pos < size && !o->ret; pos += step) {
		size_t n = size - pos < step ? size - pos : step;

		if (jstream_feed(&js, data + pos, n, &o->err) < 0)
			o->ret = -1;
	}
	if (!o->ret && jstream_finish(&js, &o->err) < 0)
		o->ret = -1;
	/* A failed stream stays failed. */
	if (o->ret && (jstream_feed(&js, "{}\r\n", 4, &o->err) == 0 ||
		       jstream_finish(&js, &o->err) == 0))
		abort();
	o->messages = js.messages;
	o->error_code = js.error_code;
	jstream_release(&js);
	if (o->ret && (o->err.code != EXIT_ENGINE || !o->err.msg[0]))
		abort();
	if (!o->ret && o->err.code)
		abort();
	if (o->seen != o->messages)
		abort();
}

static void same(const struct outcome *a, const struct outcome *b)
{
	if (a->ret != b->ret || a->messages != b->messages ||
	    a->error_code != b->error_code || strcmp(a->err.msg, b->err.msg))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome split, whole, bytes;
	const char *text = (const char *)data + 1;
	size_t at;

	if (!size)
		return 0;
	at = size > 1 ? data[0] % size : 0;
	size--;
	run(text, size, at, size ? size : 1, &split);
	run(text, size, size, 1, &whole);
	same(&split, &whole);
	if (size <= 4096) {
		run(text, size, 0, 1, &bytes);
		same(&bytes, &whole);
	}
	return 0;
}
