/*
 * Unit tests for FileSend.DiffCopy's receiving side (builder/session/
 * fsend.c): a good transfer written below DEST, and crafted packets that
 * try to write elsewhere ("..", absolute paths, symlinks out, through a
 * link, hard links to anything) refused with nothing written outside DEST
 * and no temporary file left behind.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.pb-c.h"
#include "sshforward.pb-c.h"

#include "session/fsend.h"
#include "session/grpc.h"
#include "util/buf.h"
#include "util/error.h"
#include "unit.h"

#define DIR_MODE (1u << 31)
#define LINK_MODE (1u << 27)

static char top[64]; /* holds dest/ and outside/ */
static char dest[128];

static void setup(void)
{
	char p[256];

	snprintf(top, sizeof(top), "/tmp/test_fsend.XXXXXX");
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(dest, sizeof(dest), "%s/dest", top);
	snprintf(p, sizeof(p), "%s/outside", top);
	mkdir(p, 0755);
}

static void teardown(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", top);
}

static int stat_pkt(struct fsend *f, const char *path, uint32_t mode,
		    const char *link, struct error *err)
{
	Fsutil__Types__Packet p = FSUTIL__TYPES__PACKET__INIT;
	Fsutil__Types__Stat st = FSUTIL__TYPES__STAT__INIT;
	uint8_t buf[1024];
	size_t n;

	p.type = FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_STAT;
	if (path) {
		st.path = (char *)path;
		st.mode = mode;
		st.linkname = (char *)(link ? link : "");
		st.modtime = 1000000000LL * 1700000000;
		p.stat = &st;
	}
	n = fsutil__types__packet__pack(&p, buf);
	return fsend_receive(f, buf, n, err);
}

static int pkt(struct fsend *f, int type, uint32_t id, const char *data,
	       struct error *err)
{
	Fsutil__Types__Packet p = FSUTIL__TYPES__PACKET__INIT;
	uint8_t buf[1024];
	size_t n;

	p.type = (Fsutil__Types__Packet__PacketType)type;
	p.id = id;
	if (data) {
		p.data.data = (uint8_t *)data;
		p.data.len = strlen(data);
	}
	n = fsutil__types__packet__pack(&p, buf);
	return fsend_receive(f, buf, n, err);
}

/* Decodes what fsend produced: "REQ 1,REQ 3,FIN". */
static void produced(struct fsend *f, char *out, size_t max)
{
	struct buf b = BUF_INIT(1 << 20);
	struct error e = ERROR_INIT;
	size_t off = 0;

	out[0] = '\0';
	CHECK(fsend_produce(f, &b, &e) == 0);
	while (off + GRPC_HEADER_LEN <= b.len) {
		const uint8_t *h = (const uint8_t *)b.data + off;
		uint32_t len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 |
			       (uint32_t)h[3] << 8 | h[4];
		Fsutil__Types__Packet *p = fsutil__types__packet__unpack(
			NULL, len, h + GRPC_HEADER_LEN);
		size_t l = strlen(out);

		if (!p)
			break;
		if (p->type == FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_REQ)
			snprintf(out + l, max - l, "%sREQ %u", l ? "," : "",
				 p->id);
		else
			snprintf(out + l, max - l, "%s%d", l ? "," : "",
				 (int)p->type);
		fsutil__types__packet__free_unpacked(p, NULL);
		off += GRPC_HEADER_LEN + len;
	}
	buf_release(&b);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* No ".builder-output-" file anywhere under dest. */
static int temp_left(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd),
		 "find '%s' -name '.builder-output-*' | grep -q .", top);
	return system(cmd) == 0;
}

