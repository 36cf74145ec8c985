"""python-telegram-bot against the sandbox, pointed at it with PTB's standard base_url/base_file_url.

The round trip: getMe; a user sends /start through the control API; the bot receives it with getUpdates,
replies with sendMessage and the reply shows in the chat history; a user's photo is downloaded through
getFile and sent back by the bot. run.sh starts the sandbox and sets SANDBOX_URL, SANDBOX_TOKEN, FIXTURES.
"""

import asyncio
import os

import httpx
import pytest
from telegram import Bot
from telegram.error import BadRequest

URL = os.environ["SANDBOX_URL"]
TOKEN = os.environ["SANDBOX_TOKEN"]
FIXTURES = os.environ["FIXTURES"]
CHAT = 777001


def make_bot() -> Bot:
    return Bot(TOKEN, base_url=f"{URL}/bot", base_file_url=f"{URL}/file/bot")


def user_says(text: str) -> dict:
    response = httpx.post(
        f"{URL}/sandbox/chats/{CHAT}/messages",
        json={"from": {"id": CHAT, "first_name": "Py", "language_code": "en"}, "text": text},
    )
    assert response.status_code == 200, response.text
    return response.json()


def history() -> list:
    response = httpx.get(f"{URL}/sandbox/chats/{CHAT}/messages")
    assert response.status_code == 200, response.text
    return response.json()["entries"]


def test_round_trip():
    asyncio.run(round_trip())


async def round_trip():
    async with make_bot() as bot:
        me = await bot.get_me()
        assert me.is_bot
        assert me.username.endswith("bot")
        assert me.id == int(TOKEN.split(":")[0])

        sent = user_says("/start")
        updates = await bot.get_updates(timeout=5)
        assert len(updates) == 1
        message = updates[0].message
        assert message.text == "/start"
        assert message.message_id == sent["message_id"]
        assert message.entities[0].type == "bot_command"

        reply = await bot.send_message(CHAT, "Hello from python-telegram-bot", reply_to_message_id=message.message_id)
        assert reply.reply_to_message.message_id == message.message_id
        texts = [e["message"].get("text") for e in history() if e["kind"] == "message"]
        assert texts == ["/start", "Hello from python-telegram-bot"]

        with pytest.raises(BadRequest, match="(?i)message is too long"):
            await bot.send_message(CHAT, "x" * 4097)

        with open(os.path.join(FIXTURES, "images", "canon-40d.jpg"), "rb") as f:
            jpeg = f.read()
        response = httpx.post(
            f"{URL}/sandbox/chats/{CHAT}/messages",
            data={"from": '{"id": %d, "first_name": "Py"}' % CHAT, "caption": "my camera"},
            files={"photo": ("camera.jpg", jpeg, "image/jpeg")},
        )
        assert response.status_code == 200, response.text
        updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=5)
        photo_message = updates[0].message
        assert photo_message.caption == "my camera"
        largest = photo_message.photo[-1]
        file = await bot.get_file(largest.file_id)
        data = await file.download_as_bytearray()
        assert len(data) == largest.file_size
        assert data[:3] == b"\xff\xd8\xff"

        echoed = await bot.send_photo(CHAT, photo=bytes(data), caption="back to you")
        assert echoed.caption == "back to you"
        assert echoed.photo[-1].width == largest.width
        last = history()[-1]
        assert last["message"]["caption"] == "back to you"
        assert last["message"]["from"]["is_bot"] is True
