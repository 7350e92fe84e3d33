/*
 * Error recording and context wrapping; see error.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"
#include "util/banned.h"

int err_set(struct error *err, int code, const char *fmt, ...)
{
	va_list ap;

	/* The first failure is the cause: what fails while unwinding from it
	 * (a cleanup, a close padding a short file) must not replace it. An
	 * interruption is the exception: a signal ends the run, whatever
	 * failed before it (main.c, push's backoff rely on this). */
	if (err->code && (code < 128 || err->code >= 128))
		return -1;
	err->code = code;
	err->retryable = 0;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int err_hint(struct error *err, const char *fmt, ...)
{
	size_t used = strnlen(err->msg, sizeof(err->msg) - 1);
	va_list ap;

	if (used + 3 < sizeof(err->msg)) {
		memcpy(err->msg + used, "; ", 3);
		used += 2;
		va_start(ap, fmt);
		vsnprintf(err->msg + used, sizeof(err->msg) - used, fmt, ap);
		va_end(ap);
	}
	if (!err->code)
		err->code = EXIT_ENGINE;
	return -1;
}

int err_wrap(struct error *err, const char *fmt, ...)
{
	char old[ERROR_MSG_MAX];
	size_t used, rest;
	va_list ap;
	int n;

	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	used = n < 0 ? 0 : (size_t)n;
	if (used > sizeof(err->msg) - 3)
		used = sizeof(err->msg) - 3;
	memcpy(err->msg + used, ": ", 2);
	used += 2;
	rest = strnlen(old, sizeof(old) - 1);
	if (rest > sizeof(err->msg) - 1 - used)
		rest = sizeof(err->msg) - 1 - used;
	memcpy(err->msg + used, old, rest);
	err->msg[used + rest] = '\0';
	if (!err->code)
		err->code = EXIT_ENGINE;
	return -1;
}

int err_recode(struct error *err, int code)
{
	err->code = code;
	return -1;
}

void err_clear(struct error *err)
{
	err->code = 0;
	err->retryable = 0;
	err->msg[0] = '\0';
}
