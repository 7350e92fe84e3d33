/*
 * libFuzzer target for builder/compose/: the input is a compose test file.
 * It is read by compose_parse (yamldoc.c's YAML reader, interp.c's
 * interpolation, the model), then the sut closure is computed; the input is
 * also interpolated as a single string. A failure must leave nothing
 * behind and say why with exit code 2; a success must give a start order
 * that ends with sut and lists each service at most once.
 *
 *	bash tests/fuzz/run.sh        (FUZZ_TARGETS=compose)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose/compose.h"
#include "compose/interp.h"
#include "util/log.h"
#include "util/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup(const char *name, void *ctx)
{
	(void)ctx;
	if (!strcmp(name, "IMAGE_NAME"))
		return "reg.example/app:1";
	if (!strcmp(name, "EMPTY"))
		return "";
	if (name[0] == 'S')
		return "$S${S}";
	return NULL;
}

static void check_parse(const char *text, size_t size)
{
	struct compose_options opt = COMPOSE_OPTIONS_INIT;
	struct compose_file *cf = NULL;
	struct error err = ERROR_INIT;
	size_t *order = NULL, n = 0, i, j;

	opt.lookup = lookup;
	opt.context_dir = "/nonexistent-fuzz-ctx";
	opt.quiet = 1;
	if (compose_parse(&cf, "/nonexistent-fuzz-ctx/docker-compose.test.yml",
			  text, size, &opt, &err) < 0) {
		if (cf || err.code != EXIT_USAGE || !err.msg[0])
			abort();
		return;
	}
	if (compose_sut_order(cf, &order, &n, &err) < 0) {
		if (order || n || err.code != EXIT_USAGE || !err.msg[0])
			abort();
	} else {
		if (!n || n > cf->nservices ||
		    strcmp(cf->services[order[n - 1]].name, "sut"))
			abort();
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (order[i] == order[j])
					abort();
	}
	for (i = 0; i < cf->nservices; i++) {
		const struct compose_service *s = &cf->services[i];

		if (!s->image && !s->has_build)
			abort();
		for (j = 0; j < s->nmounts; j++)
			if (s->mounts[j].kind == COMPOSE_MOUNT_BIND &&
			    strncmp(s->mounts[j].source,
				    "/nonexistent-fuzz-ctx", 21))
				abort();
		compose_builds_same_image(s, "/nonexistent-fuzz-ctx", NULL,
					  NULL);
	}
	free(order);
	compose_free(cf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size), *out = NULL;
	struct error err = ERROR_INIT;
	struct strlist unset = STRLIST_INIT;

	log_set_level(LOG_QUIET);
	check_parse((const char *)data, size);
	if (interp_string(s, lookup, NULL, &out, &unset, &err) < 0) {
		if (out || err.code != EXIT_USAGE || !err.msg[0])
			abort();
	} else if (!out) {
		abort();
	}
	free(out);
	free(s);
	strlist_clear(&unset);
	return 0;
}
