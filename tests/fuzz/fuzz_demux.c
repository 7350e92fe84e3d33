/*
 * libFuzzer target for builder/engine/demux.c. The first byte chooses a chunk
 * size; the rest is fed in chunks of that size and, separately, whole. Both
 * runs must agree on the verdict and on the bytes delivered per stream, and
 * every payload piece must be non-empty and belong to stdout or stderr.
 *
 *	clang -g -fsanitize=fuzzer,address,undefined -Ibuilder \
 *	    tests/fuzz/fuzz_demux.c builder/engine/demux.c builder/util/buf.c \
 *	    builder/util/error.c builder/util/xmalloc.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "engine/demux.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	struct buf o, e;
};

static int collect(enum demux_stream stream, const char *data, size_t len,
		   void *ctx, struct error *err)
{
	struct out *out = ctx;

	(void)err;
	if (!len || (stream != DEMUX_STDOUT && stream != DEMUX_STDERR))
		abort();
	buf_add(stream == DEMUX_STDOUT ? &out->o : &out->e, data, len);
	return 0;
}

static int run(const char *data, size_t size, size_t chunk, struct out *out,
	       struct error *err)
{
	struct demux d;
	int ret = 0;

	demux_init(&d, collect, out);
	for (size_t pos = 0; pos < size && !ret; pos += chunk) {
		size_t n = size - pos < chunk ? size - pos : chunk;

		ret = demux_feed(&d, data + pos, n, err);
	}
	if (!ret)
		ret = demux_finish(&d, err);
	demux_release(&d);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out a = { BUF_INIT(BUF_TEXT_MAX), BUF_INIT(BUF_TEXT_MAX) }, b = { BUF_INIT(BUF_TEXT_MAX), BUF_INIT(BUF_TEXT_MAX) };
	struct error ea = ERROR_INIT, eb = ERROR_INIT;
	size_t chunk;
	int ra, rb;

	if (!size)
		return 0;
	chunk = (size_t)data[0] % 17 + 1;
	data++, size--;
	ra = run((const char *)data, size, chunk, &a, &ea);
	rb = run((const char *)data, size, size ? size : 1, &b, &eb);
	if (ra != rb || strcmp(ea.msg, eb.msg) || a.o.len != b.o.len ||
	    a.e.len != b.e.len || (a.o.len && memcmp(a.o.data, b.o.data, a.o.len)) ||
	    (a.e.len && memcmp(a.e.data, b.e.data, a.e.len)))
		abort();
	if (ra < 0 && ea.code != EXIT_ENGINE)
		abort();
	buf_release(&a.o);
	buf_release(&a.e);
	buf_release(&b.o);
	buf_release(&b.e);
	return 0;
}
