/*
 * The protobuf-c code generated from our own .proto files in this folder
 * (build/proto/NAME.pb-c.c, made by protoc-c; see the Makefile). Compiled
 * here as one object, so that every list of library objects (Makefile,
 * tests/fuzz) stays "every .c file under builder/".
 */
#include "auth.pb-c.c"
#include "fsutil.pb-c.c"
#include "health.pb-c.c"
#include "secrets.pb-c.c"
#include "sshforward.pb-c.c"
