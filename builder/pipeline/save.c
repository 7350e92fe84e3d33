/*
 * SAVE: GET /images/get?names=A&names=B streamed into a file; see save.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/save.h"
#include "util/buf.h"
#include "util/banned.h"

struct sink {
	int fd;
	const char *path;
	unsigned long long bytes;
};

static int write_all(const char *data, size_t len, void *ctx, struct error *err)
{
	struct sink *s = ctx;

	while (len) {
		ssize_t n = write(s->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(err, EXIT_USAGE,
				       "cannot write the image to '%s': %s; "
				       "check SAVE",
				       s->path, strerror(errno));
		data += n;
		len -= (size_t)n;
		s->bytes += (unsigned long long)n;
	}
	return 0;
}

int save_image(struct engine *eng, const struct strlist *names,
	       const char *path, unsigned long long *bytes, struct error *err)
{
	struct engine_request req = ENGINE_REQUEST_INIT;
	struct sink s = { -1, path, 0 };
	struct buf url = BUF_INIT(BUF_PATH_MAX), tmp = BUF_INIT(BUF_PATH_MAX);
	struct stat st;
	int direct, ret = -1;

	if (!names || !names->n)
		return err_set(err, EXIT_USAGE, "SAVE: no image to save");
	direct = stat(path, &st) == 0 && !S_ISREG(st.st_mode);
	if (direct) {
		s.fd = open(path, O_WRONLY | O_CLOEXEC);
	} else {
		buf_addf(&tmp, "%s.tmp.XXXXXX", path);
		s.fd = mkostemp(tmp.data, O_CLOEXEC);
		if (s.fd >= 0)
			fchmod(s.fd, 0644);
	}
	if (s.fd < 0) {
		err_set(err, EXIT_USAGE,
			"cannot write the image to '%s': %s; "
			"check SAVE",
			path, strerror(errno));
		goto out;
	}
	buf_addstr(&url, "/images/get?");
	for (size_t i = 0; i < names->n; i++) {
		buf_addstr(&url, i ? "&names=" : "names=");
		buf_add_urlencoded(&url, names->v[i]);
	}
	req.method = "GET";
	req.path = url.data;
	req.on_data = write_all;
	req.data_ctx = &s;
	if (engine_do(eng, &req, err) < 0) {
		err_wrap(err, "cannot save the image '%s'", names->v[0]);
		goto out;
	}
	if (fsync(s.fd) < 0 && errno != EINVAL && errno != EROFS) {
		err_set(err, EXIT_USAGE, "cannot write the image to '%s': %s",
			path, strerror(errno));
		goto out;
	}
	if (close(s.fd) < 0) {
		s.fd = -1;
		err_set(err, EXIT_USAGE, "cannot write the image to '%s': %s",
			path, strerror(errno));
		goto out;
	}
	s.fd = -1;
	if (!direct && rename(tmp.data, path) < 0) {
		err_set(err, EXIT_USAGE,
			"cannot write the image to '%s': %s; "
			"check SAVE",
			path, strerror(errno));
		goto out;
	}
	if (bytes)
		*bytes = s.bytes;
	ret = 0;
out:
	if (s.fd >= 0)
		close(s.fd);
	if (ret < 0 && !direct && tmp.data)
		unlink(tmp.data);
	buf_release(&url);
	buf_release(&tmp);
	return ret;
}
