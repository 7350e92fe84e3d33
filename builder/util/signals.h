#ifndef BUILDER_SIGNALS_H
#define BUILDER_SIGNALS_H

/*
 * SIGHUP, SIGINT, SIGQUIT and SIGTERM set a flag and nothing else. Long
 * operations poll signals_pending() (transfers do so through libcurl's
 * progress callback), unwind with an "interrupted" error, and main.c runs
 * the cleanup and exits 128 + the signal number. builder is often PID 1 in
 * its own container, where the kernel gives no default action to these
 * signals: without the handlers, `docker stop` would wait for its timeout
 * and SIGKILL us, leaving containers behind. CI runners send SIGHUP when
 * their terminal or agent goes away; SIGQUIT is taken as a cancel too, since
 * a core dump would leave the run's containers behind.
 *
 * The cleanup after a signal is bounded: requests that ignore the flag
 * (removals) get SIGNAL_CLEANUP_S seconds from the first signal in all
 * (signals_deadline()). A second signal exits at once (_exit, 128 + the
 * first signal), printing the line set by signals_set_exit_hint().
 */

#define SIGNAL_CLEANUP_S 10

void signals_install(void);
/* The first signal received, or 0. */
int signals_pending(void);
/* The CLOCK_MONOTONIC time (as now_seconds()) by which the cleanup after
 * the first signal must end; 0 when no signal came. */
double signals_deadline(void);
/* What a second signal prints after "builder: error: interrupted by SIGx; "
 * when it makes us exit without finishing the cleanup (how to remove what
 * is left). Copied, cut at 250 bytes; a newline is added. */
void signals_set_exit_hint(const char *line);
/* Fills err with an interruption error (exit 128 + the signal) and returns
 * -1. */
struct error;
int signals_error(struct error *err);

#endif
