#ifndef BUILDER_LOG_H
#define BUILDER_LOG_H

/*
 * What builder says about itself goes to stderr, one line per message, so
 * that stdout carries only the build and test output and, last, the pushed
 * reference with its digest. Nothing here ever receives a secret: callers
 * pass the name of a credential source, never its value.
 */

enum log_level { LOG_QUIET = 0, LOG_NORMAL = 1, LOG_VERBOSE = 2 };

void log_set_level(enum log_level level);

/* "==> build: <what>" */
void log_stage(const char *stage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "<== build done in 1.2s" or "<== build failed after 1.2s" */
void log_stage_end(const char *stage, int ok, double seconds);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with --verbose: the request trace. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A progress line redrawn in place on a terminal: "\r    <text>\033[K" on
 * stderr, no newline. The next line logged, or log_live_end(), clears it.
 * Nothing with --quiet. Only for a stderr that is a terminal. */
void log_live(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_live_end(void);
/* Always printed, even with --quiet: the final error. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic seconds, for stage durations and deadlines. */
double now_seconds(void);

#endif
