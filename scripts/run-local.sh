#!/usr/bin/env bash
# Runs the whole of mediabot on this machine: nats-server (JetStream), billing (SQLite), imaging, speech,
# documents, generation, gateway — and, when no TELOXIDE_TOKEN is given, telegram-sandbox, a local Telegram Bot API
# server you can use with curl (see README); when no FAL_KEY is given, provider-sandbox, a local server that speaks
# Fal's queue API and OpenAI's chat completions, so /create and /prompt work offline. Ctrl-C stops everything this
# script started.
#
# Environment (all optional):
#   TELOXIDE_TOKEN    a real bot token: the gateway talks to Telegram instead of the sandbox
#   WHISPER_MODEL     path to a whisper.cpp ggml model (default: the first models/*.bin, if any)
#   STATE_DIR         where data and logs go (default: .run/)
#   WEBHOOK_URL WEBHOOK_SECRET WEBHOOK_LISTEN   the gateway's webhook mode instead of long polling (optional)
#   FAL_KEY           a real Fal key: generation talks to Fal (FAL_QUEUE_URL, default https://queue.fal.run)
#                     instead of provider-sandbox; then LLM_BASE_URL, LLM_API_KEY and LLM_MODEL name the
#                     OpenAI-compatible LLM that writes prompts (default: OpenAI)
#   NATS_PORT SANDBOX_PORT BILLING_PORT IMAGING_PORT SPEECH_PORT DOCUMENTS_PORT GENERATION_PORT
#   PROVIDER_SANDBOX_PORT API_PORT
#                     (defaults 14222 8081 50051 50052 50053 50054 50055 8090 8000; API_PORT: the gateway's
#                     OpenAI-compatible HTTP API)
# Each service serves Prometheus metrics on its own port (gateway 9100, billing 9101, imaging 9102, speech
# 9103, documents 9104, generation 9105: their --metrics-listen defaults); the gateway also answers /healthz
# and /readyz there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash scripts/install-deps.sh
echo "building (the first build takes several minutes)…"
cargo build --workspace --bins --quiet
bin="${CARGO_TARGET_DIR:-$root/target}/debug"

state="${STATE_DIR:-$root/.run}"
mkdir -p "$state/nats" "$state/logs"
nats_port="${NATS_PORT:-14222}"
sandbox_port="${SANDBOX_PORT:-8081}"
billing_port="${BILLING_PORT:-50051}"
imaging_port="${IMAGING_PORT:-50052}"
speech_port="${SPEECH_PORT:-50053}"
api_port="${API_PORT:-8000}"
documents_port="${DOCUMENTS_PORT:-50054}"
generation_port="${GENERATION_PORT:-50055}"
provider_port="${PROVIDER_SANDBOX_PORT:-8090}"
for port in "$nats_port" "$billing_port" "$imaging_port" "$speech_port" "$documents_port" "$generation_port" "$api_port" 9100 9101 9102 9103 9104 9105 $([[ -z "${TELOXIDE_TOKEN:-}" ]] && echo "$sandbox_port") $([[ -z "${FAL_KEY:-}" ]] && echo "$provider_port"); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use; stop what uses it or choose another (see the top of $0)" >&2
    exit 1
  fi
done

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "stopping…"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

start() { # name, command...
  local name=$1; shift
  "$@" >"$state/logs/$name.log" 2>&1 &
  pids+=($!)
}
wait_port() { # name port
  for _ in $(seq 1 150); do
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "$1 did not start; its log:" >&2; tail -n 30 "$state/logs/$1.log" >&2; exit 1
}

export RUST_LOG="${RUST_LOG:-info}"
export NATS_URL="nats://127.0.0.1:$nats_port"
start nats nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$state/nats"
wait_port nats "$nats_port"

if [[ -z "${TELOXIDE_TOKEN:-}" ]]; then
  export TELOXIDE_TOKEN="1234567890:sandbox-local-token-0000000000"
  export TELOXIDE_API_URL="http://127.0.0.1:$sandbox_port"
  start telegram-sandbox "$bin/telegram-sandbox" --listen "127.0.0.1:$sandbox_port" --token "$TELOXIDE_TOKEN"
  wait_port telegram-sandbox "$sandbox_port"
fi

model="${WHISPER_MODEL:-$(ls "$root"/models/*.bin 2>/dev/null | head -n 1 || true)}"
DATABASE_URL="${DATABASE_URL:-sqlite://$state/billing.sqlite?mode=rwc}" \
  start billing "$bin/billing" --listen "127.0.0.1:$billing_port"
