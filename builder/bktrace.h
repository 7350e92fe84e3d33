#ifndef BUILDER_BKTRACE_H
#define BUILDER_BKTRACE_H

/*
 * BuildKit progress, as the engine sends it on POST /build?version=2:
 * messages {"id":"moby.buildkit.trace","aux":"<base64>"} whose aux is a
 * protobuf controlapi.StatusResponse (vertexes, statuses, logs, warnings).
 * The decoder turns them into step lines in the style of classic builds:
 *
 *	#3 [2/3] RUN make
 *	#3 0.412 compiling...
 *	#3 DONE 1.2s
 *	#2 [1/3] FROM busybox:latest
 *	#2 CACHED
 *
 * printed to stdout as they complete. Only protobuf varints and
 * length-delimited fields are needed; unknown fields are skipped.
 */

#include <stddef.h>

#include "buf.h"
#include "error.h"

struct bktrace_vertex;

struct bktrace {
	struct bktrace_vertex *v; /* known vertexes, by digest */
	size_t nr, alloc;
	struct buf failed_step;   /* name of the vertex that failed */
	struct buf failed_error;  /* its error */
	size_t cached, done;      /* counts, for the summary */
};

void bktrace_init(struct bktrace *t);

/* Decodes one aux value (standard base64 of a StatusResponse) and prints
 * what it reports. Malformed input is an EXIT_ENGINE error. */
int bktrace_feed(struct bktrace *t, const char *base64, struct error *err);

/* Decodes one raw StatusResponse (for tests and fuzzing). */
int bktrace_decode(struct bktrace *t, const unsigned char *data, size_t len,
		   struct error *err);

/* Prints a line for anything still open at the end of the build. */
void bktrace_flush(struct bktrace *t);

/* The name of the step that failed ("[2/3] RUN false"), or "" */
const char *bktrace_failed_step(const struct bktrace *t);

void bktrace_release(struct bktrace *t);

#endif
