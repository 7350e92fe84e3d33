/*
 * The test stage: sidecar services on a private network, then TEST_CMD in
 * a container of the built image; see test.h.
 *
 * Endpoints: POST /networks/create; POST /containers/create,
 * /containers/{id}/attach, /containers/{id}/start, /containers/{id}/wait,
 * /containers/{id}/kill; GET /containers/{id}/json, and
 * /containers/{id}/logs for the services' logs only. Pulls go through
 * pull.c, removal through cleanup.c.
 *
 * How the test output is read: as `docker run` does, by attaching before
 * the start (POST /containers/{id}/attach?stream=1, a second connection
 * held open through the start; see engine_stream_open()). The engine hands
 * us the container's own bytes, multiplexed, whatever its log driver: GET
 * /logs would go through the driver, which fails with "none" (HTTP 501) and
 * turns json-file's invalid UTF-8 into U+FFFD. Attached before the start,
 * we miss nothing however fast the container exits. The attach ends when
 * the container's output closes; the container was created with
 * AutoRemove=false and persists, so POST /containers/{id}/wait?condition=
 * not-running then answers with its exit code at once, and we delete it
 * ourselves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "pipeline/cleanup.h"
#include "engine/demux.h"
#include "engine/engine.h"
#include "engine/json.h"
#include "engine/logs.h"
#include "engine/probe.h"
#include "util/log.h"
#include "pipeline/pull.h"
#include "pipeline/results.h"
#include "pipeline/test.h"
#include "util/signals.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define SERVICE_READY_TIMEOUT_S 120
#define SERVICE_SETTLE_S 0.4
#define POLL_NS (500L * 1000 * 1000)
#define SERVICE_LOG_TAIL 50
#define WAIT_BODY_MAX (64u * 1024)

struct service {
	char *spec; /* "NAME=IMAGE", split in place at '=' */
	const char *name;
	const char *image;
	char *container; /* "builder-<run id>-NAME" */
	char *id; /* NULL until created */
	int ready;
	double running_since; /* when first seen running, 0 before */
	int announced; /* "waiting for ... healthy" was logged */
	struct probe probe; /* our runs of its health check */
};

struct stage {
	struct engine *eng;
	struct run *run;
	const struct test_options *opt;
	char *network; /* "builder-<run id>", NULL without services */
	char *network_id;
	struct service *svc;
	size_t nsvc;
	char *test_id;
};

/* --- small helpers ---------------------------------------------------- */

static void sleep_poll(void)
{
	/* A signal cuts the sleep short (EINTR); the caller then sees it in
	 * signals_pending(). */
	nanosleep(&(struct timespec){ 0, POLL_NS }, NULL);
}

static cJSON *labels(const struct run *run)
{
	cJSON *l = cJSON_CreateObject();

	cJSON_AddStringToObject(l, CLEANUP_LABEL, run->id);
	return l;
}

/* "sha256:<64 hex>" as docker shows it, 12 hex digits; names as is. */
static int image_width(const char *image)
{
	return strncmp(image, "sha256:", 7) ? (int)strlen(image) : 7 + 12;
}

/* POST /containers/create?name=NAME; registers the container for cleanup
 * before anything else can fail. *status: the HTTP status. */
static int create_container(struct engine *eng, struct run *run,
			    const char *name, const cJSON *body, char **id,
			    long *status, struct error *err)
{
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	cJSON *resp = NULL;
	const cJSON *got, *warn;
	int ret = -1;

	buf_addstr(&path, "/containers/create?name=");
	buf_add_urlencoded(&path, name);
	if (cleanup_create(eng, path.data, body, &resp, status, err) < 0)
		goto out;
	got = cJSON_GetObjectItemCaseSensitive(resp, "Id");
	if (!cJSON_IsString(got) || !got->valuestring[0]) {
		err_set(err, EXIT_ENGINE,
			"the engine created container '%s' but sent no Id",
			name);
		goto out;
	}
	*id = xstrdup(got->valuestring);
	cleanup_add_container(run, *id);
	cJSON_ArrayForEach(
		warn, cJSON_GetObjectItemCaseSensitive(
			      resp, "Warnings")) if (cJSON_IsString(warn) &&
						     warn->valuestring[0])
		log_warn("container '%s': %s", name, warn->valuestring);
	ret = 0;
out:
	if (ret < 0)
		err_wrap(err, "cannot create container '%s'", name);
	cJSON_Delete(resp);
	buf_release(&path);
	return ret;
}

