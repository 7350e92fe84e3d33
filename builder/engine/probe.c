/*
 * A container's health check, run by us; see probe.h.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "engine/engine.h"
#include "engine/json.h"
#include "engine/probe.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* Docker's default when the check names none. */
#define DEFAULT_TIMEOUT_S 30.0
/* Runs start at least this far apart: a check that logs on the service's
 * side (pg_isready does) adds a few lines a second, not a flood. */
#define RUN_GAP_S 0.25

static int add_strings(struct strlist *argv, const cJSON *arr, int from)
{
	int i = 0;
	const cJSON *s;

	cJSON_ArrayForEach(s, arr)
	{
		if (i++ < from)
			continue;
		if (!cJSON_IsString(s))
			return -1;
		strlist_push(argv, s->valuestring);
	}
	return 0;
}

int probe_command(const cJSON *config, struct strlist *argv, double *timeout)
{
	const cJSON *hc =
		cJSON_GetObjectItemCaseSensitive(config, "Healthcheck");
	const cJSON *test = cJSON_GetObjectItemCaseSensitive(hc, "Test");
	const cJSON *kind = cJSON_GetArrayItem(test, 0);
	const cJSON *shell = cJSON_GetObjectItemCaseSensitive(config, "Shell");
	long long ns =
		json_int(cJSON_GetObjectItemCaseSensitive(hc, "Timeout"), 0);
	int ok = 0;

	*timeout = ns > 0 ? (double)ns / 1e9 : DEFAULT_TIMEOUT_S;
	if (!cJSON_IsArray(test) || !cJSON_IsString(kind))
		return 0;
	if (!strcmp(kind->valuestring, "CMD")) {
		ok = add_strings(argv, test, 1) == 0 && argv->n > 0;
	} else if (!strcmp(kind->valuestring, "CMD-SHELL") &&
		   cJSON_GetArraySize(test) == 2 &&
		   cJSON_IsString(cJSON_GetArrayItem(test, 1))) {
		if (cJSON_GetArraySize(shell) > 0) {
			ok = add_strings(argv, shell, 0) == 0;
		} else {
			strlist_push(argv, "/bin/sh");
			strlist_push(argv, "-c");
			ok = 1;
		}
		strlist_push(argv, cJSON_GetArrayItem(test, 1)->valuestring);
	}
	if (!ok)
		strlist_clear(argv);
	return ok;
}

static void turn_off(struct probe *p, const char *id, const char *why,
		     const struct error *err)
{
	log_debug("container %.12s: no more health checks of our own (%s%s%s); "
		  "Docker's status decides",
		  id, why, err && err->msg[0] ? ": " : "", err ? err->msg : "");
	p->off = 1;
}

/* Starts a run: POST /containers/{id}/exec, then /exec/{id}/start
 * detached (its output is not kept: only the exit code counts). */
static void start_run(struct engine *eng, const char *id, const cJSON *info,
		      struct probe *p)
{
	struct strlist argv = STRLIST_INIT;
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	struct error err = ERROR_INIT;
	cJSON *body = NULL, *resp = NULL, *start = NULL;
	const cJSON *eid;
	const cJSON *platform =
		cJSON_GetObjectItemCaseSensitive(info, "Platform");
	double timeout, started;

	/* Docker runs CMD-SHELL there with cmd /S /C: left to Docker. */
	if (cJSON_IsString(platform) &&
	    !strcmp(platform->valuestring, "windows")) {
		turn_off(p, id, "a Windows container", NULL);
		goto out;
	}

	if (!probe_command(cJSON_GetObjectItemCaseSensitive(info, "Config"),
			   &argv, &timeout)) {
		turn_off(p, id, "its health check has nothing to run", NULL);
		goto out;
	}
	p->timeout = timeout;
	body = cJSON_CreateObject();
	cJSON_AddItemToObject(
		body, "Cmd",
		cJSON_CreateStringArray((const char *const *)argv.v,
					(int)argv.n));
	cJSON_AddFalseToObject(body, "AttachStdout");
	cJSON_AddFalseToObject(body, "AttachStderr");
	buf_addf(&path, "/containers/%s/exec", id);
	if (engine_json(eng, "POST", buf_str(&path), body, &resp, NULL, &err) <
	    0) {
		turn_off(p, id, "cannot create the exec", &err);
		goto out;
	}
	eid = cJSON_GetObjectItemCaseSensitive(resp, "Id");
	if (!cJSON_IsString(eid) || !eid->valuestring[0]) {
		turn_off(p, id, "the engine's answer has no exec Id", NULL);
		goto out;
	}
	start = cJSON_CreateObject();
	cJSON_AddTrueToObject(start, "Detach");
	buf_reset(&path);
	buf_addf(&path, "/exec/%s/start", eid->valuestring);
	/* Taken before the start: a run's time counts from no later than
	 * Docker would count it. */
	started = now_seconds();
	if (engine_json(eng, "POST", buf_str(&path), start, NULL, NULL, &err) <
	    0) {
		turn_off(p, id, "cannot start the exec", &err);
		goto out;
	}
	p->exec_id = xstrdup(eid->valuestring);
	p->started = started;
out:
	cJSON_Delete(body);
	cJSON_Delete(resp);
	cJSON_Delete(start);
	buf_release(&path);
	strlist_clear(&argv);
}

/* The run in progress: 1 passed, 0 failed or still running (p->exec_id
 * is cleared once it has ended). */
static int check_run(struct engine *eng, const char *id, struct probe *p)
{
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	struct error err = ERROR_INIT;
	cJSON *resp = NULL;
	const cJSON *running, *code;
	int ret = 0;

	buf_addf(&path, "/exec/%s/json", p->exec_id);
	if (engine_json(eng, "GET", buf_str(&path), NULL, &resp, NULL, &err) <
	    0) {
		turn_off(p, id, "cannot inspect the exec", &err);
		goto out;
	}
	running = cJSON_GetObjectItemCaseSensitive(resp, "Running");
	code = cJSON_GetObjectItemCaseSensitive(resp, "ExitCode");
	/* Docker stops a run at its timeout and counts it as failed; ours
	 * cannot be stopped, and one seen ended after the timeout may have
	 * ended after it: no pass either way, and no more runs. */
	if (now_seconds() - p->started > p->timeout) {
		turn_off(p, id, "a check outlived its timeout", NULL);
		goto out;
	}
	if (cJSON_IsTrue(running))
		goto out;
	if (!cJSON_IsFalse(running) || !cJSON_IsNumber(code)) {
		turn_off(p, id,
			 "the engine's answer has no Running or ExitCode",
			 NULL);
		goto out;
	}
	ret = json_int(code, -1) == 0;
	free(p->exec_id);
	p->exec_id = NULL;
out:
	cJSON_Delete(resp);
	buf_release(&path);
	return ret;
}

int probe_step(struct engine *eng, const char *id, const cJSON *info,
	       struct probe *p)
{
	if (p->off)
		return 0;
	if (p->exec_id)
		return check_run(eng, id, p);
	if (p->started && now_seconds() - p->started < RUN_GAP_S)
		return 0;
	start_run(eng, id, info, p);
	return 0;
}

void probe_release(struct probe *p)
{
	free(p->exec_id);
	p->exec_id = NULL;
}
