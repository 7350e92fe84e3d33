/*
 * Framing and decoding of the engine's JSON message streams (build, pull,
 * push). Objects are separated by "\r\n"; a JSON string cannot hold a raw
 * newline, so a newline always ends an object. Each line is capped at
 * JSTREAM_LINE_MAX so that a daemon sending garbage cannot grow our memory.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "engine/engine.h"
#include "engine/jstream.h"
#include "engine/json.h"
#include "util/banned.h"

void jstream_init(struct jstream *js, jstream_msg_fn on_msg, void *ctx)
{
	memset(js, 0, sizeof(*js));
	buf_init(&js->line, JSTREAM_LINE_MAX);
	js->on_msg = on_msg;
	js->ctx = ctx;
}

void jstream_on_event(struct jstream *js, jstream_event_fn fn, void *ctx)
{
	js->on_event = fn;
	js->event_ctx = ctx;
}

int jstream_event_of(const cJSON *msg, struct jstream_event *ev)
{
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(msg, "status");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *detail =
		cJSON_GetObjectItemCaseSensitive(msg, "progressDetail");

	memset(ev, 0, sizeof(*ev));
	ev->current = -1;
	ev->total = -1;
	if (!cJSON_IsString(status) || !status->valuestring[0])
		return 0;
	ev->status = status->valuestring;
	if (cJSON_IsString(id) && id->valuestring[0])
		ev->id = id->valuestring;
	/* The engine sends {} or no progressDetail for state changes and
	 * {"current":N,"total":M} for byte counts; total may be absent or 0
	 * (unknown) and current may exceed it. */
	if (cJSON_IsObject(detail)) {
		ev->current = json_int(
			cJSON_GetObjectItemCaseSensitive(detail, "current"),
			-1);
		ev->total = json_int(
			cJSON_GetObjectItemCaseSensitive(detail, "total"), -1);
		if (ev->current < 0)
			ev->current = -1;
		if (ev->total <= 0)
			ev->total = -1;
	}
	return 1;
}

void jstream_release(struct jstream *js)
{
	buf_release(&js->line);
}

/* The engine's failure message: errorDetail.message, else the legacy
 * "error" string. NULL when the message reports no failure. */
static const char *failure_message(const cJSON *msg, long *code)
{
	const cJSON *detail =
		cJSON_GetObjectItemCaseSensitive(msg, "errorDetail");
	const cJSON *text = NULL;

	if (cJSON_IsObject(detail)) {
		const cJSON *c =
			cJSON_GetObjectItemCaseSensitive(detail, "code");

		if (cJSON_IsNumber(c))
			*code = (long)json_int(c, 1);
		text = cJSON_GetObjectItemCaseSensitive(detail, "message");
	}
	if (!cJSON_IsString(text))
		text = cJSON_GetObjectItemCaseSensitive(msg, "error");
	if (cJSON_IsString(text) && text->valuestring[0])
		return text->valuestring;
	if (cJSON_IsObject(detail))
		return "the engine reported an error without a message";
	return NULL;
}

static int all_space(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

static int decode_line(struct jstream *js, const char *line, size_t len,
		       struct error *err)
{
	cJSON *msg;
	const char *failure;
	int ret = 0;

	if (all_space(line, len))
		return 0;
	/* Require the object to fill the line: "{..}{..}" is not framing
	 * we know, so refuse it rather than drop the second object. cJSON
	 * checks that by finding the NUL that struct buf keeps after the
	 * data, hence len + 1. */
	msg = cJSON_ParseWithLengthOpts(line, len + 1, NULL, 1);
	if (!msg || !cJSON_IsObject(msg)) {
		cJSON_Delete(msg);
		return err_set(err, EXIT_ENGINE,
			       "the engine sent a message that is not a JSON "
			       "object (%zu bytes starting '%.40s'); is "
			       "DOCKER_HOST a Docker engine, with nothing "
			       "rewriting its answers in between?",
			       len, line);
	}
	js->messages++;
	if (js->on_msg && js->on_msg(msg, js->ctx, err) < 0)
		ret = -1;
	failure = ret ? NULL : failure_message(msg, &js->error_code);
	if (!ret && !failure && js->on_event) {
		struct jstream_event ev;

		if (jstream_event_of(msg, &ev))
			js->on_event(&ev, js->event_ctx);
	}
	if (failure) {
		/* Podman ends its messages with a newline. */
		int n = (int)strlen(failure);

		while (n > 0 &&
		       (failure[n - 1] == '\n' || failure[n - 1] == '\r' ||
			failure[n - 1] == ' '))
			n--;
		js->engine_error = 1;
		if (!n)
			ret = err_set(err, EXIT_ENGINE,
				      "the engine reported an "
				      "error without a message");
		else
			ret = err_set(err, EXIT_ENGINE, "%.*s", n, failure);
	}
	cJSON_Delete(msg);
	return ret;
}

int jstream_feed(struct jstream *js, const char *data, size_t len,
		 struct error *err)
{
	if (js->failed)
		return -1;
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;
		int ret;

		if (buf_add(&js->line, data, take) < 0) {
			js->failed = 1;
			return err_set(err, EXIT_ENGINE,
				       "the engine sent a message longer than "
				       "%u bytes; refusing to buffer it",
				       JSTREAM_LINE_MAX);
		}
		if (!nl)
			break;
		ret = decode_line(js, js->line.data, js->line.len, err);
		buf_reset(&js->line);
		if (ret < 0) {
			js->failed = 1;
			return -1;
		}
		data = nl + 1;
		len -= take + 1;
	}
	return 0;
}

int jstream_finish(struct jstream *js, struct error *err)
{
	cJSON *probe;
	int ret;

	if (js->failed)
		return -1;
	if (all_space(buf_str(&js->line), js->line.len))
		return 0;
	/* The last object may lack its "\r\n" when the stream ends cleanly;
	 * if it parses, it is complete, otherwise the stream was cut. */
	probe = cJSON_ParseWithLengthOpts(js->line.data, js->line.len + 1, NULL,
					  1);
	cJSON_Delete(probe);
	if (!probe) {
		js->failed = 1;
		return err_set(err, EXIT_ENGINE,
			       "the engine's response ended in the middle of "
			       "a message; the connection was cut or the "
			       "engine stopped");
	}
	ret = decode_line(js, js->line.data, js->line.len, err);
	buf_reset(&js->line);
	js->failed = ret < 0;
	return ret;
}

/* An engine_data_fn that feeds the struct jstream in ctx. */
static int jstream_sink(const char *data, size_t len, void *ctx,
			struct error *err)
{
	return jstream_feed(ctx, data, len, err);
}

int jstream_request(struct engine *eng, struct engine_request *req,
		    struct jstream *js, struct error *err)
{
	req->on_data = jstream_sink;
	req->data_ctx = js;
	if (engine_do(eng, req, err) < 0)
		return -1;
	return jstream_finish(js, err);
}