/* POST /containers/{id}/start. A 400 is the image's fault, not the
 * engine's: its command cannot be run (not found, not executable). The
 * engine's message then names the command, e.g. 'exec: "/bin/sh": stat
 * /bin/sh: no such file or directory'. Such failures get EXIT_TESTS. */
static int start_container(struct engine *eng, const char *name, const char *id,
			   struct error *err)
{
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	long status = 0;
	int ret;

	buf_addf(&path, "/containers/%s/start", id);
	ret = engine_json(eng, "POST", path.data, NULL, NULL, &status, err);
	buf_release(&path);
	if (ret < 0) {
		if (status == 400)
			err_recode(err, EXIT_TESTS);
		return err_wrap(err, "cannot start container '%s'", name);
	}
	return 0;
}

/* --- output ----------------------------------------------------------- */

/* Prints the last lines of a service's log (engine/logs.h). */
static void print_service_log(struct engine *eng, const struct service *s)
{
	logs_print_tail(eng, s->id, s->name, s->image, SERVICE_LOG_TAIL);
}

static void print_service_logs(const struct stage *st)
{
	for (size_t i = 0; i < st->nsvc; i++)
		print_service_log(st->eng, &st->svc[i]);
}

/* --- services --------------------------------------------------------- */

/* Splits TEST_SERVICES, which config_validate() has checked. */
static void parse_services(struct stage *st)
{
	const struct strlist *l = st->opt->services;

	st->svc = xcalloc(l->n ? l->n : 1, sizeof(*st->svc));
	for (size_t i = 0; i < l->n; i++) {
		struct service *s = &st->svc[st->nsvc++];
		char *eq;

		s->spec = xstrdup(l->v[i]);
		eq = strchr(s->spec, '=');
		*eq = '\0';
		s->name = s->spec;
		s->image = eq + 1;
	}
}

static int create_network(struct stage *st, struct error *err)
{
	struct buf name = BUF_INIT(BUF_PATH_MAX);
	cJSON *body = cJSON_CreateObject();
	cJSON *resp = NULL;
	const cJSON *id;
	int ret = -1;

	buf_addf(&name, "builder-%s", st->run->id);
	st->network = buf_detach(&name);
	cJSON_AddStringToObject(body, "Name", st->network);
	cJSON_AddStringToObject(body, "Driver", "bridge");
	cJSON_AddBoolToObject(body, "CheckDuplicate", 1);
	cJSON_AddItemToObject(body, "Labels", labels(st->run));
	if (cleanup_create(st->eng, "/networks/create", body, &resp, NULL,
			   err) < 0)
		goto out;
	id = cJSON_GetObjectItemCaseSensitive(resp, "Id");
	if (!cJSON_IsString(id) || !id->valuestring[0]) {
		err_set(err, EXIT_ENGINE,
			"the engine created no network (its answer has no "
			"Id); check 'docker network ls' and the engine's log");
		goto out;
	}
	st->network_id = xstrdup(id->valuestring);
	cleanup_add_network(st->run, st->network_id);
	log_info("network '%s' created", st->network);
	ret = 0;
out:
	if (ret < 0)
		err_wrap(err,
			 "cannot create network '%s' for the test services",
			 st->network);
	cJSON_Delete(resp);
	cJSON_Delete(body);
	return ret;
}

/* Attaches a container to the stage network at create time, with aliases
 * (may be NULL). */
static void join_network(const struct stage *st, cJSON *body, const char *alias)
{
	cJSON *host = cJSON_GetObjectItemCaseSensitive(body, "HostConfig");
	cJSON *net = cJSON_AddObjectToObject(body, "NetworkingConfig");
	cJSON *eps = cJSON_AddObjectToObject(net, "EndpointsConfig");
	cJSON *ep = cJSON_AddObjectToObject(eps, st->network);

	cJSON_AddStringToObject(host, "NetworkMode", st->network);
	if (alias) {
		const char *aliases[1] = { alias };

		cJSON_AddItemToObject(ep, "Aliases",
				      cJSON_CreateStringArray(aliases, 1));
	}
}

static int ensure_image(struct engine *eng, const struct auth_settings *auth,
			const struct service *s, struct error *err)
{
	int have = image_exists(eng, s->image, err);
	int missing = 0;

	if (have < 0)
		return -1;
	if (have)
		return 0;
	log_info("service '%s': image '%s' is not on the engine", s->name,
		 s->image);
	if (image_pull(eng, auth, s->image, &missing, err) < 0) {
		if (missing)
			err_wrap(err,
				 "check the image of service '%s' in "
				 "TEST_SERVICES, and the registry credentials",
				 s->name);
		return -1;
	}
	return 0;
}