static void read_file(const char *rel, char *out, size_t max)
{
	char p[256];
	FILE *f;
	size_t n = 0;

	snprintf(p, sizeof(p), "%s/%s", dest, rel);
	out[0] = '\0';
	f = fopen(p, "r");
	if (!f)
		return;
	n = fread(out, 1, max - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void test_good_transfer(void)
{
	struct fsend *f = NULL;
	struct error e = ERROR_INIT;
	char got[256], p[256];
	struct stat sb;

	setup();
	CHECK(fsend_open(&f, FSEND_LOCAL, dest, &e) == 0);
	/* IDs: 0 bin/, 1 bin/tool, 2 link, 3 hard, 4 report.txt */
	CHECK(stat_pkt(f, "bin", DIR_MODE | 0750, NULL, &e) == 0);
	CHECK(stat_pkt(f, "bin/tool", 0755, NULL, &e) == 0);
	CHECK(stat_pkt(f, "link", LINK_MODE | 0777, "bin/tool", &e) == 0);
	CHECK(stat_pkt(f, "hard", 0644, "bin/tool", &e) == 0);
	CHECK(stat_pkt(f, "report.txt", 0644, NULL, &e) == 0);
	CHECK(stat_pkt(f, NULL, 0, NULL, &e) == 0);
	produced(f, got, sizeof(got));
	CHECK_STR(got, "REQ 1,REQ 4");
	CHECK(pkt(f, FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_DATA, 4, "ok",
		  &e) == 0);
	CHECK(pkt(f, FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_DATA, 1,
		  "#!/bin/sh", &e) == 0);
	CHECK(pkt(f, FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_DATA, 1, NULL,
		  &e) == 0);
	CHECK(pkt(f, FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_DATA, 4, NULL,
		  &e) == 0);
	produced(f, got, sizeof(got));
	CHECK_STR(got, "3"); /* FIN */
	CHECK(!fsend_done(f));
	CHECK(pkt(f, FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_FIN, 0, NULL,
		  &e) == 0);
	CHECK(fsend_done(f));
	CHECK(fsend_end(f, &e) == 0);
	CHECK(fsend_files(f) == 2);
	if (e.code)
		fprintf(stderr, "error: %s\n", e.msg);
	fsend_free(f);
	read_file("bin/tool", got, sizeof(got));
	CHECK_STR(got, "#!/bin/sh");
	read_file("hard", got, sizeof(got));
	CHECK_STR(got, "#!/bin/sh");
	read_file("link", got, sizeof(got));
	CHECK_STR(got, "#!/bin/sh");
	read_file("report.txt", got, sizeof(got));
	CHECK_STR(got, "ok");
	snprintf(p, sizeof(p), "%s/bin/tool", dest);
	CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0755 &&
	      sb.st_mtime == 1700000000);
	snprintf(p, sizeof(p), "%s/bin", dest);
	CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0750);
	CHECK(!temp_left());
	teardown();
}

/* Each case: STATs sent in order; the last one (or the DATA) must fail
 * with code and a message containing want; nothing lands outside. */
struct hostile {
	const char *name;
	const char *paths[4]; /* "d:PATH" dir, "l:PATH>TARGET" symlink,
				 "h:PATH>TARGET" hard link, "f:PATH" file */
	const char *want;
};

static const struct hostile hostile[] = {
	{ "dotdot", { "f:../outside/x" }, "not a clean relative path" },
	{ "dotdot inside", { "d:a", "f:a/../../outside/x" }, "not a clean" },
	{ "absolute", { "f:/tmp/x" }, "not a clean relative path" },
	{ "dot", { "f:./x" }, "not a clean relative path" },
	{ "empty component", { "d:a", "f:a//x" }, "not a clean" },
	{ "empty", { "f:" }, "not a clean relative path" },
	{ "absolute link", { "l:evil>/etc/passwd" }, "outside" },
	{ "link climbing out", { "d:a", "l:a/evil>../../outside" }, "outside" },
	{ "file through a link",
	  { "l:x>.", "f:x/y" },
	  "was not sent as a directory" },
	{ "dir through a link",
	  { "d:a", "l:a/b>..", "d:a/b/c" },
	  "was not sent as a directory" },
	{ "parent never sent", { "f:nodir/x" }, "was not sent as a directory" },
	{ "hard link out", { "h:x>../outside/secret" }, "hard link" },
	{ "hard link to unknown", { "h:x>y" }, "hard link" },
	{ "our temp name", { "f:.builder-output-1-2" }, "not a clean" },
};

static void test_hostile_paths(void)
{
	for (size_t i = 0; i < sizeof(hostile) / sizeof(*hostile); i++) {
		const struct hostile *h = &hostile[i];
		struct fsend *f = NULL;
		struct error e = ERROR_INIT;
		char outside[256];
		int rc = 0;

		setup();
		snprintf(outside, sizeof(outside), "%s/outside", top);
		CHECK(fsend_open(&f, FSEND_LOCAL, dest, &e) == 0);
		for (size_t k = 0; k < 4 && h->paths[k] && !rc; k++) {
			const char *spec = h->paths[k];
			char path[128], *gt;
			uint32_t mode = 0644;
			const char *link = NULL;

			snprintf(path, sizeof(path), "%s", spec + 2);
			gt = strchr(path, '>');
			if (gt) {
				*gt = '\0';
				link = gt + 1;
			}
			if (spec[0] == 'd')
				mode = DIR_MODE | 0755;
			else if (spec[0] == 'l')
				mode = LINK_MODE | 0777;
			rc = stat_pkt(f, path, mode, link, &e);
		}
		if (!rc)
			rc = stat_pkt(f, NULL, 0, NULL, &e);
		if (!rc || !strstr(e.msg, h->want)) {
			fprintf(stderr, "case '%s': rc %d, error '%s'\n",
				h->name, rc, e.msg);
			CHECK(0);
		}
		CHECK(e.code == EXIT_ENGINE);
		fsend_free(f);
		CHECK(count_entries(outside) == 0);
		CHECK(!temp_left());
		teardown();
	}
}

