/*
 * compose-dump FILE [CONTEXT_DIR]: reads a compose test file with
 * builder/compose/ and prints the model as JSON, the way
 * tests/e2e/16-compose-model.sh compares it with `docker-compose config`:
 * per service its image, build context, command, entrypoint, environment,
 * depends_on conditions and healthcheck test, then "start", the services
 * the sut closure starts, in order. Variables come from this process's
 * environment (a test tool: builder itself reads it only in config.c).
 * Exits with the error's code (2) and its message when the file is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "compose/compose.h"

static const char *env_lookup(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

static cJSON *list(const struct strlist *l)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < l->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
	return a;
}

int main(int argc, char **argv)
{
	static const char *const cond[] = { "service_started",
					    "service_healthy",
					    "service_completed_successfully" };
	struct compose_options opt = COMPOSE_OPTIONS_INIT;
	struct compose_file *cf = NULL;
	struct error err = ERROR_INIT;
	cJSON *root, *svcs, *start;
	size_t i, j, *order = NULL, n = 0;
	char *text;

	if (argc < 2) {
		fprintf(stderr, "usage: compose-dump FILE [CONTEXT_DIR]\n");
		return 2;
	}
	opt.lookup = env_lookup;
	opt.context_dir = argc > 2 ? argv[2] : NULL;
	opt.quiet = 1;
	if (compose_load(&cf, argv[1], &opt, &err) < 0 ||
	    compose_sut_order(cf, &order, &n, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		compose_free(cf);
		return err.code;
	}
	root = cJSON_CreateObject();
	svcs = cJSON_AddObjectToObject(root, "services");
	for (i = 0; i < cf->nservices; i++) {
		const struct compose_service *s = &cf->services[i];
		cJSON *o = cJSON_AddObjectToObject(svcs, s->name), *env, *deps;

		cJSON_AddItemToObject(o, "image",
				      s->image ? cJSON_CreateString(s->image)
					       : cJSON_CreateNull());
		cJSON_AddItemToObject(
			o, "build",
			s->has_build ? cJSON_CreateString(s->build_context)
				     : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "command",
				      s->has_command ? list(&s->command)
						     : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "entrypoint",
				      s->has_entrypoint ? list(&s->entrypoint)
							: cJSON_CreateNull());
		env = cJSON_AddObjectToObject(o, "environment");
		for (j = 0; j < s->environment.n; j++) {
			char *kv = strdup(s->environment.v[j]);
			char *eq = strchr(kv, '=');

			*eq = '\0';
			cJSON_AddStringToObject(env, kv, eq + 1);
			free(kv);
		}
		deps = cJSON_AddObjectToObject(o, "depends_on");
		for (j = 0; j < s->ndeps; j++)
			cJSON_AddStringToObject(deps, s->deps[j].service,
						cond[s->deps[j].condition]);
		cJSON_AddItemToObject(o, "healthcheck",
				      s->healthcheck.test.n
					      ? list(&s->healthcheck.test)
					      : cJSON_CreateNull());
	}
	start = cJSON_AddArrayToObject(root, "start");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(
			start, cJSON_CreateString(cf->services[order[i]].name));
	text = cJSON_Print(root);
	puts(text);
	free(text);
	cJSON_Delete(root);
	free(order);
	compose_free(cf);
	return 0;
}
