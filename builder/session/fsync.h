#ifndef BUILDER_FSYNC_H
#define BUILDER_FSYNC_H

/*
 * The sending side of one FileSync.DiffCopy stream: a local directory
 * offered to BuildKit (fsutil's send.go, in C). The daemon opens one stream
 * per directory it wants ("context", "dockerfile") and says in metadata
 * which paths it wants; we walk the directory once and then:
 *
 *  1. send one STAT packet per entry, depth-first, parents before children,
 *     names in byte order within a directory, relative '/' paths, the root
 *     left out, then an empty STAT that ends the list. An entry's ID is its
 *     index among the STATs;
 *  2. answer each REQ{ID} (the daemon may have many outstanding) with DATA
 *     packets of up to FSYNC_CHUNK bytes and an empty DATA that ends it;
 *  3. answer the daemon's FIN with our FIN; the stream is then done.
 *
 * Stats are stable across runs for unchanged files (uid/gid 0, mtimes in
 * nanoseconds, Go os.FileMode bits), which is what lets the daemon's copy
 * of an earlier context be reused. Sockets, FIFOs and devices are left out,
 * as in the tar path.
 *
 * Filters, with .dockerignore semantics (context/ignore.h): a path is sent
 * when it matches no exclude pattern (exceptions '!' allowed) and, if
 * include patterns or follow paths are given, matches one of them or lies
 * under a match; the directories above a sent entry are sent too. Symlinks
 * are sent as links, never followed. A file's second path (a hard link) is
 * sent as a link to the first path sent, size 0, as fsutil does.
 *
 * Order on the wire: STATs and file data alternate, one packet each, while
 * both wait (fsync_produce), so the daemon creates files and writes the
 * requested ones at the same time.
 *
 * Output goes into a caller's struct buf as gRPC-framed messages, a little
 * at a time (fsync_produce), so a big file never sits in memory and the
 * session can answer health checks in between.
 */

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/strlist.h"

#define FSYNC_CHUNK (32u * 1024)

/* Packet types (fsutil types/wire.proto). */
enum fsync_type {
	FSYNC_STAT = 0,
	FSYNC_REQ = 1,
	FSYNC_DATA = 2,
	FSYNC_FIN = 3,
	FSYNC_ERR = 4,
};

/* A decoded packet from the daemon. data is owned (NUL-terminated, may
 * be NULL when empty); release with fsync_packet_release(). */
struct fsync_packet {
	int type;
	uint32_t id;
	int has_stat;
	char *data;
	size_t data_len;
};

/* Decodes the protobuf bytes of one Packet. Malformed bytes or an unknown
 * type are an EXIT_ENGINE error. */
int fsync_decode(const uint8_t *msg, size_t len, struct fsync_packet *out,
		 struct error *err);
void fsync_packet_release(struct fsync_packet *p);

struct fsync;

/* Walks root now, with the filters above (the lists may be empty). name
 * ("context") is for messages. */
int fsync_open(struct fsync **out, const char *name, const char *root,
	       const struct strlist *include, const struct strlist *exclude,
	       const struct strlist *follow, struct error *err);

/* Appends gRPC-framed packets to out until it holds at least `want` bytes
 * or nothing is left to send for now. A file that vanished or shrank since
 * the walk is an EXIT_BUILD error naming it. */
int fsync_produce(struct fsync *f, struct buf *out, size_t want,
		  struct error *err);

/* Handles one message from the daemon (protobuf bytes). A REQ for an ID
 * that is not a regular file we sent, an ERR, or a packet we never expect
 * is an error that names what came. */
int fsync_receive(struct fsync *f, const uint8_t *msg, size_t len,
		  struct error *err);

/* 1 when fsync_produce() has something to add now. */
int fsync_pending(const struct fsync *f);
/* 1 when FIN went both ways and everything was produced. */
int fsync_done(const struct fsync *f);

/* Counts for the log: entries walked, files and bytes sent on request. */
size_t fsync_entries(const struct fsync *f);
size_t fsync_files_sent(const struct fsync *f);
unsigned long long fsync_bytes_sent(const struct fsync *f);

void fsync_free(struct fsync *f);

#endif