static void test_protocol_errors(void)
{
	struct fsend *f = NULL;
	struct error e = ERROR_INIT;
	char got[128];
	const uint8_t junk[] = { 0xff, 0xff, 0xff };

	/* DATA for an ID never asked for. */
	setup();
	CHECK(fsend_open(&f, FSEND_LOCAL, dest, &e) == 0);
	CHECK(stat_pkt(f, "a", 0644, NULL, &e) == 0);
	CHECK(stat_pkt(f, NULL, 0, NULL, &e) == 0);
	produced(f, got, sizeof(got));
	CHECK_STR(got, "REQ 0");
	CHECK(pkt(f, FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_DATA, 7, "x",
		  &e) < 0);
	CHECK(strstr(e.msg, "file ID 7") != NULL);
	fsend_free(f);
	CHECK(!temp_left());
	teardown();

	/* The engine ends the stream halfway: an error, no temp file. */
	setup();
	err_clear(&e);
	CHECK(fsend_open(&f, FSEND_LOCAL, dest, &e) == 0);
	CHECK(stat_pkt(f, "a", 0644, NULL, &e) == 0);
	CHECK(stat_pkt(f, NULL, 0, NULL, &e) == 0);
	produced(f, got, sizeof(got));
	CHECK(pkt(f, FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_DATA, 0, "x",
		  &e) == 0);
	CHECK(fsend_end(f, &e) < 0);
	CHECK(strstr(e.msg, "incomplete") != NULL);
	fsend_free(f);
	CHECK(!temp_left());
	CHECK(count_entries(dest) == 0);
	teardown();

	/* ERR from the sender, FIN too early, junk. */
	setup();
	err_clear(&e);
	CHECK(fsend_open(&f, FSEND_LOCAL, dest, &e) == 0);
	CHECK(pkt(f, FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_ERR, 0,
		  "disk on fire", &e) < 0);
	CHECK(strstr(e.msg, "disk on fire") != NULL);
	fsend_free(f);
	err_clear(&e);
	CHECK(fsend_open(&f, FSEND_LOCAL, dest, &e) == 0);
	CHECK(pkt(f, FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_FIN, 0, NULL,
		  &e) < 0);
	fsend_free(f);
	err_clear(&e);
	CHECK(fsend_open(&f, FSEND_LOCAL, dest, &e) == 0);
	CHECK(fsend_receive(f, junk, sizeof(junk), &e) < 0);
	CHECK(e.code == EXIT_ENGINE);
	fsend_free(f);
	teardown();
}

static void test_tar(void)
{
	struct fsend *f = NULL;
	struct error e = ERROR_INIT;
	Moby__Sshforward__V1__BytesMessage m =
		MOBY__SSHFORWARD__V1__BYTES_MESSAGE__INIT;
	uint8_t buf[64];
	size_t n;
	char path[256], got[64];
	FILE *fp;

	setup();
	snprintf(path, sizeof(path), "%s/out.tar", top);
	CHECK(fsend_open(&f, FSEND_TAR, path, &e) == 0);
	m.data.data = (uint8_t *)"tarbytes";
	m.data.len = 8;
	n = moby__sshforward__v1__bytes_message__pack(&m, buf);
	CHECK(fsend_receive(f, buf, n, &e) == 0);
	CHECK(fsend_receive(f, buf, n, &e) == 0);
	CHECK(access(path, F_OK) != 0); /* not before the end */
	CHECK(fsend_end(f, &e) == 0);
	fsend_free(f);
	fp = fopen(path, "r");
	CHECK(fp != NULL);
	if (fp) {
		got[fread(got, 1, sizeof(got) - 1, fp)] = '\0';
		fclose(fp);
		CHECK_STR(got, "tarbytestarbytes");
	}
	/* Unfinished: nothing left. */
	snprintf(path, sizeof(path), "%s/half.tar", top);
	CHECK(fsend_open(&f, FSEND_TAR, path, &e) == 0);
	CHECK(fsend_receive(f, buf, n, &e) == 0);
	fsend_free(f);
	CHECK(count_entries(top) == 2); /* outside/ and out.tar */
	teardown();
}

int main(void)
{
	RUN(test_good_transfer);
	RUN(test_hostile_paths);
	RUN(test_protocol_errors);
	RUN(test_tar);
	return unit_summary();
}
