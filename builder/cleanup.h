#ifndef BUILDER_CLEANUP_H
#define BUILDER_CLEANUP_H

/*
 * Everything builder creates on the engine (containers, networks) is
 * registered here the moment the engine returns its ID, and removed by
 * cleanup_run() whatever happened: success, failure, timeout, engine error
 * or signal. Removal ignores the interrupt flag, so a second signal does not
 * leave cleanup half-done.
 *
 * Every such object also carries the label CLEANUP_LABEL=<run id>, so that
 * leftovers of a run killed with SIGKILL can be found by `builder cleanup`.
 */

#include "error.h"

struct engine;

#define CLEANUP_LABEL "io.builder.run"

/* A unique id for this run: "<hostname-ish>-<pid>-<random>", lower case,
 * usable in container and network names. */
const char *cleanup_run_id(void);

void cleanup_add_container(const char *id);
void cleanup_add_network(const char *id);
/* Forgets an object removed by its owner. */
void cleanup_forget(const char *id);

/* Removes what is registered, containers first (force, with anonymous
 * volumes), then networks. Logs what it could not remove. Returns the
 * number of failures. */
int cleanup_run(struct engine *eng);

/* `builder cleanup`: removes every container and network labelled by any
 * builder run (or by run_id when not NULL). */
int cleanup_leftovers(struct engine *eng, const char *run_id,
		      struct error *err);

#endif
