# Alicia Config Manager, headless, in a container.
#
#   docker build -t alicia-config-manager .
#   docker run -d --name alicia -p 3000:3000 \
#     -e MQTT_BROKER=mqtt://broker.home.lan:1883 \
#     -e ALICIA_API_TOKEN="$(openssl rand -hex 32)" \
#     -v alicia-config:/var/lib/alicia-config-manager alicia-config-manager
#
# Inside the container the REST server binds 0.0.0.0 (so -p works), which needs a token: the
# app refuses to start without ALICIA_API_TOKEN. Name the broker your services use
# (MQTT_BROKER, with MQTT_USERNAME / MQTT_PASSWORD if it asks): the embedded broker, used when
# none is named, listens on the container's loopback only and serves no one else. Configs,
# history and settings are kept in the volume.

# ---- build -------------------------------------------------------------------------------
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# Build settings (mimalloc commits memory as it is used: BENCHMARKS.md, "Footprint").
COPY .cargo ./.cargo
COPY src ./src
COPY crates ./crates
COPY assets ./assets
COPY benches ./benches
RUN cargo build --release --locked --bin alicia-config-manager

# ---- run ---------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/alicia-config-manager --shell /usr/sbin/nologin alicia \
    && install -d -o alicia -g alicia -m 0700 /var/lib/alicia-config-manager
COPY --from=build /src/target/release/alicia-config-manager /usr/bin/alicia-config-manager
USER alicia
ENV CONFIG_PATH=/var/lib/alicia-config-manager \
    ALICIA_LOG_DIR=/var/lib/alicia-config-manager/logs \
    ALICIA_API_BIND=0.0.0.0 \
    PORT=3000
VOLUME ["/var/lib/alicia-config-manager"]
EXPOSE 3000
# Healthy only when every part is up: /api/health answers 200 `degraded` (the seed's shape)
# when the broker is down, which must make the container unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${PORT}/api/health" | grep -q '"status":"healthy"' || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/alicia-config-manager", "--headless"]
