/*
 * The compose test runner: one test file, sut and its dependencies, on a
 * private network; see run.h.
 *
 * Endpoints: POST /networks/create, /volumes/create, /containers/create,
 * /containers/{id}/start, /containers/{id}/wait, /containers/{id}/kill;
 * GET /containers/{id}/json, /containers/{id}/logs; DELETE
 * /containers/{id}?force=1&v=1, /networks/{id}, /volumes/{name}; and
 * engine/probe.c's while a dependency is not yet healthy.
 *
 * sut's output is read as pipeline/test.c reads the test container's: the
 * container is kept after it exits (no AutoRemove), followed with
 * GET /logs?follow=1 from its start, then asked for its exit code with
 * /wait?condition=not-running; nothing is lost however fast it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "compose/run.h"
#include "engine/demux.h"
#include "engine/engine.h"
#include "engine/json.h"
#include "engine/logs.h"
#include "engine/probe.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/signals.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define READY_TIMEOUT_S 120
#define LOG_TAIL 50
/* How often a dependency's state is asked for: sut starts at most this
 * long after its dependency is ready, and each poll is one GET. */
#define POLL_NS (100L * 1000 * 1000)
#define WAIT_BODY_MAX (64u * 1024)

struct svc_run {
	const struct compose_service *svc;
	char *image; /* what it runs */
	char *container; /* its name */
	char *id; /* NULL until created */
	struct strlist aliases;
	int launched; /* created (and started, but for sut) */
	int healthy; /* a run of ours passed: dependants need not run it */
	struct probe probe; /* our runs of its health check */
};

struct compose_run {
	struct engine *eng;
	const struct compose_file *cf;
	const struct compose_run_options *opt;
	const struct compose_run_ops *ops;
	const char *label;
	char *prefix; /* "builder-<run id>-c<N>" */
	char *network_id;
	struct strlist volumes; /* engine names of the file's volumes */
	struct svc_run *s; /* in start order; sut last */
	size_t n;
	char *image; /* the image builder built, once known */
};

/* FNV-1a of a test file's path: its networks' and containers' names. */
static unsigned path_hash(const char *path)
{
	unsigned h = 2166136261u;

	for (; *path; path++)
		h = (h ^ (unsigned char)*path) * 16777619u;
	return h;
}

static void sleep_poll(void)
{
	nanosleep(&(struct timespec){ 0, POLL_NS }, NULL);
}

static cJSON *labels(const struct compose_run *r, const struct strlist *extra)
{
	cJSON *l = cJSON_CreateObject();
	size_t i;

	for (i = 0; extra && i < extra->n; i++) {
		char *kv = xstrdup(extra->v[i]), *eq = strchr(kv, '=');

		if (eq) {
			*eq = '\0';
			cJSON_AddStringToObject(l, kv, eq + 1);
		}
		free(kv);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(l, r->label);
	cJSON_AddStringToObject(l, r->label, r->opt->run_id);
	return l;
}

static void created(const struct compose_run *r, enum compose_object k,
		    const char *id)
{
	if (r->ops->created)
		r->ops->created(r->ops->ctx, k, id);
}

static void removed(const struct compose_run *r, enum compose_object k,
		    const char *id)
{
	if (r->ops->removed)
		r->ops->removed(r->ops->ctx, k, id);
}

static const char *id_of(const cJSON *resp, const char *key)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(resp, key);

	return cJSON_IsString(id) && id->valuestring[0] ? id->valuestring
							: NULL;
}

/* --- the network and volumes -------------------------------------------- */

static int create_network(struct compose_run *r, struct error *err)
{
	cJSON *body = cJSON_CreateObject(), *resp = NULL;
	const char *id;
	int ret = -1;

	cJSON_AddStringToObject(body, "Name", r->prefix);
	cJSON_AddStringToObject(body, "Driver", "bridge");
	cJSON_AddBoolToObject(body, "CheckDuplicate", 1);
	cJSON_AddItemToObject(body, "Labels", labels(r, NULL));
	if (engine_json(r->eng, "POST", "/networks/create", body, &resp, NULL,
			err) < 0)
		goto out;
	id = id_of(resp, "Id");
	if (!id) {
		err_set(err, EXIT_ENGINE, "the engine's answer has no Id");
		goto out;
	}
	r->network_id = xstrdup(id);
	created(r, COMPOSE_NETWORK, id);
	ret = 0;
out:
	if (ret < 0)
		err_wrap(err, "cannot create network '%s'", r->prefix);
	cJSON_Delete(body);
	cJSON_Delete(resp);
	return ret;
}

