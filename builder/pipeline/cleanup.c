/*
 * The registry of engine objects this run created, and their removal; see
 * cleanup.h. Endpoints: DELETE /containers/{id}?force=1&v=1 and
 * DELETE /networks/{id}; the search by label is leftovers.c's.
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

static char run_id[16];
static struct strlist containers = STRLIST_INIT;
static struct strlist networks = STRLIST_INIT;
static struct strlist unlabelled = STRLIST_INIT; /* also in containers */

const char *cleanup_run_id(void)
{
	unsigned char r[5];

	if (run_id[0])
		return run_id;
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
	snprintf(run_id, sizeof(run_id), "b%02x%02x%02x%02x%02x", r[0], r[1],
		 r[2], r[3], r[4]);
	{
		struct buf hint = BUF_INIT;

		buf_addf(&hint,
			 "a second signal: exiting before the cleanup ended; "
			 "remove what is left with `builder cleanup --run %s`",
			 run_id);
		signals_set_exit_hint(hint.data);
		buf_release(&hint);
	}
	return run_id;
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

void cleanup_add_container(const char *id)
{
	add(&containers, id);
}

void cleanup_add_network(const char *id)
{
	add(&networks, id);
}

void cleanup_add_step_container(const char *id)
{
	add(&containers, id);
	add(&unlabelled, id);
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

void cleanup_forget(const char *id)
{
	if (id && !forget(&containers, id))
		forget(&networks, id);
}

int cleanup_remove(struct engine *eng, const char *what, const char *id,
		   struct error *err)
{
	struct buf path = BUF_INIT;
	long status = 0;
	int ret;

	if (!strcmp(what, "container"))
		buf_addf(&path, "/containers/%s?force=1&v=1", id);
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
		 * already under way (a run that exited during it). */
		if ((status != 403 || strcmp(what, "network")) && status != 409)
			break;
		if (tries >= REMOVE_TRIES)
			break;
		nanosleep(&(struct timespec){ 0, REMOVE_RETRY_NS }, NULL);
		err_clear(err); /* the retry's own error, if any, counts */
	}
	buf_release(&path);
	if (ret < 0)
		return err_wrap(err, "cannot remove %s '%.12s'", what, id);
	cleanup_forget(id);
	return 0;
}

int cleanup_remove_container(struct engine *eng, const char *id,
			     struct error *err)
{
	return cleanup_remove(eng, "container", id, err);
}

int cleanup_remove_network(struct engine *eng, const char *id,
			   struct error *err)
{
	return cleanup_remove(eng, "network", id, err);
}

/* Removes every id of l; returns the number of failures, and counts those
 * of unlabelled objects in *unlabelled_failures too. */
static int remove_all(struct engine *eng, struct strlist *l, const char *what,
		      int *unlabelled_failures)
{
	int failures = 0;
	size_t i = 0;

	while (i < l->n) {
		struct error err = ERROR_INIT;
		size_t before = l->n;

		if (cleanup_remove(eng, what, l->v[i], &err) < 0) {
			if (strlist_has(&unlabelled, l->v[i])) {
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

int cleanup_run(struct engine *eng)
{
	int failures = 0;
	int created = containers.n || networks.n;
	int unlabelled_failures = 0;

	if (!eng)
		return 0;
	failures +=
		remove_all(eng, &containers, "container", &unlabelled_failures);
	failures += remove_all(eng, &networks, "network", &unlabelled_failures);
	strlist_clear(&containers);
	strlist_clear(&networks);
	/* A signal may have cut a create request short: the object exists
	 * but its ID never reached us. Everything we create carries our
	 * label, so look for it by label too. Only when we were interrupted
	 * or created something, so that a plain run makes no extra
	 * requests. */
	if (run_id[0] && (signals_pending() || created)) {
		struct error err = ERROR_INIT;

		if (leftovers_sweep(eng, run_id, -1, &failures, &err) < 0) {
			log_warn("%s", err.msg);
			failures++;
		}
	}
	strlist_clear(&unlabelled);
	if (failures > unlabelled_failures)
		log_warn("the cleanup of run %s is not complete (%d "
			 "failure%s): remove what is left with `builder "
			 "cleanup --run %s`",
			 run_id, failures, failures == 1 ? "" : "s", run_id);
	return failures;
}
