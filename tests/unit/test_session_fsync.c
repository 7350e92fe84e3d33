/*
 * Unit tests for FileSync.DiffCopy's sending side (builder/session/fsync.c):
 * the STAT list of a real directory tree (order, filters, modes), REQ and
 * DATA, FIN, and what the daemon may send wrong; and the packet decoder.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/time.h>
#include <unistd.h>

#include "fsutil.pb-c.h"

#include "session/fsync.h"
#include "session/grpc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strlist.h"
#include "unit.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void dir(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkdir(path, 0755);
}

static void setup(void)
{
	char path[256];

	/* A tmpfs where there is one: the walk is what is tested, and 100,000
	 * files on a busy disk took 75 s of make check's minute. */
	snprintf(root, sizeof(root), "%s/test_fsync.XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		exit(1);
	}
	/* Byte order puts "a" before "a.txt" before "b", and a's children
	 * right after "a" (depth first). */
	dir("a");
	put("a/z", "zz");
	dir("a/sub");
	put("a/sub/deep", "deep");
	put("a.txt", "hello");
	put("b", "");
	put("Dockerfile", "FROM scratch\n");
	put("skip.log", "no");
	dir("logs");
	put("logs/keep.log", "keep");
	put("logs/drop.log", "drop");
	snprintf(path, sizeof(path), "%s/link", root);
	if (symlink("a.txt", path) < 0)
		perror("symlink");
	snprintf(path, sizeof(path), "%s/fifo", root);
	mkfifo(path, 0644);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", root);
}

/* Decodes framed packets in b into "S:path:mode" / "S-end" / "D:id:data" /
 * "F" lines. */
static char *describe(const struct buf *b)
{
	struct buf out = BUF_INIT(BUF_TEXT_MAX);
	size_t pos = 0;

	while (pos + GRPC_HEADER_LEN <= b->len) {
		const uint8_t *h = (const uint8_t *)b->data + pos;
		size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 |
			     (size_t)h[3] << 8 | h[4];
		Fsutil__Types__Packet *p = fsutil__types__packet__unpack(
			NULL, len, h + GRPC_HEADER_LEN);

		if (!p) {
			buf_addstr(&out, "BAD\n");
			break;
		}
		switch (p->type) {
		case FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_STAT:
			if (p->stat)
				buf_addf(&out, "S:%s:%o%s%s%s\n", p->stat->path,
					 p->stat->mode & 0777,
					 p->stat->mode & (1u << 31) ? ":dir"
								    : "",
					 p->stat->mode & (1u << 27) ? ":link>"
								    : "",
					 p->stat->linkname);
			else
				buf_addstr(&out, "S-end\n");
			break;
		case FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_DATA:
			buf_addf(&out, "D:%u:%.*s\n", p->id, (int)p->data.len,
				 (const char *)p->data.data);
			break;
		case FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_FIN:
			buf_addstr(&out, "F\n");
			break;
		default:
			buf_addf(&out, "?%d\n", p->type);
		}
		fsutil__types__packet__free_unpacked(p, NULL);
		pos += GRPC_HEADER_LEN + len;
	}
	return buf_detach(&out);
}

static int send_packet(struct fsync *f, int type, uint32_t id, const char *data,
		       struct error *err)
{
	Fsutil__Types__Packet p = FSUTIL__TYPES__PACKET__INIT;
	uint8_t tmp[256];
	size_t len;

	p.type = (Fsutil__Types__Packet__PacketType)type;
	p.id = id;
	if (data) {
		p.data.data = (uint8_t *)data;
		p.data.len = strlen(data);
	}
	len = fsutil__types__packet__pack(&p, tmp);
	return fsync_receive(f, tmp, len, err);
}

static char *all_out(struct fsync *f, struct error *err)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	char *d;

	while (fsync_pending(f))
		if (fsync_produce(f, &b, 1u << 20, err) < 0)
			break;
	d = describe(&b);
	buf_release(&b);
	return d;
}

