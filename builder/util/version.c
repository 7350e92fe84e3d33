/*
 * The version, from the one -DBUILDER_VERSION the Makefile passes here;
 * see version.h.
 */
#include "util/version.h"

#ifndef BUILDER_VERSION
#define BUILDER_VERSION "dev"
#endif

const char *const builder_version = BUILDER_VERSION;
const char *const builder_user_agent = "builder/" BUILDER_VERSION;
