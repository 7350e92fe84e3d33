/*
 * Signal flag; see signals.h.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"
#include "util/signals.h"
#include "util/banned.h"

static volatile sig_atomic_t pending;
/* Written once, by the handler of the first signal, before pending is
 * set; read only after pending is seen set. */
static struct timespec first_at;
/* Set before the pipeline starts, read by the handler. */
static char exit_hint[256];
static volatile sig_atomic_t exit_hint_len;

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGHUP:
		return "SIGHUP";
	case SIGINT:
		return "SIGINT";
	case SIGQUIT:
		return "SIGQUIT";
	default:
		return "SIGTERM";
	}
}

static void on_signal(int sig)
{
	if (pending) {
		/* Second signal: the user does not want to wait for the
		 * cleanup. Only async-signal-safe calls here. */
		static const char head[] = "builder: error: interrupted by ";
		const char *name = signal_name(pending);

		if (write(STDERR_FILENO, head, sizeof(head) - 1) < 0 ||
		    write(STDERR_FILENO, name, strlen(name)) < 0 ||
		    write(STDERR_FILENO, exit_hint_len ? exit_hint : "\n",
			  exit_hint_len ? (size_t)exit_hint_len : 1) < 0)
			exit_hint_len = 0;
		_exit(128 + pending);
	}
	clock_gettime(CLOCK_MONOTONIC, &first_at);
	pending = sig;
}

void signals_install(void)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int signals_pending(void)
{
	return pending;
}

double signals_deadline(void)
{
	if (!pending)
		return 0;
	return (double)first_at.tv_sec + (double)first_at.tv_nsec / 1e9 +
	       SIGNAL_CLEANUP_S;
}

void signals_set_exit_hint(const char *line)
{
	int n;

	exit_hint_len = 0;
	n = snprintf(exit_hint, sizeof(exit_hint) - 1, "; %s", line);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(exit_hint) - 2)
		n = (int)sizeof(exit_hint) - 2;
	exit_hint[n++] = '\n';
	exit_hint_len = n;
}

int signals_error(struct error *err)
{
	int sig = pending ? pending : SIGTERM;

	return err_set(err, 128 + sig, "interrupted by %s", signal_name(sig));
}
