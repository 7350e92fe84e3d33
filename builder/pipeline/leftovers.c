/*
 * Leftovers: engine objects labelled io.builder.run, found by listing, and
 * `builder cleanup`; see leftovers.h. Endpoints: GET /containers/json?all=1
 * GET /networks and GET /volumes filtered on the label, GET /images/json
 * filtered on the run name (and GET /images/{ref}/json for its age),
 * removal through cleanup.c (volumes: DELETE /volumes/{name} here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "pipeline/cleanup.h"
#include "pipeline/leftovers.h"
#include "engine/engine.h"
#include "util/log.h"
#include "util/banned.h"

/* The urlencoded filters={"label":["io.builder.run[=ID]"]} value; id has
 * been checked to need no JSON escaping. */
static char *label_filter(const char *id)
{
	struct buf json = BUF_INIT(BUF_TEXT_MAX), q = BUF_INIT(BUF_TEXT_MAX);

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

/* An RFC 3339 time ("2026-12-01T22:01:45.123456789Z" or "...+01:00") in
 * Unix seconds; -1 if unreadable, or before 1971 (Go's zero time, which
 * means "never"). */
static long long rfc3339_seconds(const char *s)
{
	struct tm tm;
	const char *p;
	int sign, oh, om, n = 0;
	long long t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    !n || tm.tm_year < 1971)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = (long long)timegm(&tm);
	p = s + n;
	if (*p == '.')
		p += 1 + strspn(p + 1, "0123456789");
	if (*p == 'Z' || *p == 'z')
		return t;
	if ((*p != '+' && *p != '-') || sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
		return -1;
	sign = *p == '+' ? 1 : -1;
	return t - sign * (oh * 3600LL + om * 60LL);
}

/* The creation time of a listed object, in Unix seconds: a number for
 * containers ("Created": 1733090000), RFC 3339 for networks and volumes
 * ("CreatedAt"). -1 if unreadable. */
static long long created_at(const cJSON *item)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(item, "Created");

	if (!c)
		c = cJSON_GetObjectItemCaseSensitive(item, "CreatedAt");
	if (cJSON_IsNumber(c))
		return (long long)c->valuedouble;
	return cJSON_IsString(c) ? rfc3339_seconds(c->valuestring) : -1;
}

/* A volume: DELETE /volumes/{name}; 404 counts as removed, 409 (still in
 * use by a container being removed) is tried again a few times. */
static int remove_volume(struct engine *eng, const char *name,
			 struct error *err)
{
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	long status = 0;
	int ret;

	buf_addstr(&path, "/volumes/");
	buf_add_urlencoded(&path, name);
	for (int tries = 1;; tries++) {
		ret = engine_json_cleanup(eng, "DELETE", path.data, &status,
					  err);
		if (ret == 0 || status == 404) {
			err_clear(err);
			ret = 0;
			break;
		}
		if (status != 409 || tries >= 20)
			break;
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000L }, NULL);
		err_clear(err);
	}
	buf_release(&path);
	if (ret < 0)
		return err_wrap(err, "cannot remove volume '%s'", name);
	return 0;
}

/* What a sweep left for being too young, if anything. */
static void say_kept(int kept, const char *what, long older_than)
{
	if (kept)
		log_info("kept %d %s%s younger than %ld s (possibly a live "
			 "run's); see --older-than, --all",
			 kept, what, kept == 1 ? "" : "s", older_than);
}

/* Lists objects of one kind and removes each that is at least older_than
 * seconds old (any age when older_than < 0). *failures counts removals
 * that failed. */
static int sweep(struct engine *eng, const char *what, const char *list_path,
		 const char *filter, long older_than, int *failures,
		 struct error *err)
{
	long long now = (long long)time(NULL);
	int kept = 0;

	struct buf path = BUF_INIT(BUF_PATH_MAX);
	cJSON *list = NULL;
	const cJSON *item, *items;
	int volumes = !strcmp(what, "volume");
	int ret = -1;

	buf_addf(&path, "%s%sfilters=%s", list_path,
		 strchr(list_path, '?') ? "&" : "?", filter);
	/* Also after a signal: this may be the cleanup it started. */
	if (engine_json_uninterrupted(eng, "GET", path.data, NULL, &list, NULL,
				      err) < 0) {
		err_wrap(err, "cannot list %ss labelled '%s'", what,
			 CLEANUP_LABEL);
		goto out;
	}
	/* GET /volumes answers {"Volumes": [...]}, each named, not Id'd. */
	items = volumes ? cJSON_GetObjectItemCaseSensitive(list, "Volumes")
			: list;
	cJSON_ArrayForEach(item, items)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(
			item, volumes ? "Name" : "Id");
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
		if (older_than >= 0) {
			long long born = created_at(item);

			/* Unknown age: possibly a live run's, kept. */
			if (born < 0 || now - born < older_than) {
				kept++;
				continue;
			}
		}
		if (cJSON_IsString(name))
			shown = name->valuestring;
		else if (cJSON_IsArray(names) &&
			 cJSON_IsString(cJSON_GetArrayItem(names, 0)))
			shown = cJSON_GetArrayItem(names, 0)->valuestring;
		if (shown && *shown == '/')
			shown++;
		if ((volumes ? remove_volume(eng, id->valuestring, &one)
			     : cleanup_remove(eng, what, id->valuestring,
					      &one)) < 0) {
			log_warn("%s", one.msg);
			(*failures)++;
			continue;
		}
		log_info("removed %s '%s' (run %s)", what,
			 shown ? shown : id->valuestring,
			 cJSON_IsString(run) ? run->valuestring : "unknown");
	}
	say_kept(kept, what, older_than);
	ret = 0;
