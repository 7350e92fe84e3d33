#ifndef BUILDER_SESSION_H
#define BUILDER_SESSION_H

/*
 * The BuildKit session: POST /session upgraded to h2c on a connection of
 * its own (engine_upgrade), on which the daemon is the HTTP/2 and gRPC
 * client and we are the server. We serve:
 *
 *	/grpc.health.v1.Health/Check                 always SERVING
 *	/moby.filesync.v1.FileSync/DiffCopy          "context", "dockerfile"
 *	/moby.buildkit.secrets.v1.Secrets/GetSecret  the run's secrets
 *	/moby.filesync.v1.Auth/Credentials           registry/auth.h's
 *	/moby.sshforward.v1.SSH/CheckAgent           the --ssh ids
 *	/moby.sshforward.v1.SSH/ForwardAgent         bytes to and from the agent
 *	/moby.filesync.v1.FileSend/DiffCopy          the output (--output), when
 *	                                             one is configured (fsend.h)
 *
 * and answer UNIMPLEMENTED to anything else (the token-authority calls of
 * Auth among them, so the daemon falls back to Credentials).
 *
 *	struct session *s = NULL;
 *	if (session_start(eng, &cfg, &s, err) < 0) ...
 *	... POST /build?version=2&session=<session_id(s)>&remote=client-session
 *	if (session_finish(s, err) < 0) ...   // the session's own failure
 *	session_free(s);
 *
 * Concurrency: one session thread. session_start() opens the connection
 * (in the caller's thread, so that a refused /session is an ordinary
 * error) and starts the thread, which from then on alone owns the
 * connection, the nghttp2 session, every stream and directory walk; it
 * runs one poll() loop over the socket and a stop pipe, feeding what comes
 * to nghttp2 and writing what nghttp2 produces, and fills each stream's
 * output a bounded step at a time, so a health check is answered within
 * one step even while file data flows. The caller's thread meanwhile runs
 * POST /build through engine_do() on the engine's own handle. The two
 * share only the configuration (read-only after start) and the stop pipe;
 * the thread's error is read by session_finish() after joining it. The
 * thread blocks SIGINT and SIGTERM, which stay the main thread's.
 */

#include <stddef.h>

#include "util/error.h"

struct engine;
struct auth_settings;
struct secrets;
struct strlist;

struct session_config {
	const char *context_dir; /* served as "context" */
	const char *dockerfile_dir; /* served as "dockerfile" */
	const struct secrets *secrets; /* may be NULL; borrowed */
	const char *shared_key; /* keys the daemon's copy of the context */
	const char *name; /* X-Docker-Expose-Session-Name, may be NULL */
	/* ssh-agent sockets by id, "ID=PATH" ("default=/tmp/ssh-x/agent.1"),
	 * may be NULL; borrowed. */
	const struct strlist *ssh;
	/* credentials for the engine's own pulls (Auth.Credentials); may be
	 * NULL: anonymous. Borrowed. */
	const struct auth_settings *auth;
	/* --output: the directory (or, output_tar, the tar file) that
	 * FileSend writes; NULL: no output offered. */
	const char *output_dest;
	int output_tar;
};

struct session;

/* Opens the session and starts serving it. cfg and what it points to
 * must outlive the session. */
int session_start(struct engine *eng, const struct session_config *cfg,
		  struct session **out, struct error *err);

/*
 * The byte transport under a session: engine_conn (engine.h) for
 * session_start(), anything else for tests (a socketpair, fuzz input).
 * recv and send return the byte count, SESSION_IO_AGAIN when nothing can
 * move now, or -1 with err set; recv returns 0 at the end. fd is polled for
 * readiness; pending says bytes are buffered that poll() cannot see.
 */
#define SESSION_IO_AGAIN (-2)

struct session_io {
	long (*recv)(void *ctx, void *dst, size_t max, struct error *err);
	long (*send)(void *ctx, const void *src, size_t len, struct error *err);
	int (*fd)(void *ctx);
	int (*pending)(void *ctx);
	void *ctx; /* the caller's; session_free() leaves it alone */
};

/* Serves a session over io, where the peer has already been told about it
 * (tests). */
int session_start_io(const struct session_config *cfg,
		     const struct session_io *io, struct session **out,
		     struct error *err);

/* 1 while the session thread serves: 0 once the daemon closed the
 * connection or the session failed (session_finish() says why). */
int session_running(const struct session *s);

/* The session's id, for POST /build?session=. */
const char *session_id(const struct session *s);

/* A random id for POST /build?buildid= (25 characters [a-z0-9]). */
void session_random_id(char out[26]);

/* Stops serving, closes the connection and joins the thread. Returns -1
 * with the session's first failure (a file that vanished mid-transfer, a
 * malformed message from the daemon), 0 when it had none. NULL is fine. */
int session_finish(struct session *s, struct error *err);

/* Counts for the log, valid after session_finish(). */
unsigned long long session_bytes_sent(const struct session *s);
unsigned long session_files_sent(const struct session *s);
/* What FileSend wrote (files; for a tar, 1) and its bytes. */
size_t session_output_files(const struct session *s);
unsigned long long session_output_bytes(const struct session *s);

void session_free(struct session *s);

#endif
