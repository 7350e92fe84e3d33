#ifndef BUILDER_CONTEXT_H
#define BUILDER_CONTEXT_H

/*
 * The build context as a tar stream, produced on demand.
 *
 * context_open() resolves the Dockerfile and loads .dockerignore; nothing
 * is read from the tree yet. context_read() is an engine_read_fn: each call
 * walks a little further (one header, or one chunk of one file) and hands
 * out the tar bytes, so the context goes to the engine while it is being
 * written and memory stays flat whatever its size.
 *
 * The archive follows the docker CLI: pax format, names relative with '/',
 * uid/gid 0 and no user names (so the classic builder's cache keys match),
 * modes and mtimes (whole seconds) kept, symlinks stored and never followed,
 * hard links as links, sockets and FIFOs skipped with a warning and never
 * opened. The Dockerfile and .dockerignore are always sent; a Dockerfile
 * outside the context is added as ".dockerfile.<hex>", as the CLI does.
 */

#include <stddef.h>

#include "util/error.h"

struct context;

/* dir: the context directory. dockerfile: as given by the user (relative
 * to the current directory like `docker build -f`, or to the context), or
 * NULL for <dir>/Dockerfile. Symlinks to the Dockerfile are followed, as the
 * CLI does: a target outside the context is injected. A missing context or
 * Dockerfile, or one that is a directory, is an EXIT_USAGE error naming the
 * path looked for. */
int context_open(struct context **out, const char *dir, const char *dockerfile,
		 struct error *err);

/* A tar of one file or directory tree at path (symlinks stored, not
 * followed), its entries named name ("app/tests", a leading '/' dropped)
 * and name/..., owner root: for PUT /containers/{id}/archive?path=/, which
 * creates missing parent directories. Read it with context_read(), end it
 * with context_close(). A path that cannot be read is EXIT_USAGE. */
int context_open_path(struct context **out, const char *path, const char *name,
		      struct error *err);

/* The value for POST /build?dockerfile=: the Dockerfile's path inside the
 * archive. Borrowed. */
const char *context_dockerfile(const struct context *ctx);

/* The Dockerfile's absolute path on disk (for reading FROM lines). */
const char *context_dockerfile_path(const struct context *ctx);

/* engine_read_fn: fills dst with up to max bytes of tar; 0 at the end.
 * A file that cannot be read is an EXIT_BUILD error naming it. */
long context_read(char *dst, size_t max, void *ctx, struct error *err);

/* Files and bytes sent so far, for the log. */
size_t context_files(const struct context *ctx);
unsigned long long context_bytes(const struct context *ctx);

/* Ends the archive early or at its end and frees everything. It never
 * touches the error given to context_read(): the first failure stays. */
void context_close(struct context *ctx);

/* The part of path below root, both absolute ("/" and "dir/" allowed as
 * root), or NULL when path is not strictly below root. Borrowed from path.
 * Pure. */
const char *context_relpath(const char *root, const char *path);

#endif