static void test_stat_list_and_data(void)
{
	struct fsync *f = NULL;
	struct error err = ERROR_INIT;
	char *d;

	CHECK(fsync_open(&f, "context", root, NULL, NULL, NULL, &err) == 0);
	if (!f)
		return;
	d = all_out(f, &err);
	/* IDs: 0 Dockerfile, 1 a, 2 a/sub, 3 a/sub/deep, 4 a/z, 5 a.txt,
	 * 6 b, 7 link, 8 logs, 9 logs/drop.log, 10 logs/keep.log,
	 * 11 skip.log; the FIFO is left out. */
	CHECK_STR(d, "S:Dockerfile:644\nS:a:755:dir\nS:a/sub:755:dir\n"
		     "S:a/sub/deep:644\nS:a/z:644\nS:a.txt:644\nS:b:644\n"
		     "S:link:777:link>a.txt\nS:logs:755:dir\n"
		     "S:logs/drop.log:644\nS:logs/keep.log:644\n"
		     "S:skip.log:644\nS-end\n");
	free(d);
	CHECK(fsync_entries(f) == 12);
	CHECK(send_packet(f, FSYNC_REQ, 5, NULL, &err) == 0);
	CHECK(send_packet(f, FSYNC_REQ, 6, NULL, &err) == 0);
	CHECK(send_packet(f, FSYNC_REQ, 3, NULL, &err) == 0);
	d = all_out(f, &err);
	CHECK_STR(d, "D:5:hello\nD:5:\nD:6:\nD:3:deep\nD:3:\n");
	free(d);
	CHECK(!fsync_done(f));
	CHECK(send_packet(f, FSYNC_FIN, 0, NULL, &err) == 0);
	d = all_out(f, &err);
	CHECK_STR(d, "F\n");
	free(d);
	CHECK(fsync_done(f));
	CHECK(fsync_files_sent(f) == 3);
	CHECK(fsync_bytes_sent(f) == 9);
	fsync_free(f);
}

/* A REQ that comes while STATs are still going out is answered between
 * them, one packet each, not after the whole list. */
static void test_data_between_stats(void)
{
	struct fsync *f = NULL;
	struct error err = ERROR_INIT;
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	char *d;

	CHECK(fsync_open(&f, "context", root, NULL, NULL, NULL, &err) == 0);
	if (!f)
		return;
	/* Two STATs out (Dockerfile, a), then the daemon asks for 0. */
	CHECK(fsync_produce(f, &b, 1, &err) == 0);
	CHECK(fsync_produce(f, &b, b.len + 1, &err) == 0);
	CHECK(send_packet(f, FSYNC_REQ, 0, NULL, &err) == 0);
	CHECK(fsync_produce(f, &b, b.len + 1, &err) == 0);
	CHECK(fsync_produce(f, &b, b.len + 1, &err) == 0);
	CHECK(fsync_produce(f, &b, b.len + 1, &err) == 0);
	CHECK(fsync_produce(f, &b, b.len + 1, &err) == 0);
	d = describe(&b);
	CHECK_STR(d, "S:Dockerfile:644\nS:a:755:dir\nD:0:FROM scratch\n\n"
		     "S:a/sub:755:dir\nD:0:\nS:a/sub/deep:644\n");
	free(d);
	buf_release(&b);
	fsync_free(f);
}

static void test_bad_requests(void)
{
	struct fsync *f = NULL;
	struct error err = ERROR_INIT;
	char *d;

	CHECK(fsync_open(&f, "context", root, NULL, NULL, NULL, &err) == 0);
	if (!f)
		return;
	d = all_out(f, &err);
	free(d);
	/* A directory, a link, an ID past the end. */
	CHECK(send_packet(f, FSYNC_REQ, 1, NULL, &err) < 0);
	CHECK(strstr(err.msg, "file ID 1 of 'context'") != NULL);
	err_clear(&err);
	CHECK(send_packet(f, FSYNC_REQ, 7, NULL, &err) < 0);
	err_clear(&err);
	CHECK(send_packet(f, FSYNC_REQ, 12, NULL, &err) < 0);
	CHECK(err.code == EXIT_ENGINE);
	err_clear(&err);
	CHECK(send_packet(f, FSYNC_STAT, 0, NULL, &err) < 0);
	CHECK(strstr(err.msg, "type 0") != NULL);
	err_clear(&err);
	/* The same file twice: fsutil never does, and the queue of
	 * requests is bounded by it. */
	CHECK(send_packet(f, FSYNC_REQ, 5, NULL, &err) == 0);
	CHECK(send_packet(f, FSYNC_REQ, 5, NULL, &err) < 0);
	CHECK(strstr(err.msg, "asked twice for file ID 5 of 'context' "
			      "('a.txt')") != NULL);
	CHECK(err.code == EXIT_ENGINE);
	err_clear(&err);
	CHECK(send_packet(f, FSYNC_ERR, 0, "disk full", &err) < 0);
	CHECK(strstr(err.msg, "disk full") != NULL);
	err_clear(&err);
	CHECK(fsync_receive(f, (const uint8_t *)"\xff\xff\xff", 3, &err) < 0);
	CHECK(strstr(err.msg, "not valid protobuf") != NULL);
	fsync_free(f);
}

