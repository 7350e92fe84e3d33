#ifndef BUILDER_SIGNALS_H
#define BUILDER_SIGNALS_H

/*
 * SIGINT and SIGTERM set a flag and nothing else. Long operations poll
 * signals_pending() (transfers do so through libcurl's progress callback),
 * unwind with an "interrupted" error, and main.c runs the cleanup and exits
 * 128 + the signal number. builder is often PID 1 in its own container,
 * where the kernel gives no default action to these signals: without the
 * handlers, `docker stop` would wait for its timeout and SIGKILL us,
 * leaving containers behind.
 */

void signals_install(void);
/* The first signal received, or 0. */
int signals_pending(void);
/* Fills err with an interruption error (exit 130 or 143) and returns -1. */
struct error;
int signals_error(struct error *err);

#endif