static int start_service(struct stage *st, struct service *s, struct error *err)
{
	struct buf name = BUF_INIT(BUF_PATH_MAX);
	cJSON *body = cJSON_CreateObject();
	long status = 0;
	int ret = -1;

	if (ensure_image(st->eng, st->opt->auth, s, err) < 0)
		goto out;
	buf_addf(&name, "builder-%s-%s", st->run->id, s->name);
	s->container = buf_detach(&name);
	cJSON_AddStringToObject(body, "Image", s->image);
	cJSON_AddItemToObject(body, "Labels", labels(st->run));
	cJSON_AddFalseToObject(body, "Tty");
	cJSON_AddFalseToObject(cJSON_AddObjectToObject(body, "HostConfig"),
			       "AutoRemove");
	join_network(st, body, s->name);
	if (create_container(st->eng, st->run, s->container, body, &s->id,
			     &status, err) < 0) {
		/* The engine's "No command specified": nothing to run. */
		if (status == 400 && strcasestr(err->msg, "command")) {
			err_recode(err, EXIT_TESTS);
			err_wrap(
				err,
				"image '%s' has no CMD and no ENTRYPOINT, so "
				"there is nothing to run as a service: give it "
				"a CMD, or name another image in TEST_SERVICES",
				s->image);
		}
		goto out;
	}
	if (start_container(st->eng, s->container, s->id, err) < 0) {
		if (err->code == EXIT_TESTS)
			err_wrap(err,
				 "the command of image '%s' cannot run; check "
				 "its CMD and ENTRYPOINT",
				 s->image);
		goto out;
	}
	log_info("service '%s' (%s) started as '%s'", s->name, s->image,
		 s->container);
	ret = 0;
out:
	if (ret < 0)
		err_wrap(err, "service '%s'", s->name);
	cJSON_Delete(body);
	return ret;
}

/* The last health check's output, trimmed to one line, or "". */
static void last_health_output(const cJSON *health, char *dst, size_t len)
{
	const cJSON *log = cJSON_GetObjectItemCaseSensitive(health, "Log");
	const cJSON *last =
		cJSON_GetArrayItem(log, cJSON_GetArraySize(log) - 1);
	const cJSON *out = cJSON_GetObjectItemCaseSensitive(last, "Output");
	const char *s = cJSON_IsString(out) ? out->valuestring : "";
	int n;

	while (*s == ' ' || *s == '\n' || *s == '\r')
		s++;
	n = (int)strcspn(s, "\r\n");
	snprintf(dst, len, "%.*s", n, s);
}

/* Checks one service: 0 with s->ready set when it is ready, 0 when it
 * should get more time, -1 when it failed. */
