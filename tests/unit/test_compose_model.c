/*
 * The compose model (builder/compose/compose.c over yamldoc.c): every key
 * form of the subset, anchors and merge keys, errors naming key and line,
 * the sut closure and start order, test file discovery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compose/compose.h"
#include "compose/yamldoc.h"
#include "unit.h"
#include "util/log.h"

static char tmp[64];
static char path[128]; /* tmp/docker-compose.test.yml */

static const char *lookup(const char *name, void *ctx)
{
	(void)ctx;
	if (!strcmp(name, "IMAGE_NAME"))
		return "reg.example/app:1";
	if (!strcmp(name, "FROM_ENV"))
		return "env-value";
	if (!strcmp(name, "PORT"))
		return "8080";
	return NULL;
}

static struct compose_file *parse(const char *text, struct error *err)
{
	struct compose_options opt = COMPOSE_OPTIONS_INIT;
	struct compose_file *cf = NULL;

	opt.lookup = lookup;
	opt.context_dir = tmp;
	opt.quiet = 1;
	if (compose_parse(&cf, path, text, strlen(text), &opt, err) < 0) {
		CHECK(cf == NULL);
		return NULL;
	}
	return cf;
}

static void write_file(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static const char *env_of(const struct compose_service *s, const char *key)
{
	size_t i, n = strlen(key);

	for (i = 0; i < s->environment.n; i++)
		if (!strncmp(s->environment.v[i], key, n) &&
		    s->environment.v[i][n] == '=')
			return s->environment.v[i] + n + 1;
	return NULL;
}

/* --- YAML: anchors, merge keys ----------------------------------------- */

static void test_yaml_anchors_and_merge(void)
{
	static const char text[] = "x-base: &base\n"
				   "  image: busybox\n"
				   "  environment:\n"
				   "    A: base\n"
				   "    B: base\n"
				   "x-more: &more\n"
				   "  user: nobody\n"
				   "  image: other\n"
				   "services:\n"
				   "  sut:\n"
				   "    <<: *base\n"
				   "    environment:\n"
				   "      A: own\n"
				   "    command: [\"true\"]\n"
				   "  db:\n"
				   "    <<: [*base, *more]\n"
				   "  cache:\n"
				   "    image: explicit\n"
				   "    <<: *more\n"
				   "  env:\n"
				   "    image: busybox\n"
				   "    environment: &env\n"
				   "      X: \"1\"\n"
				   "  env2:\n"
				   "    image: busybox\n"
				   "    environment: *env\n";
	struct error err = ERROR_INIT;
	struct compose_file *cf = parse(text, &err);
	const struct compose_service *s;

	CHECK(cf != NULL);
	if (!cf) {
		fprintf(stderr, "%s\n", err.msg);
		return;
	}
	CHECK(cf->nservices == 5);
	s = compose_service(cf, "sut");
	CHECK_STR(s->image, "busybox");
	/* the merge is shallow: sut's own environment replaces base's */
	CHECK_STR(env_of(s, "A"), "own");
	CHECK(env_of(s, "B") == NULL);
	s = compose_service(cf, "db");
	CHECK_STR(s->image, "busybox"); /* earlier merge wins */
	CHECK_STR(s->user, "nobody");
	CHECK_STR(env_of(s, "B"), "base");
	s = compose_service(cf, "cache");
	CHECK_STR(s->image, "explicit"); /* explicit key wins, wherever */
	CHECK_STR(s->user, "nobody");
	s = compose_service(cf, "env2");
	CHECK_STR(env_of(s, "X"), "1");
	compose_free(cf);
}

static void test_yaml_tree(void)
{
	struct error err = ERROR_INIT;
	struct ynode *doc = NULL;
	static const char text[] = "a: 1\n'<<': quoted\nb: [x, 'y', ~, null]\n"
				   "c: |\n  block\n";

	CHECK(yamldoc_parse(&doc, text, sizeof(text) - 1, "t", &err) == 0);
	if (!doc)
		return;
	CHECK(doc->kind == YNODE_MAP && doc->n == 4);
	CHECK_STR(ynode_get(doc, "<<")->value, "quoted");
	CHECK(ynode_get(doc, "b")->n == 4);
	CHECK(!ynode_is_null(ynode_get(doc, "b")->items[1]));
	CHECK(ynode_is_null(ynode_get(doc, "b")->items[2]));
	CHECK(ynode_is_null(ynode_get(doc, "b")->items[3]));
	CHECK_STR(ynode_get(doc, "c")->value, "block\n");
	CHECK(ynode_get(doc, "c")->line == 4);
	ynode_free(doc);
	/* billion laughs: refused, not expanded */
	{
		struct buf_s {
			char t[2048];
		} b;
		size_t len = 0;
		int i;

		len += (size_t)snprintf(b.t + len, sizeof(b.t) - len,
					"a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n");
		for (i = 1; i < 12; i++)
			len += (size_t)snprintf(
				b.t + len, sizeof(b.t) - len,
				"a%d: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,"
				"*a%d,*a%d,*a%d,*a%d]\n",
				i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
				i - 1, i - 1, i - 1, i - 1);
		err_clear(&err);
		doc = NULL;
		CHECK(yamldoc_parse(&doc, b.t, len, "laughs", &err) == -1);
		CHECK(doc == NULL);
		CHECK(strstr(err.msg, "aliases") != NULL);
	}
}

/* --- every key form ------------------------------------------------------ */

static void test_key_forms(void)
{
	static const char text[] =
		"version: '2.4'\n"
		"volumes:\n"
		"  dbdata:\n"
		"  other: {}\n"
		"services:\n"
		"  sut:\n"
		"    build: .\n"
		"    command: sh -c 'echo \"hi there\"' a\\ b\n"
		"    entrypoint: /bin/entry\n"
		"    environment:\n"
		"      - LIST=1\n"
		"      - FROM_ENV\n"
		"      - NOT_SET\n"
		"      - EQ=a=b\n"
		"    env_file: test.env\n"
		"    depends_on: [db]\n"
		"    working_dir: /src\n"
		"    user: '1000:1000'\n"
		"    tmpfs: /run\n"
		"    extra_hosts: ['host.a:10.0.0.1', 'host.b=10.0.0.2']\n"
		"    labels: [a=1, b]\n"
		"    volumes:\n"
		"      - ./data:/data:ro\n"
		"      - dbdata:/var/lib/db\n"
		"      - /anon\n"
		"      - type: bind\n"
		"        source: .\n"
		"        target: /ctx\n"
		"        read_only: true\n"
		"  db:\n"
		"    image: ${IMAGE_NAME}\n"
		"    build:\n"
		"      context: ./sub/..\n"
		"      dockerfile: Dockerfile.db\n"
		"      args:\n"
		"        V: 1\n"
		"        FROM_ENV:\n"
		"      target: test\n"
		"    command: [\"a b\", c]\n"
		"    entrypoint: []\n"
		"    environment:\n"
		"      MAP: value\n"
		"      NUM: 5\n"
		"      FROM_ENV:\n"
		"      NOT_SET:\n"
		"      PORT: \"$PORT\"\n"
		"    depends_on:\n"
		"      cache:\n"
		"        condition: service_healthy\n"
		"      init:\n"
		"        condition: service_completed_successfully\n"
		"    tmpfs: [/tmp, '/x:size=1m']\n"
		"    extra_hosts:\n"
		"      host.c: 10.0.0.3\n"
		"    labels:\n"
		"      io.x: y\n"
		"      empty:\n"
		"    healthcheck:\n"
		"      test: [\"CMD\", \"pg_isready\"]\n"
		"      interval: 1m30s\n"
		"      timeout: 500ms\n"
		"      start_period: 2s\n"
		"      retries: 5\n"
		"  cache:\n"
		"    image: redis\n"
		"    healthcheck:\n"
		"      test: redis-cli ping\n"
		"  init:\n"
		"    image: busybox\n"
		"    healthcheck:\n"
		"      disable: true\n";
	struct error err = ERROR_INIT;
	struct compose_file *cf;
	const struct compose_service *s;

	write_file("test.env", "# comment\n\nFILE=f\nexport EXP=e\n"
			       "LIST=from-file\nQ=\"quoted\"\nFROM_ENV\n");
	cf = parse(text, &err);
	CHECK(cf != NULL);
	if (!cf) {
		fprintf(stderr, "%s\n", err.msg);
		return;
	}
	s = compose_service(cf, "sut");
	CHECK(s->has_build && !s->image);
	CHECK_STR(s->build_context, tmp);
	CHECK(s->build_dockerfile == NULL);
	CHECK(s->has_command && s->command.n == 4);
	CHECK_STR(s->command.v[0], "sh");
	CHECK_STR(s->command.v[1], "-c");
	CHECK_STR(s->command.v[2], "echo \"hi there\"");
	CHECK_STR(s->command.v[3], "a b");
	CHECK(s->has_entrypoint && s->entrypoint.n == 1);
	CHECK_STR(env_of(s, "LIST"), "1"); /* environment over env_file */
	CHECK_STR(env_of(s, "FROM_ENV"), "env-value");
	CHECK(env_of(s, "NOT_SET") == NULL);
	CHECK_STR(env_of(s, "EQ"), "a=b");
	CHECK_STR(env_of(s, "FILE"), "f");
	CHECK_STR(env_of(s, "EXP"), "e");
	CHECK_STR(env_of(s, "Q"), "quoted");
	CHECK(s->ndeps == 1 && s->deps[0].condition == COMPOSE_STARTED);
	CHECK_STR(s->working_dir, "/src");
	CHECK_STR(s->user, "1000:1000");
	CHECK(s->tmpfs.n == 1);
	CHECK(s->extra_hosts.n == 2);
	CHECK_STR(s->extra_hosts.v[1], "host.b:10.0.0.2");
	CHECK(s->labels.n == 2);
	CHECK_STR(s->labels.v[1], "b=");
	CHECK(s->nmounts == 4);
	if (s->nmounts == 4) {
		CHECK(s->mounts[0].kind == COMPOSE_MOUNT_BIND);
		CHECK_STR(s->mounts[0].context_path, "data");
		CHECK_STR(s->mounts[0].target, "/data");
		CHECK(s->mounts[0].read_only);
		CHECK(s->mounts[1].kind == COMPOSE_MOUNT_VOLUME);
		CHECK_STR(s->mounts[1].source, "dbdata");
		CHECK(s->mounts[2].kind == COMPOSE_MOUNT_ANON);
		CHECK(s->mounts[3].kind == COMPOSE_MOUNT_BIND);
		CHECK_STR(s->mounts[3].context_path, ".");
		CHECK(s->mounts[3].read_only);
	}
	CHECK(compose_builds_same_image(s, tmp, NULL, NULL));
	CHECK(compose_builds_same_image(s, tmp, "./Dockerfile", NULL));
	CHECK(!compose_builds_same_image(s, tmp, "Dockerfile.other", NULL));
	CHECK(!compose_builds_same_image(s, tmp, NULL, "prod"));

	s = compose_service(cf, "db");
	CHECK_STR(s->image, "reg.example/app:1");
	CHECK_STR(s->build_context, tmp);
	CHECK_STR(s->build_dockerfile, "Dockerfile.db");
	CHECK_STR(s->build_target, "test");
	CHECK(s->build_args.n == 2);
	CHECK_STR(s->build_args.v[1], "FROM_ENV=env-value");
	CHECK(s->command.n == 2);
	CHECK_STR(s->command.v[0], "a b");
	CHECK(s->has_entrypoint && s->entrypoint.n == 0);
	CHECK_STR(env_of(s, "MAP"), "value");
	CHECK_STR(env_of(s, "NUM"), "5");
	CHECK_STR(env_of(s, "FROM_ENV"), "env-value");
	CHECK(env_of(s, "NOT_SET") == NULL);
	CHECK_STR(env_of(s, "PORT"), "8080");
	CHECK(s->ndeps == 2);
	CHECK(s->deps[0].condition == COMPOSE_HEALTHY);
	CHECK(s->deps[1].condition == COMPOSE_COMPLETED);
	CHECK(s->tmpfs.n == 2);
	CHECK_STR(s->extra_hosts.v[0], "host.c:10.0.0.3");
	CHECK_STR(s->labels.v[1], "empty=");
	CHECK(s->healthcheck.present && !s->healthcheck.disable);
	CHECK(s->healthcheck.test.n == 2);
	CHECK(s->healthcheck.interval_ns == 90000000000LL);
	CHECK(s->healthcheck.timeout_ns == 500000000LL);
	CHECK(s->healthcheck.start_period_ns == 2000000000LL);
	CHECK(s->healthcheck.retries == 5);
	CHECK(!compose_builds_same_image(s, tmp, "Dockerfile.db", "test"));

	s = compose_service(cf, "cache");
	CHECK(s->healthcheck.test.n == 2);
	CHECK_STR(s->healthcheck.test.v[0], "CMD-SHELL");
	CHECK_STR(s->healthcheck.test.v[1], "redis-cli ping");
	CHECK(compose_service(cf, "init")->healthcheck.disable);
	CHECK(cf->warnings.n == 0);
	compose_free(cf);
}

static void test_v1_format_and_links(void)
{
	static const char text[] = "sut:\n"
				   "  build: .\n"
				   "  dockerfile: Dockerfile.test\n"
				   "  command: ./run_tests.sh\n"
				   "  links:\n"
				   "    - web:app\n"
				   "web:\n"
				   "  build: .\n";
	struct error err = ERROR_INIT;
	struct compose_file *cf = parse(text, &err);
	const struct compose_service *s;

	CHECK(cf != NULL);
	if (!cf) {
		fprintf(stderr, "%s\n", err.msg);
		return;
	}
	CHECK(cf->nservices == 2);
	s = compose_service(cf, "sut");
	CHECK_STR(s->build_dockerfile, "Dockerfile.test");
	CHECK(s->ndeps == 1);
	CHECK_STR(s->deps[0].service, "web");
	CHECK_STR(s->deps[0].alias, "app");
	compose_free(cf);
}

static void test_warnings(void)
{
	static const char text[] = "services:\n"
				   "  sut:\n"
				   "    image: busybox\n"
				   "    container_name: fixed\n"
				   "    restart: always\n"
				   "    ports: ['80:80']\n"
				   "    networks: [front]\n"
				   "    command: echo $UNSET_VAR\n"
				   "networks:\n"
				   "  front:\n";
	struct error err = ERROR_INIT;
	struct compose_file *cf = parse(text, &err);

	CHECK(cf != NULL);
	if (!cf)
		return;
	CHECK(cf->warnings.n == 6);
	if (cf->warnings.n == 6) {
		CHECK(strstr(cf->warnings.v[0], "UNSET_VAR") != NULL);
		/* the top level is read before the services */
		CHECK(strstr(cf->warnings.v[1], "line 9") != NULL);
		CHECK(strstr(cf->warnings.v[2], "line 4") != NULL);
		CHECK(strstr(cf->warnings.v[2], "container_name") != NULL);
		CHECK(strstr(cf->warnings.v[5], "line 7") != NULL);
	}
	compose_free(cf);
}

/* --- errors: key and line ---------------------------------------------------
 */

struct ecase {
	const char *text;
	const char *want1, *want2; /* substrings of the message */
};

static const struct ecase errors[] = {
	{ "services:\n  sut:\n    image: x\n    privileged: true\n", "line 4",
	  "'services.sut.privileged' is not supported" },
	{ "services:\n  sut:\n    image: x\n    cap_add: [NET_ADMIN]\n",
	  "line 4", "cap_add" },
	{ "services:\n  sut:\n    image: x\nsecrets:\n  a: {}\n", "line 4",
	  "top-level 'secrets'" },
	{ "services:\n  sut:\n    build:\n      context: .\n      network: "
	  "host\n",
	  "line 5", "'services.sut.build.network'" },
	{ "services:\n  sut:\n    image: x\n    healthcheck:\n"
	  "      interval: soon\n",
	  "line 5", "not a duration" },
	{ "services:\n  sut:\n    image: x\n    depends_on:\n      db:\n"
	  "        condition: service_ready\n",
	  "line 6", "unknown condition 'service_ready'" },
	{ "services:\n  sut:\n    image: x\n    depends_on: [db]\n", "line 4",
	  "'db', which is not defined" },
	{ "services:\n  sut:\n    image: x\n    volumes: ['../up:/x']\n",
	  "line 4", "outside the build context" },
	{ "services:\n  sut:\n    image: x\n    volumes: ['/etc:/x']\n",
	  "line 4", "outside the build context" },
	{ "services:\n  sut:\n    image: x\n    volumes: ['~/x:/x']\n",
	  "line 4", "outside the build context" },
	{ "services:\n  sut:\n    image: x\n    volumes: ['data:/x']\n",
	  "line 4", "'data' is not declared" },
	{ "services:\n  sut:\n    image: x\n    volumes: ['./a:rel']\n",
	  "line 4", "must be an absolute path" },
	{ "services:\n  sut:\n    image: x\n    volumes: ['./a:/a:rw,fast']\n",
	  "line 4", "unknown mount mode 'fast' in './a:/a:rw,fast'" },
	{ "services:\n  sut:\n    image: x\n    links:\n      - db\n"
	  "      - {a: b}\n",
	  "line 6", "'services.sut.links' must be a list of strings" },
	{ "services:\n  sut:\n    image: x\n    command: 'echo \"hi'\n",
	  "line 4", "quote is not closed" },
	{ "services:\n  sut:\n    image: x\n    command: echo ${A:?set A}\n",
	  "line 4", "required variable 'A'" },
	{ "services:\n  sut:\n    image: x\n    command: echo $1\n", "line 4",
	  "'services.sut.command'" },
	{ "services:\n  sut:\n    image: x\n    environment:\n      - A=1\n"
	  "      - [x]\n",
	  "line 6", "list of strings" },
	{ "services:\n  sut:\n    command: x\n", "line 3",
	  "neither 'image' nor 'build'" },
	{ "services:\n  sut:\n    image: x\n    image: y\n", "line 4",
	  "defined twice (first on line 3)" },
	{ "services:\n  sut:\n    image: [x\n", "line 4", "YAML error" },
	{ "services:\n  sut:\n    <<: *nope\n", "line 3", "YAML error" },
	{ "services:\n  sut:\n    <<: plain\n", "line 3", "merge key" },
	{ "services:\n  sut:\n    image: x\n    env_file: missing.env\n",
	  "line 4", "missing.env" },
	{ "services:\n  sut:\n    build: https://example.com/r.git\n", "line 3",
	  "remote build contexts" },
	{ "- a\n- b\n", "line 1", "mapping of services" },
	{ "version: '3'\n", "line 1", "no services" },
	{ "a: &a\n  b: *a\n", "line 2", "refers to its own anchor" },
};

static void test_errors(void)
{
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(*errors); i++) {
		struct error err = ERROR_INIT;
		struct compose_file *cf = parse(errors[i].text, &err);

		CHECK(cf == NULL);
		compose_free(cf);
		CHECK(err.code == EXIT_USAGE);
		if (!strstr(err.msg, errors[i].want1) ||
		    !strstr(err.msg, errors[i].want2)) {
			fprintf(stderr, "case %zu: got '%s'\n", i, err.msg);
			CHECK(0);
		}
		CHECK(strstr(err.msg, "docker-compose.test.yml") != NULL);
	}
}