static void test_vanished_file(void)
{
	struct fsync *f = NULL;
	struct error err = ERROR_INIT;
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	char path[256];
	char *d;

	put("gone", "soon gone");
	CHECK(fsync_open(&f, "context", root, NULL, NULL, NULL, &err) == 0);
	if (!f)
		return;
	d = all_out(f, &err);
	free(d);
	snprintf(path, sizeof(path), "%s/gone", root);
	unlink(path);
	/* ID of "gone": after Dockerfile, a, a/sub, a/sub/deep, a/z, a.txt,
	 * b, fifo left out. */
	CHECK(send_packet(f, FSYNC_REQ, 7, NULL, &err) == 0);
	CHECK(fsync_produce(f, &b, 1u << 20, &err) < 0);
	CHECK(err.code == EXIT_BUILD);
	CHECK(strstr(err.msg, "/gone") != NULL);
	buf_release(&b);
	fsync_free(f);

	/* Shrunk between the walk and the request. */
	put("short", "0123456789");
	err_clear(&err);
	CHECK(fsync_open(&f, "context", root, NULL, NULL, NULL, &err) == 0);
	if (!f)
		return;
	d = all_out(f, &err);
	free(d);
	put("short", "01");
	/* Dockerfile a a/sub a/sub/deep a/z a.txt b link logs logs/drop.log
	 * logs/keep.log short */
	CHECK(send_packet(f, FSYNC_REQ, 11, NULL, &err) == 0);
	CHECK(fsync_produce(f, &b, 1u << 20, &err) < 0);
	CHECK(strstr(err.msg, "shrank") != NULL);
	buf_release(&b);
	fsync_free(f);
	snprintf(path, sizeof(path), "%s/short", root);
	unlink(path);
}

static void test_filters(void)
{
	struct fsync *f = NULL;
	struct error err = ERROR_INIT;
	struct strlist ex = STRLIST_INIT, inc = STRLIST_INIT,
		       fol = STRLIST_INIT;
	char *d;

	/* .dockerignore semantics: exceptions re-include below an excluded
	 * directory; its own entry comes back with what it holds. */
	strlist_push(&ex, "*.log");
	strlist_push(&ex, "logs");
	strlist_push(&ex, "!logs/keep.log");
	strlist_push(&ex, "a/sub");
	CHECK(fsync_open(&f, "context", root, NULL, &ex, NULL, &err) == 0);
	if (f) {
		d = all_out(f, &err);
		CHECK_STR(d, "S:Dockerfile:644\nS:a:755:dir\nS:a/z:644\n"
			     "S:a.txt:644\nS:b:644\nS:link:777:link>a.txt\n"
			     "S:logs:755:dir\nS:logs/keep.log:644\nS-end\n");
		free(d);
		fsync_free(f);
	}
	/* Follow paths: only those files and the directories above them. */
	strlist_push(&fol, "Dockerfile");
	strlist_push(&fol, "Dockerfile.dockerignore");
	strlist_push(&fol, "a/sub/deep");
	CHECK(fsync_open(&f, "dockerfile", root, NULL, NULL, &fol, &err) == 0);
	if (f) {
		d = all_out(f, &err);
		CHECK_STR(d, "S:Dockerfile:644\nS:a:755:dir\nS:a/sub:755:dir\n"
			     "S:a/sub/deep:644\nS-end\n");
		free(d);
		fsync_free(f);
	}
	/* Include patterns with a wildcard. */
	strlist_push(&inc, "a/*");
	CHECK(fsync_open(&f, "context", root, &inc, NULL, NULL, &err) == 0);
	if (f) {
		d = all_out(f, &err);
		CHECK_STR(d, "S:a:755:dir\nS:a/sub:755:dir\nS:a/sub/deep:644\n"
			     "S:a/z:644\nS-end\n");
		free(d);
		fsync_free(f);
	}
	strlist_clear(&ex);
	strlist_clear(&inc);
	strlist_clear(&fol);
}

