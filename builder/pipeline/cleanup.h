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

#include "util/error.h"

struct engine;

#define CLEANUP_LABEL "io.builder.run"

/* A unique id for this run: "b" and 10 lower-case hex digits (40 random
 * bits from getrandom(), mixed with the pid when that fails), short enough
 * for container and network names ("builder-b1a2b3c4d5e-test"). The same
 * for the whole process. */
const char *cleanup_run_id(void);

/* POST path (a /containers/create or /networks/create) with body, into
 * *resp. A signal that arrives during the request does not cut it short:
 * the object would exist with its ID lost. One that arrived before it
 * fails it at once. Register the answer's ID with cleanup_add_*(). */
struct cJSON;
int cleanup_create(struct engine *eng, const char *path,
		   const struct cJSON *body, struct cJSON **resp, long *status,
		   struct error *err);

void cleanup_add_container(const char *id);
void cleanup_add_network(const char *id);
/* The classic builder's RUN container, made by the engine without our
 * label: removed like the others, but `builder cleanup` cannot find it,
 * so a failure to remove it suggests `docker rm -f ID` only. */
void cleanup_add_step_container(const char *id);
/* Forgets an object removed by its owner. */
void cleanup_forget(const char *id);

/* Remove one container (DELETE ?force=1&v=1) or network now, and forget
 * it. Already gone (404) counts as removed. These ignore the interrupt flag,
 * like everything here. On failure the object stays registered, so that
 * cleanup_run() tries again. */
int cleanup_remove_container(struct engine *eng, const char *id,
			     struct error *err);
int cleanup_remove_network(struct engine *eng, const char *id,
			   struct error *err);

/* Removes what is registered, containers first (force, with anonymous
 * volumes), then networks; then, after a signal or when anything was
 * registered, whatever else carries this run's label (a create whose
 * answer a signal cut short). Logs what it could not remove, with the
 * `builder cleanup --run ID` line. Returns the number of failures. After a
 * signal, the removals share SIGNAL_CLEANUP_S seconds (signals.h). */
int cleanup_run(struct engine *eng);

/* Removes one container (what "container") or network now, as the two
 * above; for leftovers.c. */
int cleanup_remove(struct engine *eng, const char *what, const char *id,
		   struct error *err);

#endif
