/*
 * libFuzzer target for FileSend's receiving side (builder/session/fsend.c):
 * the input is a sequence of Packets as the daemon would send them (each a
 * 2-byte big-endian length and the protobuf bytes), fed to fsend_receive()
 * with fsend_produce() in between. Whatever comes, nothing is written
 * outside DEST: the directory beside it stays empty.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session/fsend.h"
#include "util/buf.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char top[64], dest[128], outside[128];

static void setup(void)
{
	if (top[0])
		return;
	snprintf(top, sizeof(top), "/tmp/fuzz_fsend.XXXXXX");
	if (!mkdtemp(top))
		abort();
	snprintf(dest, sizeof(dest), "%s/a/dest", top);
	snprintf(outside, sizeof(outside), "%s/a", top);
}

/* Entries of a/ other than dest: what escaped. */
static int escaped(void)
{
	DIR *d = opendir(outside);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, "dest"))
			n++;
	closedir(d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fsend *f = NULL;
	struct error err = ERROR_INIT;
	struct buf out = BUF_INIT(BUF_TEXT_MAX);
	char cmd[200];

	setup();
	if (fsend_open(&f, FSEND_LOCAL, dest, &err) < 0)
		abort();
	while (size >= 2) {
		size_t len = (size_t)data[0] << 8 | data[1];

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (fsend_receive(f, data, len, &err) < 0)
			break;
		if (fsend_produce(f, &out, &err) < 0)
			break;
		buf_reset(&out);
		data += len;
		size -= len;
	}
	if (err.code && err.code != EXIT_ENGINE && err.code != EXIT_BUILD)
		abort();
	fsend_free(f);
	buf_release(&out);
	if (escaped())
		abort();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/a'", top);
	if (system(cmd) != 0)
		abort();
	return 0;
}
