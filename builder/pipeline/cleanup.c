/*
 * The registry of engine objects this run created, and their removal; see
 * cleanup.h. Endpoints: DELETE /containers/{id}?force=1&v=1,
 * DELETE /images/{ref}?noprune=1 and DELETE /networks/{id}; the search by
 * label (and by name, for images) is leftovers.c's.
 *
 * Every removal goes through engine_json_cleanup(), which finishes even
 * when a signal is pending: the signal that interrupted the pipeline must
 * not also interrupt the cleanup it triggers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "pipeline/cleanup.h"
#include "pipeline/leftovers.h"
#include "engine/engine.h"
#include "util/log.h"
#include "util/signals.h"
#include "util/strlist.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* A network's endpoints can linger briefly after a forced container
 * removal; the engine then answers 403 "has active endpoints". A removal
 * already under way (409) ends soon too. */
#define REMOVE_TRIES 10
#define REMOVE_RETRY_NS (200L * 1000 * 1000)

void run_init(struct run *run, struct report *rep)
{
	unsigned char r[5];

	*run = (struct run){ .containers = STRLIST_INIT,
			     .networks = STRLIST_INIT,
			     .unlabelled = STRLIST_INIT,
			     .rep = rep };
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		/* No entropy yet (early boot in a VM): pid and clock still
		 * keep concurrent runs on one engine apart. */
		struct timespec ts;
		unsigned long v;

		clock_gettime(CLOCK_REALTIME, &ts);
		v = (unsigned long)getpid() * 2654435761ul ^
		    (unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec << 20;
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(v >> (8 * i));
	}
	snprintf(run->id, sizeof(run->id), "b%02x%02x%02x%02x%02x", r[0], r[1],
		 r[2], r[3], r[4]);
	snprintf(run->image_ref, sizeof(run->image_ref), "%s:%s",
		 RUN_IMAGE_REPO, run->id);
	{
		struct buf hint = BUF_INIT(BUF_TEXT_MAX);

		buf_addf(&hint,
			 "a second signal: exiting before the cleanup ended; "
			 "remove what is left with `builder cleanup --run %s`",
			 run->id);
		signals_set_exit_hint(hint.data);
		buf_release(&hint);
	}
}

void run_release(struct run *run)
{
	strlist_clear(&run->containers);
	strlist_clear(&run->networks);
	strlist_clear(&run->unlabelled);
}

static void add(struct strlist *l, const char *id)
{
	if (id && *id && !strlist_has(l, id))
		strlist_push(l, id);
}

int cleanup_create(struct engine *eng, const char *path, const cJSON *body,
		   cJSON **resp, long *status, struct error *err)
{
	if (signals_pending())
		return signals_error(err);
	return engine_json_uninterrupted(eng, "POST", path, body, resp, status,
					 err);
}

void cleanup_add_container(struct run *run, const char *id)
{
	add(&run->containers, id);
}

void cleanup_add_network(struct run *run, const char *id)
{
	add(&run->networks, id);
}

void cleanup_add_image(struct run *run)
{
	run->image_named = 1;
}

void cleanup_add_step_container(struct run *run, const char *id)
{
	add(&run->containers, id);
	add(&run->unlabelled, id);
}

/* 1 when id was in l (and is no more). id may be one of l's own strings:
 * it is not used after being freed. */
static int forget(struct strlist *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], id))
			continue;
		free(l->v[i]);
		memmove(l->v + i, l->v + i + 1, (l->n - i - 1) * sizeof(*l->v));
		l->n--;
		return 1;
	}
	return 0;
}

void cleanup_forget(struct run *run, const char *id)
{
	if (id && !forget(&run->containers, id))
		forget(&run->networks, id);
}

int cleanup_remove(struct engine *eng, const char *what, const char *id,
		   struct error *err)
{
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	long status = 0;
	int ret;

