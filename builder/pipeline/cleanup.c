/*
 * The registry of engine objects this run created, and their removal; see
 * cleanup.h. Endpoints: DELETE /containers/{id}?force=1&v=1,
 * DELETE /networks/{id}, and for `builder cleanup` GET /containers/json and
 * GET /networks filtered on the io.builder.run label.
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
#include "engine/engine.h"
#include "util/log.h"
#include "util/strlist.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* A network's endpoints can linger briefly after a forced container
 * removal; the engine then answers 403 "has active endpoints". */
#define NETWORK_TRIES 10
#define NETWORK_RETRY_NS (200L * 1000 * 1000)

static char run_id[16];
static struct strlist containers = STRLIST_INIT;
static struct strlist networks = STRLIST_INIT;

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
	return run_id;
}

static void add(struct strlist *l, const char *id)
{
	if (id && *id && !strlist_has(l, id))
		strlist_push(l, id);
}

void cleanup_add_container(const char *id)
{
	add(&containers, id);
}

void cleanup_add_network(const char *id)
{
	add(&networks, id);
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

static int remove_one(struct engine *eng, const char *what, const char *id,
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
		if (status != 403 || tries >= NETWORK_TRIES ||
		    strcmp(what, "network"))
			break;
		nanosleep(&(struct timespec){ 0, NETWORK_RETRY_NS }, NULL);
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
	return remove_one(eng, "container", id, err);
}

int cleanup_remove_network(struct engine *eng, const char *id,
			   struct error *err)
{
	return remove_one(eng, "network", id, err);
}

/* Removes every id of l; returns the number of failures. */
static int remove_all(struct engine *eng, struct strlist *l, const char *what)
{
	int failures = 0;
	size_t i = 0;

	while (i < l->n) {
		struct error err = ERROR_INIT;
		size_t before = l->n;

		if (remove_one(eng, what, l->v[i], &err) < 0) {
			log_warn("%s; remove it with `docker %s rm -f` or "
				 "`builder cleanup --run %s`",
				 err.msg,
				 strcmp(what, "network") ? "container"
							 : "network",
				 cleanup_run_id());
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

	if (!eng)
		return 0;
	failures += remove_all(eng, &containers, "container");
	failures += remove_all(eng, &networks, "network");
	strlist_clear(&containers);
	strlist_clear(&networks);
	return failures;
}

/* --- `builder cleanup` ------------------------------------------------ */

/* The urlencoded filters={"label":["io.builder.run[=ID]"]} value; id has
 * been checked to need no JSON escaping. */
static char *label_filter(const char *id)
{
	struct buf json = BUF_INIT, q = BUF_INIT;

	buf_addf(&json, "{\"label\":[\"%s%s%s\"]}", CLEANUP_LABEL,
		 id ? "=" : "", id ? id : "");
	buf_add_urlencoded(&q, json.data);
	buf_release(&json);
	return buf_detach(&q);
}

static int valid_run_id(const char *id)
{
	if (!*id || strlen(id) > 64)
		return 0;
	for (; *id; id++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
			    "YZ"
			    "0123456789_.-",
			    *id))
			return 0;
	return 1;
}

/* Lists objects of one kind and removes each. *failures counts removals
 * that failed. */
static int sweep(struct engine *eng, const char *what, const char *list_path,
		 const char *filter, int *failures, struct error *err)
{
	struct buf path = BUF_INIT;
	cJSON *list = NULL;
	const cJSON *item;
	int ret = -1;

	buf_addf(&path, "%s%sfilters=%s", list_path,
		 strchr(list_path, '?') ? "&" : "?", filter);
	if (engine_json(eng, "GET", path.data, NULL, &list, NULL, err) < 0) {
		err_wrap(err, "cannot list %ss labelled '%s'", what,
			 CLEANUP_LABEL);
		goto out;
	}
	cJSON_ArrayForEach(item, list)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "Id");
		const cJSON *labels =
			cJSON_GetObjectItemCaseSensitive(item, "Labels");
		const cJSON *run =
			cJSON_GetObjectItemCaseSensitive(labels, CLEANUP_LABEL);
		const cJSON *name =
			cJSON_GetObjectItemCaseSensitive(item, "Name");
		const cJSON *names =
			cJSON_GetObjectItemCaseSensitive(item, "Names");
		const char *shown = NULL;
		struct error one = ERROR_INIT;

		if (!cJSON_IsString(id))
			continue;
		if (cJSON_IsString(name))
			shown = name->valuestring;
		else if (cJSON_IsArray(names) &&
			 cJSON_IsString(cJSON_GetArrayItem(names, 0)))
			shown = cJSON_GetArrayItem(names, 0)->valuestring;
		if (shown && *shown == '/')
			shown++;
		if (remove_one(eng, what, id->valuestring, &one) < 0) {
			log_warn("%s", one.msg);
			(*failures)++;
			continue;
		}
		log_info("removed %s '%s' (run %s)", what,
			 shown ? shown : id->valuestring,
			 cJSON_IsString(run) ? run->valuestring : "unknown");
	}
	ret = 0;
out:
	cJSON_Delete(list);
	buf_release(&path);
	return ret;
}

int cleanup_leftovers(struct engine *eng, const char *id, struct error *err)
{
	char *filter = NULL;
	int failures = 0;
	int ret = -1;

	if (id && !valid_run_id(id))
		return err_set(err, EXIT_USAGE,
			       "run id '%s' is not one builder makes; use the "
			       "id from a builder log line, e.g. --run "
			       "b1a2b3c4d5e",
			       id);
	filter = label_filter(id);

	/* Containers first: a network with endpoints cannot be removed. */
	if (sweep(eng, "container", "/containers/json?all=1", filter, &failures,
		  err) < 0 ||
	    sweep(eng, "network", "/networks", filter, &failures, err) < 0)
		goto out;
	if (failures) {
		err_set(err, EXIT_ENGINE,
			"%d object%s labelled '%s' could not be removed; see "
			"the warnings above",
			failures, failures == 1 ? "" : "s", CLEANUP_LABEL);
		goto out;
	}
	ret = 0;
out:
	free(filter);
	return ret;
}
