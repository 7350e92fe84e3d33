/*
 * Logging to stderr with three levels; see log.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "util/log.h"
#include "util/banned.h"

static enum log_level level = LOG_NORMAL;
static int live; /* a log_live() line is on the terminal */

void log_set_level(enum log_level l)
{
	level = l;
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

void log_live_end(void)
{
	if (!live)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	live = 0;
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	log_live_end();
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void log_stage(const char *stage, const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_NORMAL)
		return;
	fflush(stdout);
	log_live_end();
	fprintf(stderr, "==> %s: ", stage);
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void log_stage_end(const char *stage, int ok, double seconds)
{
	if (level < LOG_NORMAL)
		return;
	fflush(stdout);
	log_live_end();
	fprintf(stderr, "<== %s %s %.1fs\n", stage,
		ok ? "done in" : "failed after", seconds);
	fflush(stderr);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_NORMAL)
		return;
	fflush(stdout);
	va_start(ap, fmt);
	vlog("    ", fmt, ap);
	va_end(ap);
}

void log_live(const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_NORMAL)
		return;
	fflush(stdout);
	fputs("\r    ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\033[K", stderr);
	fflush(stderr);
	live = 1;
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vlog("builder: warning: ", fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_VERBOSE)
		return;
	va_start(ap, fmt);
	vlog("builder: debug: ", fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vlog("builder: error: ", fmt, ap);
	va_end(ap);
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
