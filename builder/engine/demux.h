#ifndef BUILDER_DEMUX_H
#define BUILDER_DEMUX_H

/*
 * Decoder for the engine's multiplexed container output (Tty=false), as
 * sent by GET /containers/{id}/logs and /attach: a sequence of frames, each
 * an 8-byte header [type, 0, 0, 0, size as big-endian uint32] followed by
 * size payload bytes. Types 0 (stdin, which the engine uses for stdout on
 * old versions) and 1 are stdout, 2 is stderr, 3 is "systemerr": an error
 * from the daemon itself, which fails the stream with its text.
 *
 * Pure and incremental: bytes are fed as they arrive, split anywhere, and
 * the callback receives each payload piece as soon as it is complete in the
 * input (a frame may reach it in several pieces). Nothing is buffered
 * except the header and a systemerr message (capped).
 *
 *	struct demux d;
 *	demux_init(&d, print_piece, NULL);
 *	req.on_data = demux_sink; req.data_ctx = &d;
 *	if (engine_do(eng, &req, err) < 0 || demux_finish(&d, err) < 0) ...
 *	demux_release(&d);
 */

#include <stddef.h>

#include "util/buf.h"
#include "util/error.h"

enum demux_stream { DEMUX_STDOUT = 1, DEMUX_STDERR = 2 };

/* The longest systemerr message kept; the rest is dropped. */
#define DEMUX_SYSERR_MAX 4096u

/* Receives len (> 0) payload bytes of stream (DEMUX_STDOUT or
 * DEMUX_STDERR). Returns 0, or -1 after filling err to stop the stream. */
typedef int (*demux_fn)(enum demux_stream stream, const char *data, size_t len,
			void *ctx, struct error *err);

struct demux {
	demux_fn on_data;
	void *ctx;
	unsigned char header[8];
	size_t header_len; /* bytes of header held */
	unsigned type; /* of the current frame */
	size_t left; /* payload bytes still expected */
	struct buf syserr; /* payload of a systemerr frame */
	size_t frames; /* complete frames decoded */
	int failed; /* an error was returned; later bytes refused */
};

void demux_init(struct demux *d, demux_fn on_data, void *ctx);

/* Feeds len bytes. Returns -1 with err set (EXIT_ENGINE) on a systemerr
 * frame, an unknown frame type or a header with non-zero padding (the
 * stream is not multiplexed), or when the callback fails. After a
 * failure every later call fails too. */
int demux_feed(struct demux *d, const char *data, size_t len,
	       struct error *err);

/* Call at the end of the stream: fails when it ended inside a frame. */
int demux_finish(struct demux *d, struct error *err);

void demux_release(struct demux *d);

/* An engine_data_fn that feeds a struct demux (ctx). */
int demux_sink(const char *data, size_t len, void *ctx, struct error *err);

#endif
