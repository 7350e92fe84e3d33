#ifndef BUILDER_VERSION_H
#define BUILDER_VERSION_H

/*
 * builder's version ("a968366", "a968366-dirty", "dev" outside git), as
 * `git describe` says at build time. Compiled into util/version.o alone,
 * which the Makefile rebuilds whenever the version changes: an object
 * built at an older commit cannot carry an older one into the binary.
 */

extern const char *const builder_version;
/* "builder/<version>", the User-Agent of every request. */
extern const char *const builder_user_agent;

#endif
