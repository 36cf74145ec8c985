### The commands, the account and the menu: /start, /help, /language, /cancel, /ping, /apikey, /balance,
### /history, /add_balance, the main menu, and the refusals that any message may get.
### Every message here is also in ../ru/bot.ftl (a test compares the ids).

# /start: $prices are the price list's lines, already formatted, one per line.
welcome =
    Hi! I process what you send me:
    • a photo or an image file — I upscale it 2× or 4×, compress it to a size, or convert it to another format (JPEG, PNG, WebP; I read HEIC and AVIF too), or add text to it;
    • a voice note, audio, a video or a video message — I turn the speech into text;
    • /create — I draw a picture from a description, /prompt — I write a detailed prompt from an idea;
    • from photos: ✏️ I edit them as you describe (up to 4 photos), ✨ retouch a portrait, 🔄 swap a face.
    The modes are on the keyboard below (/menu).

    Prices:
    { $prices }

    Your balance: { $balance }
    You only pay for work that is done.
    /help for help, /balance for your balance.
welcome-price = • { $price }

help =
    Send a photo or an image file (JPEG, PNG, WebP, HEIC, AVIF, GIF, BMP, TIFF) and I will offer to upscale it 2× or 4×, to compress it to 1, 2, 4 or 8 MB, or to convert it to JPEG, PNG or WebP, or to add text to it (Latin, Cyrillic, emoji; describe the size, colour, place and plate in your own words, e.g. "big yellow text at the top"); the result comes as a file at full resolution, without EXIF or location.
    Send a voice note, an audio file, a video or a video message and I will send back the transcript (in your language, English or Russian; see /language), with a button to translate it to English.
    Send a document (PDF, DOCX, ODT, TXT, MD, CSV) and I will extract its text; for the text in a photo, press "Text from photo".
    /create draws a picture from a description (choose the shape with the buttons), /prompt writes a detailed prompt from an idea, with a "Create" button. For full control: "Image <description> | model=flash | size=vertical | aspect_ratio=16:9 | negative=text".
    Under a photo there are "✏️ Edit" (by your instruction, up to 4 photos, the model and the format with the buttons), "✨ Retouch" (soft or enhance features, up to 10 MB) and "🔄 Face swap" (the face from that photo, then send the photo to put it on). While a picture is being made, "✖️ Cancel" stops it. Every mode is in /menu.
    Files up to { $limit_mb } MB. If something fails, you are not charged.

    /start to begin, /menu for the menu, /balance for your balance, /history for your operations, /status for jobs in progress (/status and a job's number for one job), /apikey for an HTTP API key, /cancel to cancel what I am asking for, /language for the language, /ping to check the bot works, /help for this text.

# /language, in the language it describes: what is set, and what the buttons do.
language-menu =
    🌐 Language: English. I transcribe voice notes and videos in English.
    Choose a language, or let me detect the spoken language.
language-menu-detect-speech =
    🌐 Language: English. I detect the spoken language of voice notes and videos.
    Choose a language, or transcribe in the interface language.
language-saved = ✅ Done: I answer in English and transcribe speech in English.
language-saved-detect-speech = ✅ Done: I answer in English and detect the spoken language.
# The button that switches the spoken-language setting: to detection, and back.
language-speech-button = 🎙 Detect the spoken language
language-speech-button-detect-speech = 🎙 Transcribe in English

# /cancel
cancelled = Cancelled. Send a photo, a voice note or a document when you are ready.
cancelled-nothing = Nothing to cancel: I am not waiting for anything from you.

# /ping: a line per part of the system; $ms is the round-trip time in milliseconds.
ping = 🏓 Pong! The bot is up.
ping-part-nats = Job queue (NATS)
ping-part-billing = Balance and payments
ping-part-imaging = Images
ping-part-speech = Speech to text
ping-part-documents = Text from documents
ping-part-generation = Pictures and prompts (providers)
ping-up = ✅ { $name } — { $ms } ms
ping-not-set-up = ⚠️ { $name } — not set up here ({ $ms } ms)
ping-down = ❌ { $name } — not answering
ping-some-down = What depends on ❌ or ⚠️ will not work for now: the bot will say so and charge nothing.

# /apikey
api-key =
    Your API key (shown only now; keep it like a password):
    { $key }

    The API is OpenAI-compatible (speech to text and translation): give an OpenAI client base_url { $base_url } and this key. It is paid from this balance, per minute, as in the bot; failed requests are free.

    curl { $base_url }/audio/transcriptions -H "Authorization: Bearer { $key }" -F file=@audio.ogg -F model=whisper-1
# A paragraph after api-key when the key replaced an older one.
api-key-replaced = Your previous key no longer works.
api-off = The HTTP API is not enabled on this installation.
api-key-private-only = I give API keys in a private chat with me only.

# /balance; $held: what holds reserve for jobs in progress.
balance = Your balance: { $available }
balance-held =
    Your balance: { $available }
    Reserved for jobs in progress: { $held }

# /history: a line per paid operation, newest first, paged with More.
history-page = Your operations, newest first (Moscow time):
history-page-earlier = Earlier:
history-page-empty = No paid operations yet. Your balance: /balance.
history-page-no-more = No more operations.
more-button = More ⬇️
# A paid operation's state (/history, /status with a job's number).
hold-state-text-pending = ⏳ in progress
hold-state-text-captured = ✅ done and paid
hold-state-text-returned = ↩️ not done, money returned
hold-state-text-unknown = —

# /status: the jobs in progress ($progress: a progress-text-* text), or one job by its number.
status-list = { $count } { $count ->
        [one] job
       *[other] jobs
    } in progress:
status-list-empty = Nothing in progress. Finished operations are in /history.
status-list-one-job = One job in detail: /status and its number.
status-line = #{ $short_id } · { $operation } · { $progress }
status-one =
    Job #{ $short_id }: { $name }
    Started: { $when } (Moscow time)
    State: { $state }
status-one-amount =
    Job #{ $short_id }: { $name }
    Started: { $when } (Moscow time)
    Amount: { $amount }
    State: { $state }
status-unknown = None of your jobs is #{ $short_id }. The number is the 8 characters after # in a job's message or in /history.
status-bad-id = A job number is the 8 characters after # in a job's message, e.g. /status 1a2b3c4d.

# In a group ($bot_username without the @).
group-how-to = In a group I read only commands with my name (/help@{ $bot_username }), mentions of @{ $bot_username } and replies to my messages: to have a photo or a file processed, send it as a reply to one of my messages or with @{ $bot_username } in its caption. The menu with buttons is in a private chat with me.

# /add_balance (administrators)
not-allowed = This command is for administrators only. Nothing was changed.
add-balance-invalid =
    { $why }
    Format: /add_balance [<telegram id>] <amount in ₽>
add-balance-invalid-usage = Give an amount.
add-balance-invalid-bad-user-id = The Telegram id must be a positive number.
add-balance-invalid-not-a-number = The amount is a number of rubles, e.g. 100, 100.5 or 100,50.
add-balance-invalid-not-positive = The amount must be above zero.
add-balance-invalid-too-many-decimals = At most two decimals (kopecks).
add-balance-invalid-too-large = At most { $limit } at a time.
balance-added = Credited { $amount } to account { $account_id }. Balance: { $balance }

# The main menu (the reply keyboard). Labels of both languages open their mode, so a label must differ
# from every other label in either language.
menu-label-create = 🎨 Create
menu-label-write = ✍️ Write a prompt
menu-label-edit = ✏️ Edit
menu-label-retouch = ✨ Retouch
menu-label-add-text = 📝 Add text
menu-label-face-swap = 🔄 Face swap
menu-label-enhance = ⬆️ Enhance
menu-label-balance = 💰 Balance
menu-label-info = ℹ️ Info
menu-text = Choose what to do with the buttons below. Or just send a photo, a voice note, a video or a document and I'll tell you what I can do with it.
# A picture mode asks for its picture: $ask is one of the mode-ask-image-* texts.
mode-ask-image =
    { $ask }
    Price: { $price }. /cancel to cancel.
mode-ask-image-edit = ✏️ Send the photo to edit (up to 4 — to combine them, say).
mode-ask-image-retouch = ✨ Send the portrait to retouch (up to 10 MB).
mode-ask-image-add-text = 📝 Send the picture to put text on.
mode-ask-image-face-swap = 🔄 Send the portrait — the photo with the face to use. Then I'll ask for the photo to put it on.
mode-ask-image-enhance = ⬆️ Send a photo — I'll offer to upscale it 2× or 4×, compress it or convert it.
# The lowest of several prices.
price-from = from { $price }

# Refusals
insufficient-funds = Not enough money: this costs { $price }, your balance is { $balance }. Nothing was charged.
file-too-big = The file is too big: I accept files up to { $limit_mb } MB. Nothing was charged.
# $operation: an operation-name-* text.
not-set-up = { $operation } is not set up on this installation. Nothing was charged.
not-set-up-transcribe = Voice transcription is not set up on this installation. Nothing was charged.
try-later = The service is temporarily unavailable, please try again in a minute. Nothing was charged.
send-again = I can't find the original file any more — please send it again.
unsupported-message = I understand photos, image files, voice notes, audio, videos and documents (PDF, DOCX, TXT). See /help.
# A document of a type the bot does not process; unsupported-file-facts comes first when anything is known
# of it ($facts: its name, MIME type and size, joined with " · ").
unsupported-file = I have no operation for this type of file yet. Send an image (JPEG, PNG, WebP, HEIC), audio, a video or a document (PDF, DOCX, ODT, TXT, MD, CSV).
unsupported-file-facts = 📄 { $facts }
unsupported-file-name = «{ $name }»
old-question = This question is no longer open — start again (/menu).
