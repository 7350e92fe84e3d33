#ifndef BUILDER_CLEANUP_H
#define BUILDER_CLEANUP_H

/*
 * The run's state: its id and everything it created on the engine
 * (containers, networks), registered in its struct run the moment the
 * engine returns an ID, and removed by cleanup_run() whatever happened:
 * success, failure, timeout, engine error or signal. pipeline.c owns the
 * struct run and passes it to the stages that create objects; there is no
 * global registry. Removal ignores the interrupt flag, so a second signal does
 * not leave cleanup half-done.
 *
 * Every such object also carries the label CLEANUP_LABEL=<run id>, so that
 * leftovers of a run killed with SIGKILL can be found by `builder cleanup`.
 * The built image cannot (a label would change its ID): the build names
 * it RUN_IMAGE_REPO:<run id> instead, so that no prune of dangling images
 * can take it before the tag stage, and the cleanup removes that name (and
 * with it the image, when the tests failed and nothing else names it).
 */

#include "util/error.h"
#include "util/strlist.h"

struct engine;
struct report;

#define CLEANUP_LABEL "io.builder.run"
#define RUN_IMAGE_REPO "builder-run"

struct run {
	/* "b" and 10 lower-case hex digits (40 random bits from getrandom(),
	 * mixed with the pid and clock when that fails), short enough for
	 * container and network names ("builder-b1a2b3c4d5e-test"). */
	char id[16];
	struct strlist containers;
	struct strlist networks;
	struct strlist unlabelled; /* also in containers */
	char image_ref[32]; /* RUN_IMAGE_REPO ":" id, the build's name */
	int image_named; /* a build was asked to name its image so */
	struct report *rep; /* the run's report; not owned */
};

/* Names the run (a fresh id) and sets the second signal's exit hint to
 * `builder cleanup --run ID`. rep may be NULL. */
void run_init(struct run *run, struct report *rep);
/* Frees the lists; call after cleanup_run(). */
void run_release(struct run *run);

/* POST path (a /containers/create or /networks/create) with body, into
 * *resp. A signal that arrives during the request does not cut it short:
 * the object would exist with its ID lost. One that arrived before it
 * fails it at once. Register the answer's ID with cleanup_add_*(). */
struct cJSON;
int cleanup_create(struct engine *eng, const char *path,
		   const struct cJSON *body, struct cJSON **resp, long *status,
		   struct error *err);

void cleanup_add_container(struct run *run, const char *id);
void cleanup_add_network(struct run *run, const char *id);
/* The classic builder's RUN container, made by the engine without our
 * label: removed like the others, but `builder cleanup` cannot find it,
 * so a failure to remove it suggests `docker rm -f ID` only. */
void cleanup_add_step_container(struct run *run, const char *id);
/* The build is about to name its image run->image_ref. */
void cleanup_add_image(struct run *run);
/* Forgets an object removed by its owner. */
void cleanup_forget(struct run *run, const char *id);

/* Remove one container (DELETE ?force=1&v=1) or network now, and forget
 * it. Already gone (404) counts as removed. These ignore the interrupt flag,
 * like everything here. On failure the object stays registered, so that
 * cleanup_run() tries again. */
int cleanup_remove_container(struct run *run, struct engine *eng,
			     const char *id, struct error *err);
int cleanup_remove_network(struct run *run, struct engine *eng, const char *id,
			   struct error *err);

/* Removes what is registered, containers first (force, with anonymous
 * volumes), then the image's run name (DELETE /images/{ref}?noprune=1:
 * the image goes with it when no other name holds it), then networks;
 * then, after a signal or when a container or network was registered,
 * whatever else carries this run's label (a create whose answer a signal
 * cut short) or its image name. Logs what it could not remove, with the
 * `builder cleanup --run ID` line. Returns the number of failures. After a
 * signal, the removals share SIGNAL_CLEANUP_S seconds (signals.h). */
int cleanup_run(struct run *run, struct engine *eng);

/* Removes one container (what "container"), network or image name
 * ("image", e.g. "builder-run:b1a2b3c4d5e") now, as the two above but
 * outside any run's bookkeeping; for leftovers.c. */
int cleanup_remove(struct engine *eng, const char *what, const char *id,
		   struct error *err);

#endif
