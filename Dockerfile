# Multi-stage build: compile in the Rust image, run in a small Debian image as a non-root user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY migration ./migration
COPY src ./src
RUN cargo build --release --locked --bin dangjian

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /var/lib/dangjian dangjian
COPY --from=build /src/target/release/dangjian /usr/local/bin/dangjian
USER 10001
WORKDIR /var/lib/dangjian
ENV DANGJIAN_BIND=0.0.0.0:8080 \
    DANGJIAN_DATA_DIR=/var/lib/dangjian/data \
    DANGJIAN_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["dangjian"]
CMD ["serve"]
