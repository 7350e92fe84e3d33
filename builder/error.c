/*
 * Error recording and context wrapping; see error.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "banned.h"

int err_set(struct error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	err->retryable = 0;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int err_wrap(struct error *err, const char *fmt, ...)
{
	char prefix[1024];
	char old[ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
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
