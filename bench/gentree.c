/*
 * gentree: a large, deterministic build context for the context-upload
 * benchmark.
 *
 *	gentree DIR
 *
 * Writes 20 top directories of 10 subdirectories of 100 files each
 * (20,000 files) under DIR, plus DIR/Dockerfile. File sizes vary like a
 * real repository's: most files are 0-4 KiB, a quarter get up to 32 KiB
 * more, and every 200th file is a 1-3 MiB blob; about 320 MB in all. The
 * contents come from a fixed-seed xorshift generator, so every run and
 * every machine gets the same bytes (and the bytes do not compress, so
 * nobody's transfer gets a free ride). Prints "files=N bytes=N".
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/banned.h"

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static int mkdir_p(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "gentree: cannot create '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int write_file(const char *path, size_t size)
{
	static uint64_t block[8192];
	FILE *f = fopen(path, "wb");

	if (!f)
		goto fail;
	while (size) {
		size_t n = size < sizeof(block) ? size : sizeof(block), i;

		for (i = 0; i < (n + 7) / 8; i++)
			block[i] = next();
		if (fwrite(block, 1, n, f) != n)
			goto fail;
		size -= n;
	}
	if (fclose(f) == EOF) {
		f = NULL;
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "gentree: cannot write '%s': %s\n", path,
		strerror(errno));
	if (f)
		fclose(f);
	return -1;
}

int main(int argc, char **argv)
{
	static const char dockerfile[] =
		"FROM busybox:latest\nLABEL bench=context-upload\n";
	char path[4096];
	unsigned long long total = 0;
	unsigned files = 0, a, b, c;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: gentree DIR\n");
		return 2;
	}
	if (mkdir_p(argv[1]) < 0)
		return 1;
	for (a = 0; a < 20; a++) {
		snprintf(path, sizeof(path), "%s/pkg%02u", argv[1], a);
		if (mkdir_p(path) < 0)
			return 1;
		for (b = 0; b < 10; b++) {
			snprintf(path, sizeof(path), "%s/pkg%02u/mod%u", argv[1], a, b);
			if (mkdir_p(path) < 0)
				return 1;
			for (c = 0; c < 100; c++) {
				size_t size;

				if (files % 200 == 0)
					size = (1u << 20) + next() % (2u << 20);
				else
					size = next() % 4096 +
					       (next() % 4 ? 0 : next() % 32768);
				snprintf(path, sizeof(path),
					 "%s/pkg%02u/mod%u/file%03u.dat", argv[1],
					 a, b, c);
				if (write_file(path, size) < 0)
					return 1;
				files++;
				total += size;
			}
		}
	}
	snprintf(path, sizeof(path), "%s/Dockerfile", argv[1]);
	f = fopen(path, "w");
	if (!f || fputs(dockerfile, f) == EOF || fclose(f) == EOF) {
		fprintf(stderr, "gentree: cannot write '%s'\n", path);
		return 1;
	}
	files++;
	total += sizeof(dockerfile) - 1;
	printf("files=%u bytes=%llu\n", files, total);
	return 0;
}
