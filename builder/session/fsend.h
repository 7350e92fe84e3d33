#ifndef BUILDER_FSEND_H
#define BUILDER_FSEND_H

/*
 * The receiving side of FileSend.DiffCopy: the build's outputs written on
 * our side (--output / OUTPUT), what fsutil's receive.go does for the
 * docker CLI.
 *
 * type=local: the daemon is fsutil's sender. It sends one STAT per entry
 * (an entry's ID is its index among the STATs) and an empty STAT; we ask
 * for each regular file with REQ{ID} (at most FSEND_WINDOW at a time), it
 * answers DATA packets and an empty DATA per file; when every file is in
 * we send FIN, the daemon answers FIN.
 *
 * type=tar: the daemon sends the tar as BytesMessage{data} messages and
 * ends the stream; we write them to a temporary file next to DEST and
 * rename it to DEST at the end.
 *
 * Whatever the daemon sends, nothing is written outside DEST: paths must
 * be relative and clean (no "..", ".", empty or absolute components); every
 * directory on the way is opened with O_NOFOLLOW below DEST, so a symlink
 * (sent or already there) is never followed; a symlink whose target is
 * absolute or climbs out of DEST, and a hard link to anything but a file
 * received before it, are refused. Files are written to a temporary name
 * and renamed into place when complete; on failure the temporary files are
 * removed. Devices, FIFOs and sockets are skipped. Ownership is not set;
 * modes (permission bits) and mtimes are.
 */

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

#define FSEND_WINDOW 16

enum fsend_kind { FSEND_LOCAL, FSEND_TAR };

struct fsend;

/* Creates DEST (a directory for FSEND_LOCAL, created if missing with its
 * parents; for FSEND_TAR a temporary file beside it). */
int fsend_open(struct fsend **out, enum fsend_kind kind, const char *dest,
	       struct error *err);

/* Handles one message from the daemon (protobuf bytes). */
int fsend_receive(struct fsend *f, const uint8_t *msg, size_t len,
		  struct error *err);

/* Appends what we have to say (REQs, FIN) as gRPC-framed packets. */
int fsend_produce(struct fsend *f, struct buf *out, struct error *err);
int fsend_pending(const struct fsend *f);

/* The daemon ended its side of the stream. For tar, DEST is put in
 * place; for local, an error unless FIN went both ways. */
int fsend_end(struct fsend *f, struct error *err);

/* 1 when the transfer is complete (local: FIN both ways). */
int fsend_done(const struct fsend *f);

size_t fsend_files(const struct fsend *f);
unsigned long long fsend_bytes(const struct fsend *f);

/* Removes temporary files of an unfinished transfer. NULL is fine. */
void fsend_free(struct fsend *f);

#endif
