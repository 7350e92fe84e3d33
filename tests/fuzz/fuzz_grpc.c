/*
 * libFuzzer target for builder/session/grpc.c, the framing of every gRPC
 * message the daemon sends on the session. The first byte chooses a chunk
 * size; the rest is fed in chunks of that size and, separately, whole.
 * Both runs must agree on the verdict and the messages delivered, and no
 * message may be over the ceiling.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session/grpc.h"
#include "util/buf.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX 4096

static int collect(const uint8_t *msg, size_t len, void *ctx,
		   struct error *err)
{
	struct buf *b = ctx;
	uint8_t h[GRPC_HEADER_LEN];

	(void)err;
	if (len > MAX || (len && !msg))
		abort();
	grpc_frame_header(h, (uint32_t)len);
	buf_add(b, h, sizeof(h));
	buf_add(b, msg, len);
	return 0;
}

static int run(const uint8_t *data, size_t size, size_t chunk, struct buf *out,
	       struct error *err)
{
	struct grpc_reader r;
	int ret = 0;

	grpc_reader_init(&r, MAX, collect, out);
	for (size_t pos = 0; pos < size && !ret; pos += chunk) {
		size_t n = size - pos < chunk ? size - pos : chunk;

		ret = grpc_reader_feed(&r, data + pos, n, err);
	}
	if (!ret)
		ret = grpc_reader_finish(&r, err);
	grpc_reader_release(&r);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT(BUF_TEXT_MAX), b = BUF_INIT(BUF_TEXT_MAX);
	struct error ea = ERROR_INIT, eb = ERROR_INIT;
	size_t chunk;
	int ra, rb;

	if (!size)
		return 0;
	chunk = (size_t)data[0] % 13 + 1;
	data++, size--;
	ra = run(data, size, chunk, &a, &ea);
	rb = run(data, size, size ? size : 1, &b, &eb);
	if (ra != rb || strcmp(ea.msg, eb.msg) || a.len != b.len ||
	    (a.len && memcmp(a.data, b.data, a.len)))
		abort();
	if (ra < 0 && ea.code != EXIT_ENGINE)
		abort();
	/* What was delivered re-frames to a prefix of the input. */
	if (a.len > size || (a.len && memcmp(a.data, data, a.len)))
		abort();
	buf_release(&a);
	buf_release(&b);
	return 0;
}