static int create_volumes(struct compose_run *r, struct error *err)
{
	size_t i;

	for (i = 0; i < r->cf->volumes.n; i++) {
		cJSON *body = cJSON_CreateObject(), *resp = NULL;
		struct buf name = BUF_INIT(BUF_PATH_MAX);
		int rc;

		buf_addf(&name, "%s-%s", r->prefix, r->cf->volumes.v[i]);
		cJSON_AddStringToObject(body, "Name", buf_str(&name));
		cJSON_AddItemToObject(body, "Labels", labels(r, NULL));
		rc = engine_json(r->eng, "POST", "/volumes/create", body, &resp,
				 NULL, err);
		if (rc == 0) {
			strlist_push(&r->volumes, buf_str(&name));
			created(r, COMPOSE_VOLUME, buf_str(&name));
		} else {
			err_wrap(err, "cannot create volume '%s'",
				 buf_str(&name));
		}
		cJSON_Delete(body);
		cJSON_Delete(resp);
		buf_release(&name);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* --- containers -------------------------------------------------------------
 */

static cJSON *strings(const struct strlist *l)
{
	return cJSON_CreateStringArray((const char *const *)l->v, (int)l->n);
}

static void add_mounts(const struct compose_run *r,
		       const struct compose_service *s, cJSON *host)
{
	cJSON *mounts = cJSON_AddArrayToObject(host, "Mounts");
	size_t i;

	for (i = 0; i < s->nmounts; i++) {
		const struct compose_mount *m = &s->mounts[i];
		cJSON *o;
		struct buf vol = BUF_INIT(BUF_TEXT_MAX);

		if (m->kind == COMPOSE_MOUNT_BIND && r->opt->copy_binds)
			continue; /* copied in instead */
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "Target", m->target);
		if (m->read_only)
			cJSON_AddTrueToObject(o, "ReadOnly");
		switch (m->kind) {
		case COMPOSE_MOUNT_BIND:
			cJSON_AddStringToObject(o, "Type", "bind");
			cJSON_AddStringToObject(o, "Source", m->source);
			break;
		case COMPOSE_MOUNT_VOLUME:
			buf_addf(&vol, "%s-%s", r->prefix, m->source);
			cJSON_AddStringToObject(o, "Type", "volume");
			cJSON_AddStringToObject(o, "Source", buf_str(&vol));
			break;
		case COMPOSE_MOUNT_ANON:
			cJSON_AddStringToObject(o, "Type", "volume");
			break;
		}
		buf_release(&vol);
		cJSON_AddItemToArray(mounts, o);
	}
}

static cJSON *container_body(const struct compose_run *r,
			     const struct svc_run *sr)
{
	const struct compose_service *s = sr->svc;
	cJSON *body = cJSON_CreateObject(), *host, *net, *eps, *ep;
	size_t i;

	cJSON_AddStringToObject(body, "Image", sr->image);
	if (s->has_command)
		cJSON_AddItemToObject(body, "Cmd", strings(&s->command));
	/* An empty list resets the image's ENTRYPOINT, as compose does. */
	if (s->has_entrypoint)
		cJSON_AddItemToObject(body, "Entrypoint",
				      strings(&s->entrypoint));
	if (s->environment.n)
		cJSON_AddItemToObject(body, "Env", strings(&s->environment));
	if (s->working_dir)
		cJSON_AddStringToObject(body, "WorkingDir", s->working_dir);
	if (s->user)
		cJSON_AddStringToObject(body, "User", s->user);
	cJSON_AddItemToObject(body, "Labels", labels(r, &s->labels));
	cJSON_AddFalseToObject(body, "Tty");
	cJSON_AddFalseToObject(body, "OpenStdin");
	if (s->healthcheck.present) {
		const struct compose_healthcheck *h = &s->healthcheck;
		cJSON *hc = cJSON_AddObjectToObject(body, "Healthcheck");

		if (h->disable) {
			const char *none[1] = { "NONE" };

			cJSON_AddItemToObject(hc, "Test",
					      cJSON_CreateStringArray(none, 1));
		} else if (h->test.n) {
			cJSON_AddItemToObject(hc, "Test", strings(&h->test));
		}
		if (h->interval_ns)
			cJSON_AddNumberToObject(hc, "Interval",
						(double)h->interval_ns);
		if (h->timeout_ns)
			cJSON_AddNumberToObject(hc, "Timeout",
						(double)h->timeout_ns);
		if (h->start_period_ns)
			cJSON_AddNumberToObject(hc, "StartPeriod",
						(double)h->start_period_ns);
		if (h->retries)
			cJSON_AddNumberToObject(hc, "Retries", h->retries);
	}
	host = cJSON_AddObjectToObject(body, "HostConfig");
	cJSON_AddFalseToObject(host, "AutoRemove");
	cJSON_AddStringToObject(host, "NetworkMode", r->prefix);
	if (s->extra_hosts.n)
		cJSON_AddItemToObject(host, "ExtraHosts",
				      strings(&s->extra_hosts));
	if (s->tmpfs.n) {
		cJSON *t = cJSON_AddObjectToObject(host, "Tmpfs");

		for (i = 0; i < s->tmpfs.n; i++) {
			char *p = xstrdup(s->tmpfs.v[i]), *c = strchr(p, ':');

			if (c)
				*c++ = '\0';
			cJSON_AddStringToObject(t, p, c ? c : "");
			free(p);
		}
	}
	add_mounts(r, s, host);
	net = cJSON_AddObjectToObject(body, "NetworkingConfig");
	eps = cJSON_AddObjectToObject(net, "EndpointsConfig");
	ep = cJSON_AddObjectToObject(eps, r->prefix);
	cJSON_AddItemToObject(ep, "Aliases", strings(&sr->aliases));
	return body;
}

static int create_container(struct compose_run *r, struct svc_run *sr,
			    struct error *err)
{
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	cJSON *body = container_body(r, sr), *resp = NULL;
	const char *id;
	size_t i;
	int ret = -1;

	buf_addstr(&path, "/containers/create?name=");
	buf_add_urlencoded(&path, sr->container);
	if (engine_json(r->eng, "POST", buf_str(&path), body, &resp, NULL,
			err) < 0)
		goto out;
	id = id_of(resp, "Id");
	if (!id) {
		err_set(err, EXIT_ENGINE, "the engine's answer has no Id");
		goto out;
	}
	sr->id = xstrdup(id);
	created(r, COMPOSE_CONTAINER, id);
	for (i = 0; r->opt->copy_binds && i < sr->svc->nmounts; i++) {
		const struct compose_mount *m = &sr->svc->mounts[i];

		if (m->kind != COMPOSE_MOUNT_BIND)
			continue;
		if (!r->ops->copy_in) {
			err_set(err, EXIT_USAGE,
				"cannot copy '%s' into the container: this "
				"engine cannot see the job's files",
				m->source);
			goto out;
		}
		if (r->ops->copy_in(r->ops->ctx, sr->id, m->source, m->target,
				    err) < 0)
			goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		err_wrap(err, "cannot create container '%s' for service '%s'",
			 sr->container, sr->svc->name);
	cJSON_Delete(body);
	cJSON_Delete(resp);
	buf_release(&path);
	return ret;
}

static int start_container(struct compose_run *r, struct svc_run *sr,
			   struct error *err)
{
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	long status = 0;
	int ret;

	buf_addf(&path, "/containers/%s/start", sr->id);
	ret = engine_json(r->eng, "POST", buf_str(&path), NULL, NULL, &status,
			  err);
	buf_release(&path);
	/* A 400 is the image's fault: its command cannot be run (not found,
	 * not executable), e.g. 'exec: "sh": executable file not found in
	 * $PATH'. The tests could not run: EXIT_TESTS, as for TEST_CMD. */
	if (ret < 0 && status == 400) {
		err_recode(err, EXIT_TESTS);
		err_wrap(err,
			 "service '%s' cannot run its command in image %.*s",
			 sr->svc->name,
			 strncmp(sr->image, "sha256:", 7)
				 ? (int)strlen(sr->image)
				 : 7 + 12,
			 sr->image);
		return err_hint(err,
				"check that the program is in the image; an "
				"image FROM scratch has no shell, so a "
				"command like 'sh -c ...' needs an image "
				"that has one");
	}
	if (ret < 0)
		return err_wrap(err, "cannot start service '%s'",
				sr->svc->name);
	log_info("service '%s' (%s) started as '%s'", sr->svc->name, sr->image,
		 sr->container);
	return 0;
}

/* --- logs --------------------------------------------------------------- */

/* Best effort: this comes on top of another error. */
static void print_log(struct compose_run *r, const struct svc_run *sr)
{
	logs_print_tail(r->eng, sr->id, sr->svc->name, sr->image,
			r->opt->log_tail > 0 ? r->opt->log_tail : LOG_TAIL);
}

static void print_other_logs(struct compose_run *r,
			     const struct svc_run *except)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (&r->s[i] != except)
			print_log(r, &r->s[i]);
}

/* --- conditions
 * ---------------------------------------------------------------- */

/* 1 when dep meets cond, 0 when it may later, -1 (err set) when it never
 * will. */
static int check_condition(struct compose_run *r, struct svc_run *dep,
			   enum compose_condition cond, struct error *err)
{
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	cJSON *info = NULL;
	const cJSON *state, *status, *health, *hstatus;
	const char *st, *hs;
	long long code;
	int ret = -1;

	buf_addf(&path, "/containers/%s/json", dep->id);
	if (engine_json(r->eng, "GET", buf_str(&path), NULL, &info, NULL, err) <
	    0) {
		err_wrap(err, "cannot inspect service '%s'", dep->svc->name);
		goto out;
	}
	state = cJSON_GetObjectItemCaseSensitive(info, "State");
	status = cJSON_GetObjectItemCaseSensitive(state, "Status");
	health = cJSON_GetObjectItemCaseSensitive(state, "Health");
	hstatus = cJSON_GetObjectItemCaseSensitive(health, "Status");
	code = json_int(cJSON_GetObjectItemCaseSensitive(state, "ExitCode"),
			-1);
	st = cJSON_IsString(status) ? status->valuestring : "";
	hs = cJSON_IsString(hstatus) ? hstatus->valuestring : "";
	if (!strcmp(st, "created")) {
		ret = 0;
		goto out;
	}
	switch (cond) {
	case COMPOSE_STARTED:
		ret = 1;
		break;
	case COMPOSE_COMPLETED:
		if (!strcmp(st, "exited") || !strcmp(st, "dead")) {
			if (code == 0) {
				ret = 1;
				break;
			}
			err_set(err, EXIT_TESTS,
				"service '%s' exited with code %lld; it "
				"must complete successfully first",
				dep->svc->name, code);
			break;
		}
		ret = 0;
		break;
	case COMPOSE_HEALTHY:
		if (!strcmp(hs, "healthy")) {
			ret = 1;
		} else if (!strcmp(hs, "unhealthy")) {
			err_set(err, EXIT_TESTS, "service '%s' is unhealthy",
				dep->svc->name);
		} else if (strcmp(st, "running")) {
			err_set(err, EXIT_TESTS,
				"service '%s' %s with code %lld before it was "
				"healthy",
				dep->svc->name, st, code);
		} else if (!hs[0] || !strcmp(hs, "none")) {
			err_set(err, EXIT_USAGE,
				"service '%s' has no health check, but a "
				"dependency waits for service_healthy: add a "
				"healthcheck",
				dep->svc->name);
		} else if (dep->healthy) {
			ret = 1; /* our run passed before */
		} else if (probe_step(r->eng, dep->id, info, &dep->probe) > 0) {
			log_info("service '%s' is healthy: its health check "
				 "passed when builder ran it",
				 dep->svc->name);
			ret = dep->healthy = 1;
		} else {
			ret = 0;
		}
		break;
	}
out:
	cJSON_Delete(info);
	buf_release(&path);
	return ret;
}

static struct svc_run *find_run(struct compose_run *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->s[i].svc->name, name))
			return &r->s[i];
	return NULL;
}

