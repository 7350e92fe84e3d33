#ifndef BUILDER_ERROR_H
#define BUILDER_ERROR_H

/*
 * The one error idiom.
 *
 * Every fallible function takes a `struct error *err` as its last argument
 * and returns 0 on success or -1 on failure, after filling err:
 *
 *	if (engine_ping(eng, err) < 0)
 *		return err_wrap(err, "cannot check the engine");
 *
 * err_set() records the first failure with its exit code; err_wrap() adds
 * context in front ("push 'acme/app:1': unauthorized: ...") keeping the code.
 * Messages are lower case: the failure first, subjects in single quotes, the
 * engine's own message verbatim, then what to do. Only main.c prints the
 * final message and exits.
 */

#include <stddef.h>

/* Exit codes, documented in --help and the README. */
enum exit_code {
	EXIT_OK = 0,
	EXIT_BUILD = 1, /* build failed */
	EXIT_USAGE = 2, /* usage or configuration error */
	EXIT_ENGINE = 3, /* engine unreachable or engine error */
	EXIT_TESTS = 4, /* tests failed */
	EXIT_PUSH = 5, /* tag or push failed */
	EXIT_SIGINT = 130, /* interrupted by SIGINT, after cleanup */
	EXIT_SIGTERM = 143, /* interrupted by SIGTERM, after cleanup */
};

#define ERROR_MSG_MAX 4096

struct error {
	int code; /* an enum exit_code; 0 while no error is set */
	int retryable; /* set by the transport for transient failures */
	char msg[ERROR_MSG_MAX];
};

#define ERROR_INIT        \
	{                 \
		0, 0,     \
		{         \
			0 \
		}         \
	}

/* Records a failure; always returns -1. The first failure sticks: when err
 * already holds one, err_set() changes nothing, so an error raised while
 * unwinding from it cannot hide the cause. The one exception: an
 * interruption (code >= 128, signals_error()) replaces an ordinary failure.
 * A caller that handles a failure and goes on (a 404 that means "gone", a
 * retry) calls err_clear() first. */
int err_set(struct error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes context as "<context>: <message>"; always returns -1. */
int err_wrap(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends "; <hint>" (what to do) to a set error, keeping its code;
 * returns -1. */
int err_hint(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Replaces the exit code of a set error (e.g. an engine error during push
 * is a push failure, exit 5); returns -1. */
int err_recode(struct error *err, int code);

/* Forgets a recorded failure. */
void err_clear(struct error *err);

#endif
