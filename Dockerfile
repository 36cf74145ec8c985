# syntax=docker/dockerfile:1
# Container images of mediabot: one Dockerfile, one target per binary.
#
#   docker build --target billing          -t mediabot/billing:dev .
#   docker build --target gateway          -t mediabot/gateway:dev .
#   docker build --target imaging          -t mediabot/imaging:dev .
#   docker build --target speech           -t mediabot/speech:dev .
#   docker build --target documents        -t mediabot/documents:dev .
#   docker build --target generation       -t mediabot/generation:dev .
#   docker build --target telegram-sandbox -t mediabot/telegram-sandbox:dev .
#   docker build --target provider-sandbox -t mediabot/provider-sandbox:dev .
#
# The image names are the ones k8s/base uses (k8s/README.md). Stages: `chef` (toolchain and the C/C++
# build tools), `planner` (the dependency recipe), `builder` (dependencies cooked in their own layer, then
# the workspace), one small runtime stage per binary. Every target shares the builder, so building them one
# after another compiles the workspace once.
#
# whisper.cpp (whisper-rs-sys builds it with CMake from its build script) compiles with -march=native
# unless told otherwise, and a binary built that way dies with SIGILL on an older CPU. The build script
# passes every GGML_*/WHISPER_*/CMAKE_* environment variable to CMake as a definition, so the ENV below
# switches native tuning off and names the baseline explicitly: x86-64-v3 (AVX2, FMA, F16C, BMI2; Intel
# Haswell / AMD Zen and newer). ggml's run-time selection of CPU variants (GGML_CPU_ALL_VARIANTS) needs
# ggml as shared libraries, which whisper-rs-sys links statically, so a fixed baseline it is; build with
# `--build-arg GGML_AVX2=OFF --build-arg GGML_FMA=OFF --build-arg GGML_F16C=OFF --build-arg GGML_BMI2=OFF`
# for older CPUs (SSE4.2/AVX only, about 2x slower transcription). The baseline is named explicitly
# because ggml turns all of these off by default when SOURCE_DATE_EPOCH is set (reproducible builds).
# libjpeg-turbo (turbojpeg) and fast_image_resize choose their SIMD at run time; the Rust code targets
# plain x86-64.
#
# No model is baked in: the speech pod gets its whisper model from a volume (k8s/base/speech).

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
# protoc: the proto crate; cmake, clang, libclang-dev: whisper.cpp, libopus and libjpeg-turbo builds and
# bindgen; nasm: libjpeg-turbo's SIMD; libheif-dev: HEIF/AVIF in imaging; libtesseract-dev and
# libleptonica-dev: OCR in documents (bindgen reads their headers); the same list as
# scripts/install-deps.sh's build tools.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      protobuf-compiler cmake clang libclang-dev pkg-config nasm make g++ libheif-dev \
      libtesseract-dev libleptonica-dev \
 && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
ARG GGML_AVX=ON
ARG GGML_AVX2=ON
ARG GGML_FMA=ON
ARG GGML_F16C=ON
ARG GGML_BMI2=ON
ENV GGML_NATIVE=OFF \
    GGML_SSE42=ON \
    GGML_AVX=${GGML_AVX} \
    GGML_AVX2=${GGML_AVX2} \
    GGML_FMA=${GGML_FMA} \
    GGML_F16C=${GGML_F16C} \
    GGML_BMI2=${GGML_BMI2} \
    CARGO_TERM_COLOR=never
COPY --from=planner /src/recipe.json recipe.json
# The dependency layer: rebuilt only when Cargo.toml/Cargo.lock change, not on every source edit.
RUN cargo chef cook --release --locked --recipe-path recipe.json \
      -p billing -p gateway -p imaging -p speech -p documents -p generation -p telegram-sandbox \
      -p provider-sandbox
COPY . .
RUN cargo build --release --locked \
      --bin billing --bin gateway --bin imaging --bin speech --bin documents --bin generation \
      --bin telegram-sandbox --bin provider-sandbox \
 && mkdir -p /out \
 && cp target/release/billing target/release/gateway target/release/imaging target/release/speech \
       target/release/documents target/release/generation target/release/telegram-sandbox \
       target/release/provider-sandbox /out/

# The runtime: the same Debian release as the builder (glibc, and libstdc++ for whisper.cpp), nothing
# else: TLS roots are compiled in (rustls with webpki roots), the probes are Kubernetes' own gRPC and HTTP
# probes, so there is no shell tool to add. A numeric non-root user, so `runAsNonRoot` can verify it.
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
RUN groupadd --gid 10001 mediabot \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin mediabot
USER 10001:10001
WORKDIR /tmp

FROM runtime AS billing
COPY --from=builder /out/billing /usr/local/bin/billing
# gRPC; metrics
EXPOSE 50051 9101
ENTRYPOINT ["/usr/local/bin/billing"]

FROM runtime AS gateway
COPY --from=builder /out/gateway /usr/local/bin/gateway
# metrics, /healthz, /readyz
EXPOSE 9100
ENTRYPOINT ["/usr/local/bin/gateway"]

FROM runtime AS imaging
# libheif (HEIF/HEIC and AVIF; it brings libde265, dav1d and libaom) is linked dynamically. The fonts of
# image.add_text come from Debian packages, in /usr/share/fonts (imaging's --font-dir default): DejaVu
# Sans for Latin and Cyrillic, Noto Color Emoji for emoji. Nothing is fetched at run time.
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends libheif1 fonts-dejavu-core fonts-noto-color-emoji \
 && rm -rf /var/lib/apt/lists/*
USER 10001:10001
COPY --from=builder /out/imaging /usr/local/bin/imaging
EXPOSE 50052 9102
ENTRYPOINT ["/usr/local/bin/imaging"]

FROM runtime AS speech
COPY --from=builder /out/speech /usr/local/bin/speech
EXPOSE 50053 9103
ENTRYPOINT ["/usr/local/bin/speech"]

FROM runtime AS documents
# libtesseract (with libleptonica) is linked dynamically; the Russian and English models are Debian's
# (tesseract-ocr-rus, tesseract-ocr-eng: /usr/share/tesseract-ocr/5/tessdata, the library's default).
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends libtesseract5 tesseract-ocr-rus tesseract-ocr-eng \
 && rm -rf /var/lib/apt/lists/*
USER 10001:10001
COPY --from=builder /out/documents /usr/local/bin/documents
EXPOSE 50054 9104
ENTRYPOINT ["/usr/local/bin/documents"]

FROM runtime AS generation
# HTTPS to Fal and the LLM with rustls and compiled-in roots, like the others: nothing to add.
COPY --from=builder /out/generation /usr/local/bin/generation
EXPOSE 50055 9105
ENTRYPOINT ["/usr/local/bin/generation"]

FROM runtime AS telegram-sandbox
COPY --from=builder /out/telegram-sandbox /usr/local/bin/telegram-sandbox
EXPOSE 8081
ENTRYPOINT ["/usr/local/bin/telegram-sandbox"]

FROM runtime AS provider-sandbox
# It letters the pictures it makes with fonts from /usr/share/fonts (its --font-dir default) and refuses
# to start without any: DejaVu Sans covers Latin and Cyrillic.
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
USER 10001:10001
COPY --from=builder /out/provider-sandbox /usr/local/bin/provider-sandbox
EXPOSE 8090
ENTRYPOINT ["/usr/local/bin/provider-sandbox"]