static int wait_deps(struct compose_run *r, struct svc_run *sr,
		     struct error *err)
{
	long limit = r->opt->ready_timeout > 0 ? r->opt->ready_timeout
					       : READY_TIMEOUT_S;
	double deadline = now_seconds() + (double)limit;
	size_t i;

	for (i = 0; i < sr->svc->ndeps; i++) {
		const struct compose_dep *d = &sr->svc->deps[i];
		struct svc_run *dep = find_run(r, d->service);
		int said = 0;

		for (;;) {
			int rc;

			if (signals_pending())
				return signals_error(err);
			rc = check_condition(r, dep, d->condition, err);
			if (rc < 0)
				return -1;
			if (rc > 0)
				break;
			if (now_seconds() >= deadline)
				return err_set(
					err, EXIT_TESTS,
					"service '%s' was not %s after %ld s",
					d->service,
					d->condition == COMPOSE_HEALTHY
						? "healthy"
					: d->condition == COMPOSE_COMPLETED
						? "completed"
						: "started",
					limit);
			if (!said && d->condition != COMPOSE_STARTED) {
				log_info("waiting for service '%s' to be %s",
					 d->service,
					 d->condition == COMPOSE_HEALTHY
						 ? "healthy"
						 : "completed");
				said = 1;
			}
			sleep_poll();
		}
	}
	return 0;
}

