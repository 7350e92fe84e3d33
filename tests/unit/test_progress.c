/*
 * The progress printer (pipeline/progress.c) and the typed events jstream
 * hands it: what a CI log, a terminal and --quiet each get from the same
 * pull or push messages. stderr is captured in a temporary file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine/jstream.h"
#include "pipeline/progress.h"
#include "util/log.h"
#include "unit.h"

static const struct {
	const char *json;
	int is_event;
	const char *id, *status;
	long long current, total;
} events[] = {
	{ "{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"0a1b\"}", 1,
	  "0a1b", "Preparing", -1, -1 },
	{ "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":512,"
	  "\"total\":2048},\"progress\":\"[=> ]\",\"id\":\"0a1b\"}",
	  1, "0a1b", "Pushing", 512, 2048 },
	/* An unknown total is 0 or absent. */
	{ "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":7,"
	  "\"total\":0},\"id\":\"c\"}",
	  1, "c", "Extracting", 7, -1 },
	{ "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1e300},"
	  "\"id\":\"c\"}",
	  1, "c", "Downloading", -1, -1 },
	{ "{\"status\":\"1: digest: sha256:ab size: 527\"}", 1, NULL,
	  "1: digest: sha256:ab size: 527", -1, -1 },
	{ "{\"status\":\"x\",\"id\":\"\"}", 1, NULL, "x", -1, -1 },
	{ "{\"status\":\"\"}", 0, NULL, NULL, -1, -1 },
	{ "{\"stream\":\"Step 1/2\\n\"}", 0, NULL, NULL, -1, -1 },
	{ "{\"aux\":{\"ID\":\"sha256:ab\"}}", 0, NULL, NULL, -1, -1 },
	{ "{\"status\":3}", 0, NULL, NULL, -1, -1 },
};

static void test_event_of(void)
{
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		cJSON *msg = cJSON_Parse(events[i].json);
		struct jstream_event ev;

		CHECK(msg);
		CHECK(jstream_event_of(msg, &ev) == events[i].is_event);
		if (events[i].is_event) {
			CHECK_STR(ev.id, events[i].id);
			CHECK_STR(ev.status, events[i].status);
			CHECK(ev.current == events[i].current);
			CHECK(ev.total == events[i].total);
		}
		cJSON_Delete(msg);
	}
}

/* A push as the engine streams it, messages one a line. */
static const char push_stream[] =
	"{\"status\":\"The push refers to repository [r/a]\"}\r\n"
	"{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"l1\"}\r\n"
	"{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"l2\"}\r\n"
	"{\"status\":\"Waiting\",\"progressDetail\":{},\"id\":\"l1\"}\r\n"
	"{\"status\":\"Pushing\",\"progressDetail\":{\"current\":1000000,"
	"\"total\":3000000},\"id\":\"l1\"}\r\n"
	"{\"status\":\"Pushing\",\"progressDetail\":{\"current\":2000000,"
	"\"total\":3000000},\"id\":\"l1\"}\r\n"
	"{\"status\":\"Layer already exists\",\"progressDetail\":{},"
	"\"id\":\"l2\"}\r\n"
	"{\"status\":\"Pushed\",\"progressDetail\":{},\"id\":\"l1\"}\r\n"
	"{\"status\":\"1: digest: sha256:ab size: 527\"}\r\n"
	"{\"status\":\"1: digest: sha256:ab size: 527\"}\r\n"
	"{\"progressDetail\":{},\"aux\":{\"Tag\":\"1\",\"Digest\":\"sha256:"
	"ab\",\"Size\":527}}\r\n";

/* What stderr received while the stream went through a progress printer
 * with the given tty flag and log level; caller frees. */
static char *printed(int tty, enum log_level level)
{
	struct progress p;
	struct jstream js;
	struct error err = ERROR_INIT;
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *out = calloc(1, 8192);
	size_t n;

	fflush(stderr);
	dup2(fileno(f), STDERR_FILENO);
	log_set_level(level);
	progress_init_tty(&p, tty);
	jstream_init(&js, NULL, NULL);
	jstream_on_event(&js, progress_event, &p);
	CHECK(jstream_feed(&js, push_stream, strlen(push_stream), &err) == 0);
	CHECK(jstream_finish(&js, &err) == 0);
	progress_release(&p);
	jstream_release(&js);
	log_set_level(LOG_NORMAL);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(out, 1, 8191, f);
	out[n] = '\0';
	fclose(f);
	return out;
}

static void test_ci_lines(void)
{
	char *out = printed(0, LOG_NORMAL);

	/* One line per layer and state, no byte counts, no repeats. */
	CHECK_STR(out, "    The push refers to repository [r/a]\n"
		       "    l1: Preparing\n"
		       "    l2: Preparing\n"
		       "    l1: Waiting\n"
		       "    l1: Pushing\n"
		       "    l2: Layer already exists\n"
		       "    l1: Pushed\n"
		       "    1: digest: sha256:ab size: 527\n");
	free(out);
}

static void test_tty_redraw(void)
{
	char *out = printed(1, LOG_NORMAL);

	/* The byte counts redraw one line, which the next line clears. */
	CHECK_STR(out, "    The push refers to repository [r/a]\n"
		       "    l1: Preparing\n"
		       "    l2: Preparing\n"
		       "    l1: Waiting\n"
		       "\r    l1: Pushing 1.0/3.0 MB\033[K"
		       "\r    l1: Pushing 2.0/3.0 MB\033[K"
		       "\r\033[K    l2: Layer already exists\n"
		       "    l1: Pushed\n"
		       "    1: digest: sha256:ab size: 527\n");
	free(out);
}

static void test_quiet(void)
{
	char *out = printed(1, LOG_QUIET);

	CHECK_STR(out, "");
	free(out);
	out = printed(0, LOG_QUIET);
	CHECK_STR(out, "");
	free(out);
}

/* Past the table's ceiling, states are printed without de-duplication
 * rather than remembered. */
static void test_many_layers(void)
{
	struct progress p;
	struct jstream_event ev = { NULL, "Waiting", -1, -1 };
	char id[32];

	log_set_level(LOG_QUIET);
	progress_init_tty(&p, 0);
	for (int i = 0; i < PROGRESS_LAYERS_MAX + 10; i++) {
		snprintf(id, sizeof(id), "layer%d", i);
		ev.id = id;
		progress_event(&ev, &p);
	}
	CHECK(p.nr_layers == PROGRESS_LAYERS_MAX);
	progress_release(&p);
	log_set_level(LOG_NORMAL);
}

int main(void)
{
	RUN(test_event_of);
	RUN(test_ci_lines);
	RUN(test_tty_redraw);
	RUN(test_quiet);
	RUN(test_many_layers);
	return unit_summary();
}