static int check_service(struct stage *st, struct service *s, struct error *err)
{
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	cJSON *info = NULL;
	const cJSON *state, *running, *status, *code, *health, *hstatus;
	char why[512];
	int ret = -1;

	buf_addf(&path, "/containers/%s/json", s->id);
	if (engine_json(st->eng, "GET", path.data, NULL, &info, NULL, err) <
	    0) {
		err_wrap(err, "cannot inspect service '%s'", s->name);
		goto out;
	}
	state = cJSON_GetObjectItemCaseSensitive(info, "State");
	running = cJSON_GetObjectItemCaseSensitive(state, "Running");
	status = cJSON_GetObjectItemCaseSensitive(state, "Status");
	code = cJSON_GetObjectItemCaseSensitive(state, "ExitCode");
	health = cJSON_GetObjectItemCaseSensitive(state, "Health");
	hstatus = cJSON_GetObjectItemCaseSensitive(health, "Status");

	if (!cJSON_IsTrue(running)) {
		if (cJSON_IsString(status) &&
		    !strcmp(status->valuestring, "created")) {
			ret = 0;
			goto out;
		}
		print_service_log(st->eng, s);
		err_set(err, EXIT_TESTS,
			"service '%s' (%s) %s with code %ld before the tests "
			"could start; its last log lines are above",
			s->name, s->image,
			cJSON_IsString(status) ? status->valuestring
					       : "stopped",
			(long)json_int(code, -1));
		goto out;
	}
	/* Without a health check, "running" is all there is to wait for:
	 * ask for it twice, a poll apart, so that a service that dies as it
	 * starts is caught here rather than by puzzled tests. */
	if (!s->running_since)
		s->running_since = now_seconds();
	/* Podman reports "" where Docker omits Health or says "none". */
	if (!cJSON_IsString(hstatus) || !hstatus->valuestring[0] ||
	    !strcmp(hstatus->valuestring, "none")) {
		if (now_seconds() - s->running_since < SERVICE_SETTLE_S) {
			ret = 0;
			goto out;
		}
	}
	if (!cJSON_IsString(hstatus) || !hstatus->valuestring[0] ||
	    !strcmp(hstatus->valuestring, "none") ||
	    !strcmp(hstatus->valuestring, "healthy")) {
		s->ready = 1;
		log_info(
			"service '%s' is %s", s->name,
			cJSON_IsString(hstatus) &&
					!strcmp(hstatus->valuestring, "healthy")
				? "healthy"
				: "running");
		ret = 0;
		goto out;
	}
	if (!strcmp(hstatus->valuestring, "unhealthy")) {
		last_health_output(health, why, sizeof(why));
		print_service_log(st->eng, s);
		err_set(err, EXIT_TESTS,
			"service '%s' (%s) is unhealthy%s%s%s; its last log "
			"lines are above",
			s->name, s->image,
			why[0] ? " (health check said '" : "", why,
			why[0] ? "')" : "");
		goto out;
	}
	if (probe_step(st->eng, s->id, info, &s->probe) > 0) {
		s->ready = 1;
		log_info("service '%s' is healthy: its health check passed "
			 "when builder ran it",
			 s->name);
		ret = 0;
		goto out;
	}
	if (!s->announced) {
		log_info("waiting for service '%s' to become healthy", s->name);
		s->announced = 1;
	}
	ret = 0;
out:
	cJSON_Delete(info);
	buf_release(&path);
	return ret;
}

static int wait_services(struct stage *st, struct error *err)
{
	double deadline = now_seconds() + SERVICE_READY_TIMEOUT_S;

	for (;;) {
		int waiting = 0;

		if (signals_pending())
			return signals_error(err);
		for (size_t i = 0; i < st->nsvc; i++) {
			struct service *s = &st->svc[i];

			if (s->ready)
				continue;
			if (check_service(st, s, err) < 0)
				return -1;
			waiting += !s->ready;
		}
		if (!waiting)
			return 0;
		if (now_seconds() >= deadline)
			break;
		sleep_poll();
	}
	for (size_t i = 0; i < st->nsvc; i++) {
		if (st->svc[i].ready)
			continue;
		print_service_log(st->eng, &st->svc[i]);
		return err_set(err, EXIT_TESTS,
			       "service '%s' (%s) was not ready after %d s; "
			       "its last log lines are above: check its "
			       "HEALTHCHECK",
			       st->svc[i].name, st->svc[i].image,
			       SERVICE_READY_TIMEOUT_S);
	}
	return 0;
}

static int start_services(struct stage *st, struct error *err)
{
	parse_services(st);
	if (create_network(st, err) < 0)
		return -1;
	for (size_t i = 0; i < st->nsvc; i++)
		if (start_service(st, &st->svc[i], err) < 0)
			return -1;
	return wait_services(st, err);
}

/* --- the test container ----------------------------------------------- */

static cJSON *test_container_body(const struct stage *st, const char *image)
{
	const struct test_options *opt = st->opt;
	const char *entrypoint[2] = { "/bin/sh", "-c" };
	const char *cmd[1] = { opt->cmd };
	cJSON *body = cJSON_CreateObject();
	cJSON *host;

	cJSON_AddStringToObject(body, "Image", image);
	/* Both set: an image's own ENTRYPOINT would otherwise receive
	 * "sh -c ..." as arguments. */
	cJSON_AddItemToObject(body, "Entrypoint",
			      cJSON_CreateStringArray(entrypoint, 2));
	cJSON_AddItemToObject(body, "Cmd", cJSON_CreateStringArray(cmd, 1));
	/* The engine merges the image's Env (ours win per key) and keeps
	 * its WorkingDir and User when we send none. */
	if (opt->env->n)
		cJSON_AddItemToObject(body, "Env",
				      cJSON_CreateStringArray(
					      (const char *const *)opt->env->v,
					      (int)opt->env->n));
	cJSON_AddItemToObject(body, "Labels", labels(st->run));
	cJSON_AddFalseToObject(body, "Tty");
	cJSON_AddFalseToObject(body, "OpenStdin");
	cJSON_AddFalseToObject(body, "AttachStdin");
	cJSON_AddTrueToObject(body, "AttachStdout");
	cJSON_AddTrueToObject(body, "AttachStderr");
	host = cJSON_AddObjectToObject(body, "HostConfig");
	/* We delete it ourselves; see the top of this file. */
	cJSON_AddFalseToObject(host, "AutoRemove");
	if (st->network)
		join_network(st, body, NULL);
	return body;
}