/* --- sut
 * ------------------------------------------------------------------------- */

static int collect(const char *data, size_t len, void *ctx, struct error *err)
{
	if (buf_add(ctx, data, len) < 0)
		return err_set(err, EXIT_ENGINE,
			       "the engine's wait response is too large");
	return 0;
}

static int wait_exit(struct compose_run *r, const char *id, double deadline,
		     long *code, int *timed_out, struct error *err)
{
	struct engine_request req = ENGINE_REQUEST_INIT;
	struct buf path = BUF_INIT(BUF_PATH_MAX), body = BUF_INIT(BUF_TEXT_MAX);
	cJSON *resp = NULL;
	const cJSON *status;
	int ret = -1;

	buf_init(&body, WAIT_BODY_MAX);
	buf_addf(&path, "/containers/%s/wait?condition=not-running", id);
	req.method = "POST";
	req.path = buf_str(&path);
	req.on_data = collect;
	req.data_ctx = &body;
	req.deadline = deadline;
	if (engine_do(r->eng, &req, err) < 0) {
		*timed_out = req.timed_out;
		goto out;
	}
	resp = cJSON_ParseWithLength(buf_str(&body), body.len);
	status = cJSON_GetObjectItemCaseSensitive(resp, "StatusCode");
	if (!cJSON_IsNumber(status)) {
		err_set(err, EXIT_ENGINE,
			"the engine's answer to the wait for sut has no "
			"StatusCode: '%.200s'",
			buf_str(&body));
		goto out;
	}
	*code = (long)json_int(status, 255);
	ret = 0;
out:
	cJSON_Delete(resp);
	buf_release(&body);
	buf_release(&path);
	return ret;
}

