/*
 * ignore_bench: how long the .dockerignore matcher takes per path.
 *
 * Compiles a realistic .dockerignore (the kind a Node, Python or Go
 * project carries: VCS and editor files, dependency and build directories,
 * "**" globs, exceptions) with ignore_parse(), then asks ignore_excluded()
 * about 100,000 context-relative paths generated deterministically (same
 * paths on every run and machine), ROUNDS times. Prints one line:
 *
 *	ignore paths=100000 patterns=N excluded=N ns_per_path=MEDIAN min=MIN max=MAX
 *
 * which bench/run.sh parses. The medians are over rounds, each round
 * timing the whole list, so timer overhead is amortized.
 *
 * With "--dump DIR" it also writes DIR/dockerignore and DIR/paths (one
 * path a line), so that bench/ignore_bench.go can time the docker CLI's
 * own matcher (moby/patternmatcher) on exactly the same input and check
 * that both exclude the same number of paths.
 *
 * Build (bench/run.sh does this, after `make bin/builder`):
 *	ar rcs libbuilder.a <every object in build/obj but main.o>
 *	cc -O2 -Ibuilder bench/ignore_bench.c libbuilder.a
 * The archive lets the linker take just ignore.o and what it calls
 * (buf.o, xmalloc.o, error.o and the regexp engine), however the sources
 * are split.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/error.h"
#include "context/ignore.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define NPATHS 100000
#define ROUNDS 11

static const char dockerignore[] =
	"# what a typical service repository keeps out of its image\n"
	".git\n"
	".gitignore\n"
	".github\n"
	".vscode\n"
	".idea\n"
	"*.swp\n"
	"**/.DS_Store\n"
	"node_modules\n"
	"**/node_modules\n"
	"npm-debug.log*\n"
	"**/*.log\n"
	"coverage\n"
	"dist/\n"
	"build/\n"
	"tmp/**\n"
	"**/__pycache__\n"
	"**/*.py[cod]\n"
	".env\n"
	".env.*\n"
	"!.env.example\n"
	"*.md\n"
	"!README.md\n"
	"docs/**/*.png\n"
	"!docs/images/logo.png\n"
	"vendor/*/testdata\n"
	"**/*_test.go\n"
	"Dockerfile*\n"
	"docker-compose*.yml\n"
	"**/*.tmp\n"
	"test?/fixtures\n";

static const char *const dirs[] = {
	"src", "lib", "internal", "cmd", "api", "pkg", "app", "web",
	"static", "assets", "docs", "tests", "vendor", "node_modules",
	"build", "dist", "tmp", "scripts", "config", "server", "client",
	"components", "utils", "models", "views", "handlers", "images",
	"__pycache__", "testdata", "fixtures", "test1", "core",
};

static const char *const files[] = {
	"index", "main", "app", "server", "util", "helpers", "config",
	"README", "CHANGELOG", "handler", "model", "view", "routes", "logo",
	"schema", "types", "client", "store", "Dockerfile", "package",
};

static const char *const exts[] = {
	".js", ".ts", ".go", ".py", ".pyc", ".md", ".json", ".log", ".png",
	".css", ".html", ".c", ".h", ".yml", "_test.go", ".tmp", "", ".txt",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
	/* xorshift64*: deterministic, good enough to spread the choices */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static char *make_path(void)
{
	char p[512];
	size_t len = 0;
	unsigned depth = next() % 7; /* 0..6 directories */
	unsigned i;

	for (i = 0; i < depth; i++) {
		int n = snprintf(p + len, sizeof(p) - len, "%s/",
				 dirs[next() % NELEM(dirs)]);
		len += (size_t)n;
	}
	snprintf(p + len, sizeof(p) - len, "%s%u%s",
		 files[next() % NELEM(files)], next() % 50,
		 exts[next() % NELEM(exts)]);
	return xstrdup(p);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int dump(const char *dir, char **paths)
{
	char name[4096];
	FILE *f;
	size_t i;

	snprintf(name, sizeof(name), "%s/dockerignore", dir);
	f = fopen(name, "w");
	if (!f || fputs(dockerignore, f) == EOF || fclose(f) == EOF)
		goto fail;
	snprintf(name, sizeof(name), "%s/paths", dir);
	f = fopen(name, "w");
	if (!f)
		goto fail;
	for (i = 0; i < NPATHS; i++)
		fprintf(f, "%s\n", paths[i]);
	if (fclose(f) == EOF)
		goto fail;
	return 0;
fail:
	perror(name);
	return -1;
}

int main(int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct ignore *ig = NULL;
	char **paths = NULL;
	double ns[ROUNDS];
	size_t excluded = 0, i;
	int r, rc = 1;

	if (ignore_parse(&ig, dockerignore, sizeof(dockerignore) - 1,
			 ".dockerignore", &err) < 0) {
		fprintf(stderr, "ignore_bench: %s\n", err.msg);
		goto out;
	}
	paths = xcalloc(NPATHS, sizeof(*paths));
	for (i = 0; i < NPATHS; i++)
		paths[i] = make_path();
	if (argc == 3 && !strcmp(argv[1], "--dump") && dump(argv[2], paths) < 0)
		goto out;

	for (r = 0; r < ROUNDS; r++) {
		size_t n = 0;
		double t0 = now_ns();

		for (i = 0; i < NPATHS; i++)
			n += (size_t)ignore_excluded(ig, paths[i]);
		ns[r] = (now_ns() - t0) / NPATHS;
		/* The count also keeps the loop from being optimized away. */
		if (r && n != excluded) {
			fprintf(stderr, "ignore_bench: results differ between rounds\n");
			goto out;
		}
		excluded = n;
	}
	qsort(ns, ROUNDS, sizeof(ns[0]), cmp_double);
	printf("ignore paths=%d patterns=%zu excluded=%zu "
	       "ns_per_path=%.1f min=%.1f max=%.1f\n",
	       NPATHS, ignore_count(ig), excluded, ns[ROUNDS / 2], ns[0],
	       ns[ROUNDS - 1]);
	rc = 0;
out:
	if (paths)
		for (i = 0; i < NPATHS; i++)
			free(paths[i]);
	free(paths);
	ignore_free(ig);
	return rc;
}
