FROM busybox:latest
RUN echo "about to fail"
RUN echo "failing now" && exit 3