static int run_sut(struct compose_run *r, struct svc_run *sut,
		   struct compose_run_result *res, struct error *err)
{
	struct engine_request req = ENGINE_REQUEST_INIT;
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	double started, deadline = 0;
	int timed_out = 0, ret = -1;
	struct demux d;

	demux_init(&d, logs_to_terminal, NULL);
	if (start_container(r, sut, err) < 0)
		goto out;
	started = now_seconds();
	res->ran = 1;
	if (r->opt->timeout > 0)
		deadline = started + (double)r->opt->timeout;
	buf_addf(&path, "/containers/%s/logs?follow=1&stdout=1&stderr=1",
		 sut->id);
	req.method = "GET";
	req.path = buf_str(&path);
	req.on_data = demux_sink;
	req.data_ctx = &d;
	req.deadline = deadline;
	fflush(stdout);
	if (engine_do(r->eng, &req, err) < 0) {
		timed_out = req.timed_out;
		if (!timed_out)
			goto out;
	} else if (demux_finish(&d, err) < 0) {
		goto out;
	}
	if (!timed_out &&
	    wait_exit(r, sut->id, deadline, &res->exit_code, &timed_out, err) <
		    0 &&
	    !timed_out)
		goto out;
	res->seconds = now_seconds() - started;
	fflush(stdout);
	fflush(stderr);
	if (timed_out) {
		res->timed_out = 1;
		print_other_logs(r, sut);
		err_clear(err); /* the transfer's deadline is the timeout */
		err_set(err, EXIT_TESTS, "'%s': sut timed out after %ld s",
			r->cf->path, r->opt->timeout);
		goto out;
	}
	if (res->exit_code) {
		print_other_logs(r, sut);
		err_set(err, EXIT_TESTS, "'%s': sut failed (exit %ld)",
			r->cf->path, res->exit_code);
		goto out;
	}
	log_info("'%s': sut passed in %.1fs", r->cf->path, res->seconds);
	ret = 0;
out:
	/* Before the teardown: what sut wrote lives in its container. */
	if (res->ran && r->ops->sut_ended)
		r->ops->sut_ended(r->ops->ctx, sut->id);
	demux_release(&d);
	buf_release(&path);
	return ret;
}

