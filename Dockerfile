# syntax=docker/dockerfile:1
# e911-harness in a container: built with cargo, run as the binary alone (the scenario library
# is compiled in) on a distroless base with glibc and nothing else.
#
#   docker build -t e911-harness .
#   docker run --rm e911-harness                        # certify on the embedded gateways
#   docker run --rm e911-harness load --rate 500 --duration 30s --out /tmp/load
#
# deploy/k8s/ runs it as N load generators (an Indexed Job) plus the merge step.

# Both stages on Debian 13 (trixie): the binary links the glibc it was built against.
FROM rust:1.95-slim-trixie AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin e911-harness \
 && install -D -m 0755 target/release/e911-harness /out/e911-harness

FROM gcr.io/distroless/cc-debian13:nonroot
COPY --from=build /out/e911-harness /usr/local/bin/e911-harness
WORKDIR /home/nonroot
USER nonroot
# --metrics-listen 0.0.0.0:9464 serves OpenMetrics here.
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/e911-harness"]
CMD ["certify", "--out", "out/certify"]