static int collect(const char *data, size_t len, void *ctx, struct error *err)
{
	if (buf_add(ctx, data, len) < 0)
		return err_set(err, EXIT_ENGINE,
			       "the engine's wait response is too large");
	return 0;
}

/* POST /containers/{id}/wait?condition=not-running: the exit code. */
static int wait_exit(struct stage *st, double deadline, long *code,
		     int *timed_out, struct error *err)
{
	struct engine_request req = ENGINE_REQUEST_INIT;
	struct buf path = BUF_INIT(BUF_PATH_MAX), body = BUF_INIT(BUF_TEXT_MAX);
	cJSON *resp = NULL;
	const cJSON *status, *error, *msg;
	int ret = -1;

	buf_init(&body, WAIT_BODY_MAX);
	buf_addf(&path, "/containers/%s/wait?condition=not-running",
		 st->test_id);
	req.method = "POST";
	req.path = path.data;
	req.on_data = collect;
	req.data_ctx = &body;
	req.deadline = deadline;
	if (engine_do(st->eng, &req, err) < 0) {
		*timed_out = req.timed_out;
		/* The attach reads until the connection closes, so an engine
		 * that died looked like the end of the output: say so here,
		 * where it shows. */
		if (!req.status && !req.timed_out && err->code == EXIT_ENGINE)
			err_wrap(
				err,
				"lost the connection to the docker engine at "
				"'%s' while the tests ran (their output ended, "
				"their exit code cannot be read)",
				engine_host(st->eng));
		goto out;
	}
	resp = cJSON_ParseWithLength(buf_str(&body), body.len);
	status = cJSON_GetObjectItemCaseSensitive(resp, "StatusCode");
	error = cJSON_GetObjectItemCaseSensitive(resp, "Error");
	msg = cJSON_GetObjectItemCaseSensitive(error, "Message");
	if (cJSON_IsString(msg) && msg->valuestring[0]) {
		err_set(err, EXIT_ENGINE,
			"waiting for the test container failed: %s",
			msg->valuestring);
		goto out;
	}
	if (!cJSON_IsNumber(status)) {
		err_set(err, EXIT_ENGINE,
			"the engine's answer to the wait for the test "
			"container has no StatusCode: '%.200s'",
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

static void kill_test_container(struct stage *st)
{
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	struct error err = ERROR_INIT;
	long status = 0;

	buf_addf(&path, "/containers/%s/kill?signal=SIGKILL", st->test_id);
	/* 409: it stopped on its own meanwhile; removal comes later anyway. */
	if (engine_json_cleanup(st->eng, "POST", path.data, &status, &err) <
		    0 &&
	    status != 409 && status != 404)
		log_warn("cannot kill the test container: %s", err.msg);
	buf_release(&path);
}

static int run_container(struct stage *st, const char *image,
			 struct test_result *res, struct error *err)
{
	const struct test_options *opt = st->opt;
	struct engine_request req = ENGINE_REQUEST_INIT;
	struct engine_stream *attach = NULL;
	struct buf name = BUF_INIT(BUF_PATH_MAX), path = BUF_INIT(BUF_PATH_MAX);
	cJSON *body = test_container_body(st, image);
	struct demux d;
	double started, deadline = 0;
	int timed_out = 0;
	int ret = -1;

	demux_init(&d, logs_to_terminal, NULL);
	buf_addf(&name, "builder-%s-test", st->run->id);
	if (create_container(st->eng, st->run, name.data, body, &st->test_id,
			     NULL, err) < 0)
		goto out;
	buf_addf(&path, "/containers/%s/attach?stream=1&stdout=1&stderr=1",
		 st->test_id);
	req.method = "POST";
	req.path = path.data;
	req.on_data = demux_sink;
	req.data_ctx = &d;
	fflush(stdout);
	if (engine_stream_open(st->eng, &req, &attach, err) < 0) {
		err_wrap(err, "cannot attach to the test container '%s'",
			 name.data);
		goto out;
	}
	log_info("running the tests in '%s' (image %.*s): sh -c '%s'",
		 name.data, image_width(image), image, opt->cmd);
	if (start_container(st->eng, name.data, st->test_id, err) < 0) {
		if (err->code == EXIT_TESTS && strstr(err->msg, "/bin/sh"))
			err_wrap(
				err,
				"the image %.*s has no /bin/sh, which runs "
				"TEST_CMD (as /bin/sh -c TEST_CMD): test in an "
				"image with a shell, e.g. a build stage FROM "
				"busybox or alpine",
				image_width(image), image);
		else if (err->code == EXIT_TESTS)
			err_wrap(err, "the image %.*s cannot run TEST_CMD",
				 image_width(image), image);
		goto out;
	}
	started = now_seconds();
	res->ran = 1;
	if (opt->timeout > 0)
		deadline = started + (double)opt->timeout;
	req.deadline = deadline;
	if (engine_stream_finish(attach, err) < 0) {
		timed_out = req.timed_out;
		if (!timed_out)
			goto out;
	} else if (demux_finish(&d, err) < 0) {
		goto out;
	}
	if (!timed_out &&
	    wait_exit(st, deadline, &res->exit_code, &timed_out, err) < 0 &&
	    !timed_out)
		goto out;
	res->seconds = now_seconds() - started;
	fflush(stdout);
	fflush(stderr);

	if (timed_out) {
		res->timed_out = 1;
		kill_test_container(st);
		print_service_logs(st);
		/* The transfer's "deadline reached" is the timeout itself. */
		err_clear(err);
		err_set(err, EXIT_TESTS,
			"tests timed out after %ld s; the container was killed",
			opt->timeout);
		goto out;
	}
	if (res->exit_code) {
		print_service_logs(st);
		err_set(err, EXIT_TESTS, "tests failed (exit %ld)%s",
			res->exit_code,
			res->exit_code == 137 ? ": the test process was killed "
						"(SIGKILL): out "
						"of memory, docker kill, or "
						"the engine stopping"
					      : "");
		goto out;
	}
	log_info("tests passed in %.1fs", res->seconds);
	ret = 0;
out:
	engine_stream_close(attach);
	demux_release(&d);
	cJSON_Delete(body);
	buf_release(&path);
	buf_release(&name);
	return ret;
}

/* --- teardown --------------------------------------------------------- */

static void remove_now(const struct stage *st, const char *what, const char *id,
		       int network)
{
	struct error err = ERROR_INIT;
	int ret;

	if (!id)
		return;
	ret = network ? cleanup_remove_network(st->run, st->eng, id, &err)
		      : cleanup_remove_container(st->run, st->eng, id, &err);
	if (ret < 0)
		log_warn("%s: %s", what, err.msg);
}

/* Removes what the stage created; cleanup.c ignores the interrupt flag,
 * so this completes after a signal too. What fails stays registered for
 * cleanup_run(). */
static void teardown(struct stage *st)
{
	remove_now(st, "test container", st->test_id, 0);
	for (size_t i = 0; i < st->nsvc; i++)
		remove_now(st, "service container", st->svc[i].id, 0);
	remove_now(st, "network", st->network_id, 1);
}

static void stage_release(struct stage *st)
{
	for (size_t i = 0; i < st->nsvc; i++) {
		free(st->svc[i].spec);
		free(st->svc[i].container);
		free(st->svc[i].id);
		probe_release(&st->svc[i].probe);
	}
	free(st->svc);
	free(st->network);
	free(st->network_id);
	free(st->test_id);
}

int test_stage_run(struct engine *eng, struct run *run,
		   const struct test_options *opt, const char *image_id,
		   struct test_result *res, struct error *err)
{
	struct results *results = res->results;
	struct stage st;
	int ret = -1;

	memset(res, 0, sizeof(*res));
	res->results = results;
	res->exit_code = -1;
	if (!opt->cmd) {
		log_info("TEST_CMD is not set: no tests to run");
		return 0;
	}
	memset(&st, 0, sizeof(st));
	st.eng = eng;
	st.run = run;
	st.opt = opt;
	if (opt->services->n && start_services(&st, err) < 0)
		goto out;
	if (run_container(&st, image_id, res, err) < 0)
		goto out;
	ret = 0;
out:
	/* Before the teardown: the results live in the test container. */
	if (res->ran && st.test_id && results && opt->results &&
	    opt->results->n)
		results_collect_all(eng, st.test_id, opt->results, results);
	teardown(&st);
	stage_release(&st);
	return ret;
}