/* --- setup and teardown
 * ------------------------------------------------------------ */

static int resolve_image(struct compose_run *r, struct svc_run *sr,
			 struct error *err)
{
	const struct compose_service *s = sr->svc;
	const struct compose_run_options *o = r->opt;

	if (r->image &&
	    ((s->has_build &&
	      compose_builds_same_image(s, o->context_dir, o->dockerfile,
					o->target)) ||
	     (s->image && o->image_name && !strcmp(s->image, o->image_name)))) {
		sr->image = xstrdup(r->image);
		return 0;
	}
	if (s->has_build) {
		if (!r->ops->build)
			return err_set(err, EXIT_USAGE,
				       "service '%s' builds its own image, "
				       "which this runner cannot do",
				       s->name);
		if (r->ops->build(r->ops->ctx, s, &sr->image, err) < 0)
			return err_wrap(err, "cannot build service '%s'",
					s->name);
		return 0;
	}
	if (r->ops->ensure_image &&
	    r->ops->ensure_image(r->ops->ctx, s->image, err) < 0)
		return err_wrap(err, "service '%s'", s->name);
	sr->image = xstrdup(s->image);
	return 0;
}

static void plan(struct compose_run *r, const size_t *order, size_t n)
{
	size_t i, j, k;

	r->s = xcalloc(n ? n : 1, sizeof(*r->s));
	r->n = n;
	for (i = 0; i < n; i++) {
		struct svc_run *sr = &r->s[i];
		struct buf name = BUF_INIT(BUF_PATH_MAX);

		sr->svc = &r->cf->services[order[i]];
		buf_addf(&name, "%s-%s", r->prefix, sr->svc->name);
		sr->container = buf_detach(&name);
		strlist_push(&sr->aliases, sr->svc->name);
	}
	/* A link "svc:alias" makes svc reachable as alias. */
	for (i = 0; i < n; i++)
		for (j = 0; j < r->s[i].svc->ndeps; j++) {
			const struct compose_dep *d = &r->s[i].svc->deps[j];

			for (k = 0; d->alias && k < n; k++)
				if (!strcmp(r->s[k].svc->name, d->service) &&
				    !strlist_has(&r->s[k].aliases, d->alias))
					strlist_push(&r->s[k].aliases,
						     d->alias);
		}
}

static void remove_object(struct compose_run *r, enum compose_object kind,
			  const char *id)
{
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	struct error err = ERROR_INIT;
	long status = 0;

	if (kind == COMPOSE_CONTAINER)
		buf_addf(&path, "/containers/%s?force=1&v=1", id);
	else if (kind == COMPOSE_NETWORK)
		buf_addf(&path, "/networks/%s", id);
	else
		buf_addf(&path, "/volumes/%s?force=1", id);
	if (engine_json_cleanup(r->eng, "DELETE", buf_str(&path), &status,
				&err) == 0 ||
	    status == 404)
		removed(r, kind, id);
	else
		log_warn("cannot remove '%s': %s", id, err.msg);
	buf_release(&path);
}

static void teardown(struct compose_run *r)
{
	size_t i;

	for (i = r->n; i-- > 0;)
		if (r->s[i].id)
			remove_object(r, COMPOSE_CONTAINER, r->s[i].id);
	if (r->network_id)
		remove_object(r, COMPOSE_NETWORK, r->network_id);
	for (i = 0; i < r->volumes.n; i++)
		remove_object(r, COMPOSE_VOLUME, r->volumes.v[i]);
}

