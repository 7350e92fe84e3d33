#ifndef BUILDER_BKTRACE_H
#define BUILDER_BKTRACE_H

/*
 * BuildKit progress, as the engine sends it on POST /build?version=2:
 * messages {"id":"moby.buildkit.trace","aux":"<base64>"} whose aux is a
 * protobuf controlapi.StatusResponse (vertexes, statuses, logs, warnings).
 * The decoder turns them into lines in the style of BuildKit's plain
 * progress output, numbering steps in order of first appearance:
 *
 *	#3 [2/3] RUN make
 *	#3 0.412 compiling...
 *	#3 DONE 1.2s
 *	#2 [1/3] FROM docker.io/library/busybox:latest
 *	#2 CACHED
 *	#4 [3/3] RUN false
 *	#4 ERROR: process "/bin/sh -c false" did not complete successfully
 *
 * A step's name line is printed when it starts, its log lines as they
 * arrive ("#N <seconds since the step started> <text>", split at newlines,
 * an unfinished line held back until its end arrives), and one line when it
 * completes: CACHED, DONE with its duration, ERROR with the engine's
 * message, or CANCELED. Completed sub-tasks of a step (BuildKit "statuses",
 * such as "exporting layers") get a line each too.
 *
 *	struct bktrace t;
 *	bktrace_init(&t);
 *	for each trace message:
 *		if (bktrace_feed(&t, aux, err) < 0)
 *			... malformed: EXIT_ENGINE ...
 *	bktrace_flush(&t);
 *	if (*bktrace_failed_step(&t)) ... t.failed_error.data ...
 *	bktrace_release(&t);
 *
 * Each message is checked whole before any of it is printed, so a malformed
 * one prints nothing. Memory is bounded: names and errors are kept once per
 * step, unfinished log lines are capped per step, and the number of steps
 * is capped.
 */

#include <stddef.h>
#include <stdio.h>

#include "util/buf.h"
#include "util/error.h"

struct bktrace_vertex;

struct bktrace {
	struct bktrace_vertex *v; /* known vertexes, numbered v[i] = #i+1 */
	size_t nr, alloc;
	struct buf failed_step; /* name of the first vertex that failed */
	struct buf failed_error; /* its error, as the engine put it */
	size_t done; /* vertexes completed (cached included) */
	size_t cached; /* of which served from the cache */
	FILE *out; /* where lines go; stdout after init */
};

/* The most vertexes one build may report; more is a malformed stream. */
#define BKTRACE_MAX_VERTEXES 10000

/* The longest unfinished log line kept per vertex and stream; a longer
 * one is printed in pieces of this size. */
#define BKTRACE_MAX_PARTIAL (64 * 1024)

/* Prepares an empty decoder writing to stdout; set t->out to redirect. */
void bktrace_init(struct bktrace *t);

/* Decodes one aux value (standard base64 of a StatusResponse) and prints
 * what it reports. Malformed input is an EXIT_ENGINE error. */
int bktrace_feed(struct bktrace *t, const char *base64, struct error *err);

/* Decodes one raw StatusResponse (for tests and fuzzing). Malformed input
 * (truncated, a bad varint, a known field with the wrong wire type, group
 * wire types) and input too large to decode (util/pballoc.h) are an
 * EXIT_ENGINE error and print nothing. Unknown fields are skipped. */
int bktrace_decode(struct bktrace *t, const unsigned char *data, size_t len,
		   struct error *err);

/* Prints the unfinished log lines still held back; call it at the end of
 * the build, failed or not. */
void bktrace_flush(struct bktrace *t);

/* The name of the step that failed ("[2/3] RUN false"), or "". A step
 * canceled because another one failed does not count. */
const char *bktrace_failed_step(const struct bktrace *t);

/* Frees everything; t can be bktrace_init()ed again. NULL is fine. */
void bktrace_release(struct bktrace *t);

#endif