out:
	cJSON_Delete(list);
	buf_release(&path);
	return ret;
}

/* The run id of a listed image's tag t (RUN_IMAGE_REPO ":" run id, or
 * Podman's "localhost/" form), or NULL when t is not one: only ids as
 * run_init() makes them, so that a user's own "builder-run:latest" stays. */
static const char *run_of_tag(const char *t)
{
	size_t n = strlen(RUN_IMAGE_REPO);
	const char *id;

	if (!strncmp(t, "localhost/", 10))
		t += 10;
	if (strncmp(t, RUN_IMAGE_REPO, n) || t[n] != ':')
		return NULL;
	id = t + n + 1;
	if (id[0] != 'b' || strlen(id) != 11 ||
	    strspn(id + 1, "0123456789abcdef") != 10)
		return NULL;
	return id;
}

/* When image name ref was last set (Metadata.LastTagTime), in Unix
 * seconds; -1 when unknown. */
static long long tagged_at(struct engine *eng, const char *ref)
{
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	struct error err = ERROR_INIT;
	cJSON *img = NULL;
	const cJSON *t;
	long long when = -1;

	buf_addf(&path, "/images/%s/json", ref);
	if (engine_json_uninterrupted(eng, "GET", path.data, NULL, &img, NULL,
				      &err) == 0) {
		t = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(img, "Metadata"),
			"LastTagTime");
		if (cJSON_IsString(t))
			when = rfc3339_seconds(t->valuestring);
	}
	cJSON_Delete(img);
	buf_release(&path);
	return when;
}

/* The built images' run names (cleanup.h): an image carries no label, so
 * it is found by its name, RUN_IMAGE_REPO:<run id>, and aged by when the
 * build named it. Removing the name removes an image nothing else names. */
static int sweep_images(struct engine *eng, const char *run_id,
			long older_than, int *failures, struct error *err)
{
	long long now = (long long)time(NULL);
	struct buf json = BUF_INIT(BUF_TEXT_MAX), path = BUF_INIT(BUF_PATH_MAX);
	cJSON *list = NULL;
	const cJSON *item, *tag;
	int kept = 0, ret = -1;

	buf_addf(&json, "{\"reference\":[\"%s%s%s\"]}", RUN_IMAGE_REPO,
		 run_id ? ":" : "", run_id ? run_id : "");
	buf_addstr(&path, "/images/json?filters=");
	buf_add_urlencoded(&path, json.data);
	if (engine_json_uninterrupted(eng, "GET", path.data, NULL, &list, NULL,
				      err) < 0) {
		err_wrap(err, "cannot list images named '%s:*'",
			 RUN_IMAGE_REPO);
		goto out;
	}
	cJSON_ArrayForEach(item, list)
	{
		cJSON_ArrayForEach(tag, cJSON_GetObjectItemCaseSensitive(
						item, "RepoTags"))
		{
			const char *run;
			struct error one = ERROR_INIT;

			if (!cJSON_IsString(tag) ||
			    !(run = run_of_tag(tag->valuestring)) ||
			    (run_id && strcmp(run, run_id)))
				continue;
			if (older_than >= 0) {
				long long born =
					tagged_at(eng, tag->valuestring);

				if (born < 0 || now - born < older_than) {
					kept++;
					continue;
				}
			}
			if (cleanup_remove(eng, "image", tag->valuestring,
					   &one) < 0) {
				log_warn("%s", one.msg);
				(*failures)++;
				continue;
			}
			log_info("removed image name '%s' (run %s)",
				 tag->valuestring, run);
		}
	}
	say_kept(kept, "image name", older_than);
	ret = 0;
out:
	cJSON_Delete(list);
	buf_release(&json);
	buf_release(&path);
	return ret;
}

int leftovers_sweep(struct engine *eng, const char *run_id, long older_than,
		    int *failures, struct error *err)
{
	char *filter = label_filter(run_id);
	int ret = 0;

	/* Containers first: a network with endpoints cannot be removed. */
	if (sweep(eng, "container", "/containers/json?all=1", filter,
		  older_than, failures, err) < 0 ||
	    sweep(eng, "network", "/networks", filter, older_than, failures,
		  err) < 0 ||
	    sweep(eng, "volume", "/volumes", filter, older_than, failures,
		  err) < 0 ||
	    sweep_images(eng, run_id, older_than, failures, err) < 0)
		ret = -1;
	free(filter);
	return ret;
}

int leftovers_remove(struct engine *eng, const char *id, long older_than,
		     struct error *err)
{
	int failures = 0;
	int ret = -1;

	if (id && !valid_run_id(id))
		return err_set(err, EXIT_USAGE,
			       "run id '%s' is not one builder makes; use the "
			       "id from a builder log line, e.g. --run "
			       "b1a2b3c4d5e",
			       id);
	if (leftovers_sweep(eng, id, id ? -1 : older_than, &failures, err) < 0)
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
	return ret;
}