static void run_release(struct compose_run *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->s[i].image);
		free(r->s[i].container);
		free(r->s[i].id);
		strlist_clear(&r->s[i].aliases);
		probe_release(&r->s[i].probe);
	}
	free(r->s);
	free(r->prefix);
	free(r->image);
	free(r->network_id);
	strlist_clear(&r->volumes);
}

/* 1 when the service runs the image builder builds, or its own build:
 * it must wait for the build. */
static int needs_build(const struct compose_run *r,
		       const struct compose_service *s)
{
	const struct compose_run_options *o = r->opt;

	return s->has_build ||
	       (s->image && o->image_name && !strcmp(s->image, o->image_name));
}

/* Creates and starts the service; sut is only created (run_sut starts
 * it). */
static int launch(struct compose_run *r, struct svc_run *sr, struct error *err)
{
	if (signals_pending())
		return signals_error(err);
	if (!sr->image && resolve_image(r, sr, err) < 0)
		return -1;
	if (wait_deps(r, sr, err) < 0) {
		print_other_logs(r, NULL);
		return err_wrap(err, "'%s': service '%s' cannot start",
				r->cf->path, sr->svc->name);
	}
	if (create_container(r, sr, err) < 0)
		return -1;
	sr->launched = 1;
	if (sr == &r->s[r->n - 1])
		return 0;
	return start_container(r, sr, err);
}

int compose_run_start(struct compose_run **out, struct engine *eng,
		      const struct compose_file *cf,
		      const struct compose_run_options *opt,
		      const struct compose_run_ops *ops, struct error *err)
{
	struct compose_run *r = xcalloc(1, sizeof(*r));
	struct buf prefix = BUF_INIT(BUF_TEXT_MAX);
	size_t *order = NULL, n = 0, i, j;
	int ret = -1;

	*out = NULL;
	r->eng = eng;
	r->cf = cf;
	r->opt = opt;
	r->ops = ops;
	r->label = opt->label ? opt->label : "io.builder.run";
	/* Unique per test file within the run: a hash of its path. */
	buf_addf(&prefix, "builder-%s-c%08x", opt->run_id, path_hash(cf->path));
	r->prefix = buf_detach(&prefix);
	if (compose_sut_order(cf, &order, &n, err) < 0)
		goto out;
	plan(r, order, n);
	log_info("'%s': %zu service%s to start on network '%s'", cf->path, n,
		 n == 1 ? "" : "s", r->prefix);
	if (create_network(r, err) < 0 || create_volumes(r, err) < 0)
		goto out;
	/* Early: services that need no build and whose dependencies were
	 * launched early with nothing to wait for (service_started). The
	 * others wait for compose_run_finish(), after the build; a slow
	 * sidecar gets ready meanwhile. */
	for (i = 0; i + 1 < n; i++) {
		struct svc_run *sr = &r->s[i];
		int early = !needs_build(r, sr->svc);

		for (j = 0; early && j < sr->svc->ndeps; j++) {
			const struct compose_dep *d = &sr->svc->deps[j];
			const struct svc_run *dep = find_run(r, d->service);

			early = dep->launched &&
				d->condition == COMPOSE_STARTED;
		}
		if (early && launch(r, sr, err) < 0)
			goto out;
	}
	ret = 0;
out:
	free(order);
	if (ret < 0) {
		compose_run_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

int compose_run_finish(struct compose_run *r, const char *image,
		       struct compose_run_result *res, struct error *err)
{
	size_t i;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	if (image) {
		free(r->image);
		r->image = xstrdup(image);
	}
	for (i = 0; i < r->n; i++)
		if (!r->s[i].launched && launch(r, &r->s[i], err) < 0)
			return -1;
	return run_sut(r, &r->s[r->n - 1], res, err);
}

void compose_run_free(struct compose_run *r)
{
	if (!r)
		return;
	teardown(r);
	run_release(r);
	free(r);
}

int compose_run_file(struct engine *eng, const struct compose_file *cf,
		     const struct compose_run_options *opt,
		     const struct compose_run_ops *ops,
		     struct compose_run_result *res, struct error *err)
{
	struct compose_run *r = NULL;
	int ret = -1;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	if (compose_run_start(&r, eng, cf, opt, ops, err) == 0 &&
	    compose_run_finish(r, opt->image, res, err) == 0)
		ret = 0;
	compose_run_free(r);
	return ret;
}
