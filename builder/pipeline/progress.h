#ifndef BUILDER_PROGRESS_H
#define BUILDER_PROGRESS_H

/*
 * The one printer of layer progress: pulls (cache images, base images
 * inside a classic build) and pushes. jstream decodes each status message
 * into a struct jstream_event and hands it here (jstream_on_event with
 * progress_event and a struct progress).
 *
 * What is printed, all on stderr through util/log.h (so --quiet silences
 * all of it, and stdout keeps only build and test output and the pushed
 * reference):
 * - one line "<id>: <status>" each time a layer changes state;
 * - one line for each message about the whole image (no id), a message
 *   repeated at once printed once;
 * - byte counts ("Pushing", "Downloading", "Extracting" with current/total)
 *   only on a terminal (stderr a TTY): one live line, redrawn in place and
 *   cleared by the next line. In CI, where stderr is a file or a pipe, a
 *   state is printed once however many counts follow.
 * At most PROGRESS_LAYERS_MAX layers are remembered; the states of further
 * layers are printed without that de-duplication rather than grow memory.
 */

#include <stddef.h>

struct jstream_event;

#define PROGRESS_LAYERS_MAX 512

struct progress_layer {
	char id[72];
	char status[64];
};

struct progress {
	int tty; /* redraw byte counts in place */
	struct progress_layer *layers; /* allocated on first use */
	size_t nr_layers;
	char last[256]; /* the last message about the whole image */
};

/* tty: whether stderr is a terminal (progress_init asks isatty). */
void progress_init(struct progress *p);
void progress_init_tty(struct progress *p, int tty);

/* A jstream_event_fn; ctx is the struct progress. */
void progress_event(const struct jstream_event *ev, void *ctx);

/* Clears a live line, before output of another kind (build output on
 * stdout). */
void progress_end(struct progress *p);

void progress_release(struct progress *p);

#endif
