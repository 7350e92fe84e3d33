#ifndef BUILDER_GRPC_H
#define BUILDER_GRPC_H

/*
 * gRPC message framing (grpc doc/PROTOCOL-HTTP2.md): each message on a
 * stream is a 1-byte compressed flag, a 4-byte big-endian length and that
 * many bytes of protobuf. Message boundaries are independent of HTTP/2
 * DATA frames, so the reader is a push decoder: feed it bytes as they come,
 * in pieces of any size, and it calls back once per whole message.
 *
 *	struct grpc_reader r;
 *	grpc_reader_init(&r, 4u << 20, on_message, ctx);
 *	if (grpc_reader_feed(&r, data, len, err) < 0) ...   // per DATA chunk
 *	if (grpc_reader_finish(&r, err) < 0) ...            // at END_STREAM
 *	grpc_reader_release(&r);
 *
 * A compressed message (we never offer compression) or one longer than
 * the reader's ceiling is an EXIT_ENGINE error; so is a stream that ends
 * inside a message. After an error the reader refuses further input.
 */

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

#define GRPC_HEADER_LEN 5

/* Receives one whole message (len may be 0). Returns 0, or -1 after
 * filling err, which stops the reader. The bytes are borrowed. */
typedef int (*grpc_message_fn)(const uint8_t *msg, size_t len, void *ctx,
			       struct error *err);

struct grpc_reader {
	uint8_t head[GRPC_HEADER_LEN];
	size_t head_len; /* header bytes seen of the current message */
	size_t want; /* body length of the current message */
	struct buf body;
	size_t max;
	grpc_message_fn fn;
	void *ctx;
	int failed;
	unsigned long long messages; /* delivered so far */
};

void grpc_reader_init(struct grpc_reader *r, size_t max, grpc_message_fn fn,
		      void *ctx);
int grpc_reader_feed(struct grpc_reader *r, const void *data, size_t len,
		     struct error *err);
/* The stream ended: an error when it ended inside a message. */
int grpc_reader_finish(struct grpc_reader *r, struct error *err);
void grpc_reader_release(struct grpc_reader *r);

/* Writes the 5-byte header of an uncompressed message of len bytes. */
void grpc_frame_header(uint8_t out[GRPC_HEADER_LEN], uint32_t len);

/* Status codes we send in grpc-status. */
enum grpc_status {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_NOT_FOUND = 5,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
};

/* Appends s percent-encoded as a grpc-message value (bytes outside
 * printable ASCII, and '%', as %XX). */
int grpc_add_message(struct buf *b, const char *s);

#endif
