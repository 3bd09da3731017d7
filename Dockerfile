# syntax=docker/dockerfile:1
# The panelgate image: a release build of the `panelgate` binary on distroless
# (glibc, libgcc, CA certificates, no shell, no package manager), running as
# the nonroot user 65532. The Helm chart (helm/panelgate) deploys it.
#
#   docker build -t ghcr.io/panelgate/panelgate:0.1.0 .
#   docker run -p 50051:50051 -v panelgate-data:/data ghcr.io/panelgate/panelgate:0.1.0
#
# Without DATABASE_URL the inventory is SQLite in /data, the working directory:
# fine for one container on one machine; replicas need PostgreSQL.

# Builder and runtime share one Debian release (12, bookworm), hence one glibc:
# the binary links against the builder's.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# BuildKit caches keep the crates and target/ between builds; the binary is
# copied out of the cached target/ because the cache is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p panelgate \
 && install -D -m 0755 target/release/panelgate /out/panelgate \
 && mkdir -p /out/data

# cc-debian12 carries /etc/ssl/certs/ca-certificates.crt, which
# rustls-platform-verifier reads on Linux to check the panels' certificates.
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="panelgate" \
      org.opencontainers.image.description="One gRPC API in front of a fleet of web-hosting control panels" \
      org.opencontainers.image.source="https://github.com/panelgate/panelgate" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/panelgate /usr/local/bin/panelgate
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
USER 65532:65532
# In a container the listeners must face the network, not loopback.
ENV PANELGATE_LISTEN=0.0.0.0:50051 \
    PANELGATE_METRICS_LISTEN=0.0.0.0:9090
# 50051: gRPC (plaintext HTTP/2). 9090: Prometheus metrics.
EXPOSE 50051 9090
ENTRYPOINT ["/usr/local/bin/panelgate"]
CMD ["serve"]
