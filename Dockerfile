# builder's image: the static binary and a CA bundle, nothing else.
#
# The build context is the one scripts/make-image.sh prepares (`make image`):
#   bin/builder-static                    from `make static`
#   etc/ssl/certs/ca-certificates.crt     the build machine's bundle
# Run it with run.sh, which mounts the engine socket and the current
# directory at /app.
FROM scratch

ARG SOURCE_URL=
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="builder" \
      org.opencontainers.image.description="Build, test, tag and push a Docker image through the Engine API" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="${LICENSES}"

# libcurl looks for the bundle at Debian's path; TLS to a remote engine
# uses DOCKER_CERT_PATH's ca.pem instead.
COPY etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY bin/builder-static /builder

WORKDIR /app
ENTRYPOINT ["/builder"]
