#ifndef BUILDER_LOGS_H
#define BUILDER_LOGS_H

/*
 * A container's output as builder shows it, for the test stage and the
 * compose runner alike: live output straight to our stdout and stderr, and
 * the last lines of a service's log, each prefixed with its name, on stderr.
 *
 *	demux_init(&d, logs_to_terminal, NULL);      // attach stream
 *	logs_print_tail(eng, id, "db", "postgres:16", 50);
 */

#include <stddef.h>

#include "engine/demux.h"

struct engine;

/* A demux_fn: writes each piece to stdout or stderr as it comes. A closed
 * or full stdout is ignored: it must not change the tests' verdict. */
int logs_to_terminal(enum demux_stream stream, const char *data, size_t len,
		     void *ctx, struct error *err);

/* Prints the last tail lines of container id's log (GET
 * /containers/{id}/logs) as "    [name] line" under a header naming name
 * and image. Best effort: it usually comes on top of another failure, so
 * its own failures are logged, never returned, and a pending signal does
 * not stop it. */
void logs_print_tail(struct engine *eng, const char *id, const char *name,
		     const char *image, int tail);

#endif
