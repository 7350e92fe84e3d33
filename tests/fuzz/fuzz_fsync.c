/*
 * libFuzzer target for the FileSync packet decoder (fsync_decode in
 * builder/session/fsync.c): whatever bytes the daemon sends as a Packet,
 * the decoder returns a known type with its data intact, or an
 * EXIT_ENGINE error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session/fsync.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fsync_packet p;
	struct error err = ERROR_INIT;

	if (fsync_decode(data, size, &p, &err) < 0) {
		if (err.code != EXIT_ENGINE || p.data)
			abort();
		return 0;
	}
	if (p.type < FSYNC_STAT || p.type > FSYNC_ERR)
		abort();
	if ((p.data == NULL) != (p.data_len == 0) ||
	    (p.data && p.data[p.data_len] != '\0'))
		abort();
	fsync_packet_release(&p);
	return 0;
}