start imaging "$bin/imaging" --listen "127.0.0.1:$imaging_port"
if [[ -n "$model" ]]; then
  WHISPER_MODEL="$model" start speech "$bin/speech" --listen "127.0.0.1:$speech_port"
else
  env -u WHISPER_MODEL "$bin/speech" --listen "127.0.0.1:$speech_port" >"$state/logs/speech.log" 2>&1 &
  pids+=($!)
fi
start documents "$bin/documents" --listen "127.0.0.1:$documents_port"
if [[ -z "${FAL_KEY:-}" ]]; then
  # No provider keys: the provider sandbox stands in for Fal and the LLM, with its own keys.
  start provider-sandbox "$bin/provider-sandbox" --listen "127.0.0.1:$provider_port"
  wait_port provider-sandbox "$provider_port"
  export FAL_QUEUE_URL="http://127.0.0.1:$provider_port" FAL_KEY="sandbox-fal-key"
  export LLM_BASE_URL="http://127.0.0.1:$provider_port/v1" LLM_API_KEY="sandbox-openai-key"
  providers="provider-sandbox http://127.0.0.1:$provider_port (Fal queue API + OpenAI chat completions)"
else
  providers="${FAL_QUEUE_URL:-https://queue.fal.run}, LLM ${LLM_BASE_URL:-https://api.openai.com/v1}"
fi
start generation "$bin/generation" --listen "127.0.0.1:$generation_port"
wait_port billing "$billing_port"; wait_port imaging "$imaging_port"; wait_port speech "$speech_port"
wait_port documents "$documents_port"; wait_port generation "$generation_port"
BILLING_URL="http://127.0.0.1:$billing_port" IMAGING_URL="http://127.0.0.1:$imaging_port" \
  SPEECH_URL="http://127.0.0.1:$speech_port" DOCUMENTS_URL="http://127.0.0.1:$documents_port" \
  GENERATION_URL="http://127.0.0.1:$generation_port" \
  API_LISTEN="127.0.0.1:$api_port" start gateway "$bin/gateway"

# The gateway long-polls unless WEBHOOK_URL (with WEBHOOK_SECRET, WEBHOOK_LISTEN) puts it in webhook mode.
if [[ -n "${WEBHOOK_URL:-}" ]]; then
  updates="webhook $WEBHOOK_URL (set on ${TELOXIDE_API_URL:-Telegram})"
else
  updates="polling ${TELOXIDE_API_URL:-Telegram}"
fi
cat <<MSG

mediabot is running.
  nats-server (JetStream)  $NATS_URL
  billing   gRPC           127.0.0.1:$billing_port   (SQLite: ${DATABASE_URL:-$state/billing.sqlite})
  imaging   gRPC           127.0.0.1:$imaging_port
  speech    gRPC           127.0.0.1:$speech_port   (model: ${model:-none — voice transcription is off; see README})
  documents gRPC           127.0.0.1:$documents_port   (text from PDF/DOCX/ODT/TXT, OCR of photos: Tesseract rus+eng)
  generation gRPC          127.0.0.1:$generation_port   (/create, /prompt: $providers)
  gateway                  $updates
  HTTP API (OpenAI-style)  http://127.0.0.1:$api_port/v1   (key: /apikey in the bot, or
                           DATABASE_URL=${DATABASE_URL:-sqlite://$state/billing.sqlite} $bin/billing api-key issue --account 1001)
  metrics (Prometheus)     http://127.0.0.1:9100/metrics gateway (also /healthz, /readyz)
                           http://127.0.0.1:9101/metrics billing, :9102 imaging, :9103 speech, :9104 documents,
                           :9105 generation
MSG
if [[ -n "${TELOXIDE_API_URL:-}" ]]; then
  cat <<MSG
  telegram-sandbox         $TELOXIDE_API_URL   (Bot API for the bot; control API for you, see README)

Try it in a browser:  $TELOXIDE_API_URL/
or with curl:
  curl -s -X POST $TELOXIDE_API_URL/sandbox/chats/1001/messages -H 'content-type: application/json' \\
       -d '{"from":{"id":1001,"first_name":"Ann","language_code":"en"},"text":"/start"}'
  curl -s "$TELOXIDE_API_URL/sandbox/chats/1001/messages?wait=5"
MSG
fi
echo "logs: $state/logs/   Ctrl-C stops everything."
wait -n "${pids[@]}" || true
echo "a process exited unexpectedly; its log is in $state/logs/" >&2
exit 1
