#ifndef BUILDER_EXTRACT_H
#define BUILDER_EXTRACT_H

/*
 * Safe extraction of a tar stream into a local directory: the test results
 * copied out of a test container (GET /containers/{id}/archive).
 *
 * The archive comes from a container we do not trust, so nothing is ever
 * written outside the destination, whatever it holds:
 *
 *  - names are taken relative to the destination; an absolute name, a name
 *    with a ".." component and an empty name are refused;
 *  - every directory on the way is opened with O_NOFOLLOW from the one
 *    before it, so a symbolic link (from the archive or already on disk)
 *    is never followed while writing;
 *  - a symbolic link is created only when its target is relative and stays
 *    inside the destination (checked on the names); others are refused;
 *  - a hard link is created only to an entry already extracted (found with
 *    the same rules);
 *  - device files, FIFOs and sockets are refused;
 *  - set-user-ID, set-group-ID and sticky bits are dropped; owners are not
 *    kept.
 *
 * Each refused entry is listed in the result ("NAME: why"). The caps on
 * total bytes and entry count stop the extraction where they are reached
 * (an entry whose size alone passes the byte cap is refused before a byte
 * of it is written); the result says so. Stopping at a cap or refusing
 * entries is not an error: errors are for a destination that cannot be
 * written and a stream that is not a tar.
 */

#include <stddef.h>

#include "util/error.h"
#include "util/strlist.h"

/* Defaults of struct extract_options (0 there means these). */
#define EXTRACT_MAX_BYTES (1024ull * 1024 * 1024)
#define EXTRACT_MAX_FILES 10000u
/* Refused entries and written files listed at most; the rest are only
 * counted. */
#define EXTRACT_REFUSED_MAX 50u
#define EXTRACT_WRITTEN_MAX 1000u

struct extract_options {
	unsigned long long max_bytes; /* sum of regular file sizes */
	size_t max_files; /* entries of any kind */
	/*
	 * When the first entry is a directory (GET /containers/{id}/archive
	 * of a directory: "out/", then "out/..."), its contents go into the
	 * destination rather than the directory itself, as `docker cp
	 * c:/out/. dir` does; then an entry outside it is refused. A first
	 * entry that is a file (the archive of a file) is kept as it is.
	 */
	int strip_top_dir;
};

struct extract_result {
	size_t files; /* entries written (files, directories, links) */
	unsigned long long bytes; /* file data written */
	struct strlist refused; /* "NAME: why", at most EXTRACT_REFUSED_MAX */
	/* Regular files written, relative to the destination, at most
	 * EXTRACT_WRITTEN_MAX (the JUnit reader reads these, not whatever
	 * else the destination held before). */
	struct strlist written;
	size_t refused_count; /* all refused entries */
	/* Set when a cap stopped the extraction: what was reached, e.g.
	 * "the results exceed 1073741824 bytes (at 'big.bin')". */
	char stopped[512];
};

void extract_result_release(struct extract_result *res);

/* Pulls up to max bytes of tar into dst; returns the count, 0 at the end,
 * or -1 after filling err (same shape as engine_read_fn). */
typedef long (*extract_read_fn)(char *dst, size_t max, void *ctx,
				struct error *err);

/* Extracts the tar that read() yields into dir, created (with its
 * parents) when missing. res must be zeroed; it is filled also on
 * failure. opt may be NULL for the defaults. */
int extract_tar(const char *dir, extract_read_fn read, void *ctx,
		const struct extract_options *opt, struct extract_result *res,
		struct error *err);

/*
 * The same, fed by pushes (an engine_data_fn) rather than pulls: the
 * extraction runs in a thread of its own, reading what extract_feed()
 * hands over through a small bounded buffer.
 *
 *	struct extract_job *x = NULL;
 *	if (extract_start(&x, dir, NULL, &res, err) < 0) ...
 *	req.on_data = extract_feed; req.data_ctx = x;
 *	rc = engine_do(eng, &req, err);
 *	if (extract_finish(x, rc, err) < 0) ...   // always called
 *
 * extract_feed() fails once the extraction has ended early (a cap, an
 * error): the transfer is cut there. extract_finish() tells the thread
 * the stream ended (cleanly when transfer_rc is 0), waits for it, frees
 * the job and returns the extraction's own verdict: 0 when it stopped at
 * a cap (res->stopped says so) even though the transfer was then cut.
 */
struct extract_job;

int extract_start(struct extract_job **out, const char *dir,
		  const struct extract_options *opt, struct extract_result *res,
		  struct error *err);
int extract_feed(const char *data, size_t len, void *job, struct error *err);
int extract_finish(struct extract_job *job, int transfer_rc, struct error *err);

#endif
