/*
 * Signal flag; see signals.h.
 */
#include <signal.h>
#include <string.h>

#include "util/error.h"
#include "util/signals.h"
#include "util/banned.h"

static volatile sig_atomic_t pending;

static void on_signal(int sig)
{
	if (!pending)
		pending = sig;
}

void signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int signals_pending(void)
{
	return pending;
}

int signals_error(struct error *err)
{
	int sig = pending ? pending : SIGTERM;

	return err_set(err, 128 + sig, "interrupted by %s",
		       sig == SIGINT ? "SIGINT" : "SIGTERM");
}