/* --- closure and order -----------------------------------------------------
 */

struct ocase {
	const char *text;
	const char *want; /* service names in start order, or NULL: error */
};

static const struct ocase orders[] = {
	{ "sut: {image: x}\n", "sut" },
	{ "sut: {image: x, depends_on: [b, a]}\na: {image: x}\n"
	  "b: {image: x}\nunused: {image: x}\n",
	  "b a sut" },
	/* transitive, each once, dependencies first */
	{ "sut: {image: x, depends_on: [app]}\n"
	  "app: {image: x, depends_on: [db, cache]}\n"
	  "db: {image: x}\ncache: {image: x, depends_on: [db]}\n"
	  "other: {image: x, depends_on: [sut]}\n",
	  "db cache app sut" },
	{ "sut: {image: x, links: ['db:database']}\ndb: {image: x}\n",
	  "db sut" },
	{ "sut: {image: x, depends_on: [a]}\na: {image: x, depends_on: "
	  "[sut]}\n",
	  NULL },
	{ "app: {image: x}\n", NULL },
};

static void test_sut_order(void)
{
	size_t i, j;

	for (i = 0; i < sizeof(orders) / sizeof(*orders); i++) {
		struct error err = ERROR_INIT;
		struct compose_file *cf = parse(orders[i].text, &err);
		size_t *order = NULL, n = 0;
		char got[256] = "";

		CHECK(cf != NULL);
		if (!cf) {
			fprintf(stderr, "case %zu: %s\n", i, err.msg);
			continue;
		}
		if (compose_sut_order(cf, &order, &n, &err) < 0) {
			CHECK(orders[i].want == NULL);
			CHECK(err.code == EXIT_USAGE);
			CHECK(order == NULL);
		} else {
			for (j = 0; j < n; j++)
				snprintf(got + strlen(got),
					 sizeof(got) - strlen(got), "%s%s",
					 j ? " " : "",
					 cf->services[order[j]].name);
			CHECK_STR(got, orders[i].want);
		}
		free(order);
		compose_free(cf);
	}
}