static void test_missing_dir(void)
{
	struct fsync *f = NULL;
	struct error err = ERROR_INIT;

	CHECK(fsync_open(&f, "context", "/nonexistent/dir", NULL, NULL, NULL,
			 &err) < 0);
	CHECK(f == NULL);
	CHECK(strstr(err.msg, "'/nonexistent/dir'") != NULL);
}

static void test_decode(void)
{
	struct fsync_packet p;
	struct error err = ERROR_INIT;
	Fsutil__Types__Packet in = FSUTIL__TYPES__PACKET__INIT;
	uint8_t tmp[64];
	size_t len;

	in.type = FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_REQ;
	in.id = 300;
	len = fsutil__types__packet__pack(&in, tmp);
	CHECK(fsync_decode(tmp, len, &p, &err) == 0);
	CHECK(p.type == FSYNC_REQ && p.id == 300 && !p.has_stat && !p.data);
	fsync_packet_release(&p);
	/* Empty bytes: a STAT with no stat (the end of the list). */
	CHECK(fsync_decode(tmp, 0, &p, &err) == 0);
	CHECK(p.type == FSYNC_STAT && !p.has_stat);
	fsync_packet_release(&p);
	/* Unknown type 9. */
	CHECK(fsync_decode((const uint8_t *)"\x08\x09", 2, &p, &err) < 0);
	CHECK(strstr(err.msg, "unknown type 9") != NULL);
	err_clear(&err);
	/* A length past the end. */
	CHECK(fsync_decode((const uint8_t *)"\x22\x10zz", 4, &p, &err) < 0);
}

/* A STAT of 200,000 empty xattrs: 400 KB on the wire, some 20 MB as
 * protobuf-c's structs. It is refused for its size (util/pballoc.h), not
 * decoded; 16 MiB of them took 850 MB. */
static void test_decode_ceiling(void)
{
	struct fsync_packet p;
	struct error err = ERROR_INIT;
	struct buf m = BUF_INIT(BUF_TEXT_MAX);
	size_t n = 200000, i, stat_len = 2 * n;
	unsigned char v[8];
	size_t vl = 0;

	buf_addch(&m, 0x12); /* Packet.stat, its length as a varint */
	for (size_t x = stat_len;; x >>= 7) {
		v[vl++] = (unsigned char)((x & 0x7f) | (x >= 0x80 ? 0x80 : 0));
		if (x < 0x80)
			break;
	}
	buf_add(&m, v, vl);
	for (i = 0; i < n; i++)
		buf_add(&m, "\x52\x00", 2); /* Stat.xattrs: an empty entry */
	CHECK(fsync_decode((const uint8_t *)m.data, m.len, &p, &err) < 0);
	CHECK(err.code == EXIT_ENGINE);
	CHECK(strstr(err.msg, "too large to decode") != NULL);
	buf_release(&m);
}

/* 100,000 files in 100 directories: every one listed, in order, the output
 * produced a bounded step at a time, a file in the middle served. */
/* Hard links: the second path of a file goes as a link to the first sent
 * (size 0, not requestable), as fsutil sends it; when the first path is
 * excluded, the next one is the file. */
