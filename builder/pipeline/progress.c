/*
 * Layer progress of pulls and pushes; see progress.h. It calls no
 * endpoint: jstream decodes the engine's messages, this decides what a
 * reader sees. It lives in pipeline/ because presentation is the stages'
 * business and engine/ stays a transport and its decoders.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/jstream.h"
#include "pipeline/progress.h"
#include "util/log.h"
#include "util/xmalloc.h"
#include "util/banned.h"

void progress_init_tty(struct progress *p, int tty)
{
	memset(p, 0, sizeof(*p));
	p->tty = tty;
}

void progress_init(struct progress *p)
{
	progress_init_tty(p, isatty(STDERR_FILENO));
}

void progress_release(struct progress *p)
{
	if (!p)
		return;
	progress_end(p);
	free(p->layers);
	p->layers = NULL;
	p->nr_layers = 0;
}

void progress_end(struct progress *p)
{
	(void)p;
	log_live_end();
}

/* The remembered layer, added when new; NULL when the table is full. */
static struct progress_layer *layer(struct progress *p, const char *id)
{
	struct progress_layer *l;

	for (size_t i = 0; i < p->nr_layers; i++)
		if (!strcmp(p->layers[i].id, id))
			return &p->layers[i];
	if (p->nr_layers == PROGRESS_LAYERS_MAX)
		return NULL;
	if (!p->layers)
		p->layers = xcalloc(PROGRESS_LAYERS_MAX, sizeof(*p->layers));
	l = &p->layers[p->nr_layers++];
	snprintf(l->id, sizeof(l->id), "%s", id);
	l->status[0] = '\0';
	return l;
}

static void show_count(const struct jstream_event *ev)
{
	if (ev->total > 0)
		log_live("%s: %s %.1f/%.1f MB", ev->id, ev->status,
			 (double)ev->current / 1e6, (double)ev->total / 1e6);
	else
		log_live("%s: %s %.1f MB", ev->id, ev->status,
			 (double)ev->current / 1e6);
}

void progress_event(const struct jstream_event *ev, void *ctx)
{
	struct progress *p = ctx;
	struct progress_layer *l;

	if (!ev->id) {
		if (!strcmp(p->last, ev->status))
			return;
		snprintf(p->last, sizeof(p->last), "%s", ev->status);
		log_info("%s", ev->status);
		return;
	}
	l = layer(p, ev->id);
	if (l && !strcmp(l->status, ev->status)) {
		if (p->tty && ev->current >= 0)
			show_count(ev);
		return;
	}
	if (l)
		snprintf(l->status, sizeof(l->status), "%s", ev->status);
	/* On a terminal a state with a byte count is the live line alone;
	 * in CI its first event is the line. */
	if (p->tty && ev->current >= 0)
		show_count(ev);
	else
		log_info("%s: %s", ev->id, ev->status);
}
