/*
 * Range-checked integers from cJSON numbers; see json.h.
 */
#include <cjson/cJSON.h>

#include "engine/json.h"
#include "util/banned.h"

long long json_int(const cJSON *item, long long fallback)
{
	double d;

	if (!cJSON_IsNumber(item))
		return fallback;
	d = item->valuedouble;
	/* 2^63 is exact as a double; NaN fails both comparisons. */
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return fallback;
	return (long long)d;
}
