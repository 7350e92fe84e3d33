#ifndef BUILDER_JSON_H
#define BUILDER_JSON_H

/*
 * Small helpers for reading what the engine sends as JSON. cJSON keeps
 * numbers as doubles; converting one that is out of range (1e300, NaN) to
 * an integer is undefined behaviour, so every integer goes through here.
 */

struct cJSON;

/* item's value as an integer, or fallback when item is not a number or
 * does not fit in a long long. */
long long json_int(const struct cJSON *item, long long fallback);

#endif
