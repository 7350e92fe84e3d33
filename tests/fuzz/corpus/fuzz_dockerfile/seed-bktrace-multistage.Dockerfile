FROM busybox:latest AS base
RUN echo "hello from stage one" && echo "second line" && printf 'no newline'
RUN echo to-stderr >&2; echo done > /done.txt

FROM busybox:latest
COPY --from=base /done.txt /done.txt
COPY hello.txt /hello.txt
RUN cat /done.txt /hello.txt
