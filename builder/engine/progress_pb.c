/*
 * The protobuf-c code generated from progress.proto in this folder
 * (build/proto/progress.pb-c.c; see the Makefile), compiled here as one
 * object like session/pb.c.
 */
#include "progress.pb-c.c"
