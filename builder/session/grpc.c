/*
 * gRPC message framing: the push decoder and the header writer; see
 * grpc.h. Pure: no I/O.
 */
#include <string.h>

#include "session/grpc.h"
#include "util/banned.h"

void grpc_reader_init(struct grpc_reader *r, size_t max, grpc_message_fn fn,
		      void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
	r->fn = fn;
	r->ctx = ctx;
	/* The ceiling plus room for the NUL struct buf keeps. */
	buf_init(&r->body, max + 1);
}

static int deliver(struct grpc_reader *r, const uint8_t *msg, size_t len,
		   struct error *err)
{
	r->head_len = 0;
	r->want = 0;
	r->messages++;
	if (r->fn(msg, len, r->ctx, err) < 0) {
		r->failed = 1;
		return -1;
	}
	return 0;
}

int grpc_reader_feed(struct grpc_reader *r, const void *data, size_t len,
		     struct error *err)
{
	const uint8_t *p = data;

	if (r->failed)
		return err_set(err, EXIT_ENGINE,
			       "gRPC stream already failed; no more input");
	while (len) {
		if (r->head_len < GRPC_HEADER_LEN) {
			size_t n = GRPC_HEADER_LEN - r->head_len;

			if (n > len)
				n = len;
			memcpy(r->head + r->head_len, p, n);
			r->head_len += n;
			p += n;
			len -= n;
			if (r->head_len < GRPC_HEADER_LEN)
				break;
			if (r->head[0] != 0) {
				r->failed = 1;
				return err_set(
					err, EXIT_ENGINE,
					"the engine sent a gRPC message with "
					"compressed flag %u; builder offers no "
					"compression",
					r->head[0]);
			}
			r->want = (size_t)r->head[1] << 24 |
				  (size_t)r->head[2] << 16 |
				  (size_t)r->head[3] << 8 | (size_t)r->head[4];
			if (r->want > r->max) {
				r->failed = 1;
				return err_set(
					err, EXIT_ENGINE,
					"the engine sent a gRPC message "
					"of %zu bytes, over the limit of "
					"%zu",
					r->want, r->max);
			}
			buf_reset(&r->body);
			if (!r->want && deliver(r, NULL, 0, err) < 0)
				return -1;
			continue;
		}
		/* Inside a body. A whole body in this piece and nothing
		 * buffered: deliver it without copying. */
		if (!r->body.len && len >= r->want) {
			size_t n = r->want;

			if (deliver(r, p, n, err) < 0)
				return -1;
			p += n;
			len -= n;
			continue;
		}
		{
			size_t n = r->want - r->body.len;

			if (n > len)
				n = len;
			if (buf_add(&r->body, p, n) < 0) {
				r->failed = 1;
				return err_set(
					err, EXIT_ENGINE,
					"out of room for a gRPC message");
			}
			p += n;
			len -= n;
			if (r->body.len == r->want) {
				if (deliver(r, (const uint8_t *)r->body.data,
					    r->body.len, err) < 0)
					return -1;
				buf_reset(&r->body);
			}
		}
	}
	return 0;
}

int grpc_reader_finish(struct grpc_reader *r, struct error *err)
{
	if (r->failed)
		return err_set(err, EXIT_ENGINE, "gRPC stream already failed");
	if (r->head_len) {
		r->failed = 1;
		return err_set(err, EXIT_ENGINE,
			       "the engine ended a gRPC stream inside a "
			       "message (%zu of %zu bytes)",
			       r->head_len < GRPC_HEADER_LEN
				       ? r->head_len
				       : GRPC_HEADER_LEN + r->body.len,
			       r->head_len < GRPC_HEADER_LEN
				       ? (size_t)GRPC_HEADER_LEN
				       : GRPC_HEADER_LEN + r->want);
	}
	return 0;
}

void grpc_reader_release(struct grpc_reader *r)
{
	buf_release(&r->body);
}

void grpc_frame_header(uint8_t out[GRPC_HEADER_LEN], uint32_t len)
{
	out[0] = 0;
	out[1] = (uint8_t)(len >> 24);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
}

int grpc_add_message(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f && c != '%') {
			if (buf_addch(b, (char)c) < 0)
				return -1;
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			if (buf_add(b, e, 3) < 0)
				return -1;
		}
	}
	return 0;
}