static void test_hard_links(void)
{
	struct fsync *f = NULL;
	struct error err = ERROR_INIT;
	struct strlist ex = STRLIST_INIT;
	char a[256], b[256], c[256];
	char *d;

	setup();
	dir("h");
	dir("h/sub");
	put("h/a", "shared");
	snprintf(a, sizeof(a), "%s/h/a", root);
	snprintf(b, sizeof(b), "%s/h/b", root);
	snprintf(c, sizeof(c), "%s/h/sub/c", root);
	CHECK(link(a, b) == 0);
	CHECK(link(a, c) == 0);
	strlist_push(&ex, "*");
	strlist_push(&ex, "!h");
	CHECK(fsync_open(&f, "context", root, NULL, &ex, NULL, &err) == 0);
	if (f) {
		d = all_out(f, &err);
		CHECK_STR(d, "S:h:755:dir\nS:h/a:644\nS:h/b:644h/a\n"
			     "S:h/sub:755:dir\nS:h/sub/c:644h/a\nS-end\n");
		free(d);
		CHECK(send_packet(f, FSYNC_REQ, 2, NULL, &err) < 0);
		CHECK(strstr(err.msg, "file ID 2") != NULL);
		err_clear(&err);
		CHECK(send_packet(f, FSYNC_REQ, 1, NULL, &err) == 0);
		d = all_out(f, &err);
		CHECK_STR(d, "D:1:shared\nD:1:\n");
		free(d);
		fsync_free(f);
		f = NULL;
	}
	strlist_push(&ex, "h/a");
	CHECK(fsync_open(&f, "context", root, NULL, &ex, NULL, &err) == 0);
	if (f) {
		d = all_out(f, &err);
		CHECK_STR(d, "S:h:755:dir\nS:h/b:644\nS:h/sub:755:dir\n"
			     "S:h/sub/c:644h/b\nS-end\n");
		free(d);
		fsync_free(f);
	}
	strlist_clear(&ex);
	teardown();
}

static void test_hundred_thousand_files(void)
{
	struct fsync *f = NULL;
	struct error err = ERROR_INIT;
	struct strlist none = STRLIST_INIT;
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	size_t stats = 0, ends = 0, steps = 0, max_step = 0;
	char path[256];
	time_t t0;

	setup();
	for (int d = 0; d < 100; d++) {
		snprintf(path, sizeof(path), "%s/m%02d", root, d);
		mkdir(path, 0755);
		for (int i = 0; i < 1000; i++) {
			int fd;

			snprintf(path, sizeof(path), "%s/m%02d/f%04d", root, d,
				 i);
			fd = open(path, O_WRONLY | O_CREAT, 0644);
			if (fd >= 0) {
				if (write(fd, "x", 1) != 1)
					CHECK(0);
				close(fd);
			}
		}
	}
	t0 = time(NULL);
	CHECK(fsync_open(&f, "context", root, &none, &none, &none, &err) == 0);
	while (f && fsync_pending(f)) {
		size_t pos = 0;

		buf_reset(&b);
		if (fsync_produce(f, &b, 256u * 1024, &err) < 0)
			break;
		steps++;
		if (b.len > max_step)
			max_step = b.len;
		while (pos + GRPC_HEADER_LEN <= b.len) {
			const uint8_t *h = (const uint8_t *)b.data + pos;
			size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 |
				     (size_t)h[3] << 8 | h[4];
			Fsutil__Types__Packet *p =
				fsutil__types__packet__unpack(
					NULL, len, h + GRPC_HEADER_LEN);

			if (p && p->stat)
				stats++;
			else if (p)
				ends++;
			fsutil__types__packet__free_unpacked(p, NULL);
			pos += GRPC_HEADER_LEN + len;
		}
	}
	/* The setup's own entries come too. */
	CHECK(stats >= 100100);
	CHECK(ends == 1);
	CHECK(steps > 10); /* not one 10 MB burst */
	CHECK(max_step < 300u * 1024);
	CHECK(time(NULL) - t0 < 60);
	if (f) {
		char *d;

		/* m50/f0500 is 1 + 50 * 1001 + 1 + 500 entries in, give or
		 * take the setup's own: ask for any ID, it is a file or an
		 * error that names it, never a crash. */
		CHECK(fsync_entries(f) == stats);
		CHECK(send_packet(
			      f, FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_REQ,
			      (uint32_t)(stats - 1), NULL, &err) == 0);
		d = all_out(f, &err);
		CHECK(strstr(d, "D:") != NULL);
		free(d);
	}
	fsync_free(f);
	buf_release(&b);
	teardown();
	if (err.code)
		fprintf(stderr, "error: %s\n", err.msg);
}

int main(void)
{
	setup();
	RUN(test_stat_list_and_data);
	RUN(test_data_between_stats);
	RUN(test_bad_requests);
	RUN(test_vanished_file);
	RUN(test_filters);
	RUN(test_missing_dir);
	RUN(test_decode);
	RUN(test_decode_ceiling);
	teardown();
	RUN(test_hard_links);
	RUN(test_hundred_thousand_files);
	return unit_summary();
}