/* --- small grammars and discovery --------------------------------------------
 */

static void test_durations(void)
{
	static const struct {
		const char *s;
		long long ns; /* -1: invalid */
	} d[] = {
		{ "0", 0 },
		{ "10s", 10000000000LL },
		{ "1m30s", 90000000000LL },
		{ "1.5s", 1500000000LL },
		{ "500ms", 500000000LL },
		{ "2h", 7200000000000LL },
		{ "1us", 1000 },
		{ "10", -1 },
		{ "", -1 },
		{ "s", -1 },
		{ "1x", -1 },
		{ "-1s", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(d) / sizeof(*d); i++) {
		long long ns = -2;
		int rc = compose_duration(d[i].s, &ns);

		if (d[i].ns < 0) {
			CHECK(rc == -1);
		} else {
			CHECK(rc == 0);
			CHECK(ns == d[i].ns);
		}
	}
}

static void test_find_tests(void)
{
	char dir[128];
	struct strlist l = STRLIST_INIT;
	struct error err = ERROR_INIT;

	snprintf(dir, sizeof(dir), "%s/find", tmp);
	CHECK(mkdir(dir, 0700) == 0);
	write_file("find/b.test.yml", "");
	write_file("find/a.test.yml", "");
	write_file("find/docker-compose.test.yml", "");
	write_file("find/docker-compose.yml", "");
	write_file("find/test.yml", "");
	write_file("find/c.test.yaml", "");
	snprintf(path, sizeof(path), "%s/find/d.test.yml", tmp);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof(path), "%s/docker-compose.test.yml", tmp);
	CHECK(compose_find_tests(dir, &l, &err) == 0);
	CHECK(l.n == 3);
	if (l.n == 3) {
		CHECK(strstr(l.v[0], "/find/docker-compose.test.yml") != NULL);
		CHECK(strstr(l.v[1], "/find/a.test.yml") != NULL);
		CHECK(strstr(l.v[2], "/find/b.test.yml") != NULL);
	}
	strlist_clear(&l);
}

int main(void)
{
	char cmd[128];
	int rc;

	snprintf(tmp, sizeof(tmp), "/tmp/compose-unit-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	snprintf(path, sizeof(path), "%s/docker-compose.test.yml", tmp);
	snprintf(cmd, sizeof(cmd), "%s/data", tmp);
	mkdir(cmd, 0700);
	log_set_level(LOG_QUIET);
	RUN(test_yaml_anchors_and_merge);
	RUN(test_yaml_tree);
	RUN(test_key_forms);
	RUN(test_v1_format_and_links);
	RUN(test_warnings);
	RUN(test_errors);
	RUN(test_sut_order);
	RUN(test_durations);
	RUN(test_find_tests);
	rc = unit_summary();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