	if (!strcmp(what, "container"))
		buf_addf(&path, "/containers/%s?force=1&v=1", id);
	else if (!strcmp(what, "image")) /* the parents are the build cache */
		buf_addf(&path, "/images/%s?noprune=1", id);
	else
		buf_addf(&path, "/networks/%s", id);
	for (int tries = 1;; tries++) {
		ret = engine_json_cleanup(eng, "DELETE", path.data, &status,
					  err);
		if (ret == 0 || status == 404) {
			err_clear(err); /* already gone is what we wanted */
			ret = 0;
			break;
		}
		/* 403: a network's endpoints linger; 409: a removal
		 * already under way (a run that exited during it). An
		 * image's 409 is a container of someone else's that uses
		 * it: waiting does not end that. */
		if ((status != 403 || strcmp(what, "network")) &&
		    (status != 409 || !strcmp(what, "image")))
			break;
		if (tries >= REMOVE_TRIES)
			break;
		nanosleep(&(struct timespec){ 0, REMOVE_RETRY_NS }, NULL);
		err_clear(err); /* the retry's own error, if any, counts */
	}
	buf_release(&path);
	if (ret < 0)
		return err_wrap(err, "cannot remove %s '%.*s'", what,
				strcmp(what, "image") ? 12 : (int)strlen(id),
				id);
	return 0;
}

/* Removes id now and forgets it; on failure it stays registered. id may be
 * one of run's own strings. */
static int remove_registered(struct run *run, struct engine *eng,
			     const char *what, const char *id,
			     struct error *err)
{
	if (cleanup_remove(eng, what, id, err) < 0)
		return -1;
	cleanup_forget(run, id);
	return 0;
}

int cleanup_remove_container(struct run *run, struct engine *eng,
			     const char *id, struct error *err)
{
	return remove_registered(run, eng, "container", id, err);
}

int cleanup_remove_network(struct run *run, struct engine *eng, const char *id,
			   struct error *err)
{
	return remove_registered(run, eng, "network", id, err);
}

/* Removes every id of l; returns the number of failures, and counts those
 * of unlabelled objects in *unlabelled_failures too. */
static int remove_all(struct run *run, struct engine *eng, struct strlist *l,
		      const char *what, int *unlabelled_failures)
{
	int failures = 0;
	size_t i = 0;

	while (i < l->n) {
		struct error err = ERROR_INIT;
		size_t before = l->n;

		if (remove_registered(run, eng, what, l->v[i], &err) < 0) {
			if (strlist_has(&run->unlabelled, l->v[i])) {
				/* builder cleanup cannot find it: no label */
				log_warn("%s; it carries no builder label (the "
					 "classic builder made it for a RUN "
					 "step): remove it with `docker rm -f "
					 "%s`",
					 err.msg, l->v[i]);
				(*unlabelled_failures)++;
			} else {
				log_warn("%s", err.msg);
			}
			failures++;
		}
		if (l->n == before)
			i++; /* still registered: go on past it */
	}
	return failures;
}

int cleanup_run(struct run *run, struct engine *eng)
{
	int failures = 0;
	int created = run->containers.n || run->networks.n;
	int unlabelled_failures = 0;

	if (!eng)
		return 0;
	failures += remove_all(run, eng, &run->containers, "container",
			       &unlabelled_failures);
	/* After the containers: one of the tests' would hold the image. */
	if (run->image_named) {
		struct error err = ERROR_INIT;

		if (cleanup_remove(eng, "image", run->image_ref, &err) < 0) {
			log_warn("%s", err.msg);
			failures++;
		} else {
			run->image_named = 0;
		}
	}
	failures += remove_all(run, eng, &run->networks, "network",
			       &unlabelled_failures);
	strlist_clear(&run->containers);
	strlist_clear(&run->networks);
	/* A signal may have cut a create request short: the object exists
	 * but its ID never reached us. Everything we create carries our
	 * label, so look for it by label too. Only when we were interrupted
	 * or created something, so that a plain run makes no extra
	 * requests. */
	if (run->id[0] && (signals_pending() || created)) {
		struct error err = ERROR_INIT;

		if (leftovers_sweep(eng, run->id, -1, &failures, &err) < 0) {
			log_warn("%s", err.msg);
			failures++;
		}
	}
	strlist_clear(&run->unlabelled);
	if (failures > unlabelled_failures)
		log_warn("the cleanup of run %s is not complete (%d "
			 "failure%s): remove what is left with `builder "
			 "cleanup --run %s`",
			 run->id, failures, failures == 1 ? "" : "s", run->id);
	return failures;
}
