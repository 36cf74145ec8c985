"""The official OpenAI Python client against the gateway's HTTP API (driven by tests/e2e/openai_api.rs).

Environment: API_BASE_URL (http://127.0.0.1:PORT/v1), API_KEY (an account with money), POOR_API_KEY (an
account that cannot pay for a minute), FIXTURES (the shared fixtures directory). Asserts, then prints one
JSON line of measurements. Exits non-zero on the first failed check.
"""

import json
import os
import sys
import time
from pathlib import Path

import openai
from openai import OpenAI

fixtures = Path(os.environ["FIXTURES"])
base_url = os.environ["API_BASE_URL"]
jfk = fixtures / "audio" / "jfk.wav"
client = OpenAI(base_url=base_url, api_key=os.environ["API_KEY"], max_retries=0, timeout=300)
measured = {"openai_version": openai.__version__}


def transcribe(path, **kwargs):
    with path.open("rb") as f:
        return client.audio.transcriptions.create(model="whisper-1", file=f, **kwargs)


started = time.monotonic()
with jfk.open("rb") as f:
    raw = client.audio.transcriptions.with_raw_response.create(model="whisper-1", file=f)
measured["json_seconds"] = round(time.monotonic() - started, 3)
measured["processing_ms"] = int(raw.headers["openai-processing-ms"])
plain = raw.parse()
assert "fellow americans" in plain.text.lower(), plain.text

verbose = transcribe(
    jfk,
    response_format="verbose_json",
    language="en",
    temperature=0.0,
    prompt="President John F. Kennedy, inaugural address.",
)
assert verbose.language == "english", verbose.language
assert 10.5 < verbose.duration < 11.5, verbose.duration
assert verbose.segments, verbose
assert all(s.end >= s.start for s in verbose.segments), verbose.segments
assert "country" in verbose.text.lower(), verbose.text

text = transcribe(jfk, response_format="text")
assert isinstance(text, str) and "fellow americans" in text.lower(), text
srt = transcribe(jfk, response_format="srt")
assert isinstance(srt, str) and srt.startswith("1\n") and " --> " in srt, srt
vtt = transcribe(jfk, response_format="vtt")
assert isinstance(vtt, str) and vtt.startswith("WEBVTT"), vtt

# An Opus voice note, as Telegram would send it.
voice = transcribe(fixtures / "audio" / "jfk-voice.ogg")
assert "americans" in voice.text.lower(), voice.text

with jfk.open("rb") as f:
    translation = client.audio.translations.create(model="whisper-1", file=f)
assert "country" in translation.text.lower(), translation.text

bad = OpenAI(base_url=base_url, api_key="mb_" + "0" * 64, max_retries=0)
try:
    with jfk.open("rb") as f:
        bad.audio.transcriptions.create(model="whisper-1", file=f)
    sys.exit("a bad key was accepted")
except openai.AuthenticationError as e:
    assert e.status_code == 401 and e.code == "invalid_api_key", (e.status_code, e.body)

# Default retries: the 429 says x-should-retry: false, so the client gives up at once.
poor = OpenAI(base_url=base_url, api_key=os.environ["POOR_API_KEY"])
started = time.monotonic()
try:
    with jfk.open("rb") as f:
        poor.audio.transcriptions.create(model="whisper-1", file=f)
    sys.exit("an account without money was served")
except openai.RateLimitError as e:
    assert e.status_code == 429 and e.code == "insufficient_quota", (e.status_code, e.body)
measured["insufficient_quota_seconds"] = round(time.monotonic() - started, 3)
assert measured["insufficient_quota_seconds"] < 5, measured

try:
    client.audio.transcriptions.create(
        model="whisper-1", file=("notes.mp3", b"this is not audio at all" * 100, "audio/mpeg")
    )
    sys.exit("a corrupt file was accepted")
except openai.BadRequestError as e:
    assert e.status_code == 400, (e.status_code, e.body)
    assert e.code in ("corrupt_audio", "unsupported_format"), e.body

print(json.dumps(measured))
