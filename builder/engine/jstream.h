#ifndef BUILDER_JSTREAM_H
#define BUILDER_JSTREAM_H

/*
 * Decoder for the engine's JSON message streams (build, pull, push): a
 * sequence of JSON objects each followed by "\r\n". Bytes are fed as they
 * arrive, split anywhere; each complete object is parsed and handed to the
 * callback. A line longer than the cap, invalid JSON, or a stream that ends
 * inside an object is an error.
 *
 * A message carrying "errorDetail" or "error" fails the stream even though
 * the HTTP status was 200: jstream_feed() returns -1 with the engine's
 * message in err (code EXIT_ENGINE; callers recode it for their stage) and
 * js->error_code set from errorDetail.code. The callback still sees the
 * message first, so that a caller can print context.
 */

#include <stddef.h>

#include "util/buf.h"
#include "util/error.h"

struct cJSON;

#define JSTREAM_LINE_MAX (1024u * 1024)

/* Called for each message; msg is borrowed and freed after the call.
 * Returns 0, or -1 after filling err to stop the stream. */
typedef int (*jstream_msg_fn)(const struct cJSON *msg, void *ctx,
			      struct error *err);

/*
 * A progress event: a message with a non-empty "status" (pull, push, and
 * pulls inside a classic build). Strings are borrowed from the message and
 * valid during the call only.
 */
struct jstream_event {
	const char *id; /* layer id, or NULL for a message about the whole */
	const char *status; /* "Pushing", "Pull complete", "1: digest: ..." */
	long long current; /* progressDetail bytes so far, -1 when absent */
	long long total; /* progressDetail bytes in all, -1 when absent */
};

typedef void (*jstream_event_fn)(const struct jstream_event *ev, void *ctx);

struct jstream {
	struct buf line;
	jstream_msg_fn on_msg;
	void *ctx;
	jstream_event_fn on_event; /* optional, see jstream_on_event() */
	void *event_ctx;
	long error_code; /* errorDetail.code of a failure message */
	size_t messages; /* complete messages decoded */
	int failed; /* an error was seen; later bytes are ignored */
	int engine_error; /* that error is the engine's own errorDetail or
			   * error message, not a framing or JSON fault */
};

void jstream_init(struct jstream *js, jstream_msg_fn on_msg, void *ctx);
/* After on_msg has seen a message (and it did not fail), hands its progress
 * event, if it is one, to fn: the stages keep what they need from the raw
 * message, the progress printer gets typed events. */
void jstream_on_event(struct jstream *js, jstream_event_fn fn, void *ctx);
/* Fills ev from msg; 1 when msg is a progress event, else 0. Pure. */
int jstream_event_of(const struct cJSON *msg, struct jstream_event *ev);
int jstream_feed(struct jstream *js, const char *data, size_t len,
		 struct error *err);
/* Call at the end of the response: fails if it ended inside a message. */
int jstream_finish(struct jstream *js, struct error *err);
void jstream_release(struct jstream *js);

/* Runs an engine request whose response is a message stream: the response
 * feeds js as it arrives, and the stream must then end cleanly. The error
 * is the transport's, the engine's HTTP error, or the stream's. */
struct engine;
struct engine_request;
int jstream_request(struct engine *eng, struct engine_request *req,
		    struct jstream *js, struct error *err);

#endif
