# shellcheck shell=sh
# The libraries builder links, in one place: sourced by tests/fuzz/run.sh and
# tests/e2e/05-fuzz-replay.sh, read by the Makefile. LIB_PKGS are pkg-config
# names; LIB_FALLBACK is the link line when pkg-config is missing.
# shellcheck disable=SC2034 # read by the scripts that source this
LIB_PKGS="libcurl libarchive libcjson zlib yaml-0.1 libnghttp2 libprotobuf-c libcrypto expat"
# shellcheck disable=SC2034
LIB_FALLBACK="-lcurl -larchive -lcjson -lz -lyaml -lnghttp2 -lprotobuf-c -lcrypto -lexpat"
