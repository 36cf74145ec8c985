### Operations and jobs: what operations are called, their buttons and prices, a job's status while it
### waits and runs, its image result, and why it failed.
### Every message here is also in ../ru/jobs.ftl (a test compares the ids).

# What an operation is called (price list, history, buttons), by its catalog id.
operation-name-upscale = Photo upscale ×{ $factor }
operation-name-compress = Compression to a size (1, 2, 4, 8 MB)
operation-name-convert = Format conversion (JPEG, PNG, WebP)
operation-name-add-text = Text on a picture
operation-name-translate = Speech translation to English (voice, audio, video)
operation-name-transcribe = Speech transcription (voice, audio, video)
operation-name-ocr = Text from a photo
operation-name-document-text = Text from a document (PDF, DOCX, ODT, TXT)
operation-name-generate = 🎨 Picture from a description (/create)
operation-name-generate-model = 🎨 Picture from a description, model { $model }
operation-name-write-prompt = ✍️ Prompt from an idea (/prompt)
operation-name-upscale-remote = AI upscale ×{ $factor }
operation-name-edit = ✏️ Picture edit by instruction
operation-name-edit-model = ✏️ Picture edit by instruction, model { $model }
operation-name-retouch = ✨ Portrait retouch
operation-name-face-swap = 🔄 Face swap
operation-name-other = Operation
# An album's operation: $name is the one-picture name.
operation-name-album = { $name } · { $count } { $count ->
        [one] picture
       *[other] pictures
    }

# The button that starts an operation for $price (already formatted).
operation-button-upscale = Upscale ×{ $factor } — { $price }
operation-button-compress = Compress to { $size } — { $price }
# The format's name is the point: the same in every language.
operation-button-convert = → { $format } — { $price }
operation-button-add-text = Add text — { $price }
operation-button-translate = Translate to English — { $price }
operation-button-ocr = Text from photo — { $price }
operation-button-upscale-remote = ✨ AI upscale ×{ $factor } — { $price }
operation-button-edit = ✏️ Edit — { $price }
operation-button-retouch = ✨ Retouch — { $price }
operation-button-face-swap = 🔄 Face swap — { $price }
# Any other operation: its operation-name-* text and the price.
operation-button-other = { $name } — { $price }
# A price per started minute of audio.
price-label-per-minute = { $amount }/min

# A file size; $value is already formatted with the language's decimal separator.
file-size-bytes = { $value } B
file-size-kilobytes = { $value } KB
file-size-megabytes = { $value } MB

# A job's status message.
already-started = This job is already running — not starting it twice.
already-started-done = This job is already done.
receiving = ⏳ Receiving the file…
queued-next = ⏳ Queued, you are next…
# $position: how many jobs wait ahead of this one (1 or more).
queued = ⏳ Queued, { $position } { $position ->
        [one] job
       *[other] jobs
    } ahead of you…
working = ⚙️ Working on it…
working-percent = ⚙️ Working on it… { $percent }%
# $left: a time-left-* text.
working-with-estimate = ⚙️ Working on it… { $percent }%, { $left } left
time-left-seconds = about { $seconds } s
time-left-minutes = about { $minutes } min
# How far a job is, for /status.
progress-text-preparing = ⏳ receiving the file
progress-text-queued-next = ⏳ queued, next
progress-text-queued = ⏳ queued, { $ahead } { $ahead ->
        [one] job
       *[other] jobs
    } ahead
progress-text-running = ⚙️ running, { $percent }%
progress-text-finishing = 📤 done, sending the result
cancel-button = ✖️ Cancel
cancel-refused = This job has finished already — nothing to cancel.
cancel-refused-not-yours = Only the person who started this job can cancel it.
cancelling = Cancelling…

# The caption of an image result; the lines after the first are added as they apply, the balance last.
# $size and $input_size are file-size-* texts.
image-result = Done: { $width }×{ $height }, { $format }, { $size }.
image-result-convert = Converted: { $from } → { $format }, { $width }×{ $height }, { $size }.
image-result-compress = Compressed: { $input_size } → { $size } ({ $format }, { $width }×{ $height }).
image-result-generate = 🎨 Done: { $width }×{ $height }, { $format }, { $size }. Model: { $model }.
image-result-edit = ✏️ Done: { $width }×{ $height }, { $format }, { $size }. Model: { $model }.
image-result-retouch = ✨ Done: { $width }×{ $height }, { $format }, { $size }.
image-result-face-swap = 🔄 Done: { $width }×{ $height }, { $format }, { $size }.
image-result-format-webp-lossless = lossless WebP
image-result-format-webp-lossy = lossy WebP
image-result-fallback = The first model failed, so the next one made it — the price is the same.
image-result-first-frame = This is an animation: only its first frame was used.
image-result-balance = Balance: { $balance }

# A failed job: $reason is one of the job-failed-reason-* texts.
job-failed = ❌ { $reason } You were not charged.
job-failed-cancelled = ✖️ Cancelled, as you asked. You were not charged.
job-failed-reason-corrupt-input = The file is damaged or unreadable.
job-failed-reason-unsupported-format = I don't support this format yet.
job-failed-reason-too-large = The file is too large to process.
job-failed-reason-input-missing = The file got lost on the way — please send it again.
job-failed-reason-no-speech = I found no speech in this recording: it has no sound, or only silence or noise.
job-failed-reason-no-text = I found no text in it.
job-failed-reason-encrypted = The document is password-protected — please send it without the password.
job-failed-reason-rejected = The generation service refused the request.
job-failed-reason-provider-failed = The generation service could not do it right now (no model answered in time) — please try again a little later.
job-failed-reason-worker-lost = This file crashed the processing several times, so I gave up on it.
job-failed-reason-other = Something went wrong while processing it.
# The provider refused what was asked; $message: its own words.
job-rejected = ❌ The generation service refused the request — try describing it differently. You were not charged.
job-rejected-quoted = ❌ The generation service refused the request: "{ $message }". Try describing it differently. You were not charged.
undeliverable = ❌ I could not send you the result. You were not charged.

# The caption of an album's archive; $operation: the one-picture operation-name-* text.
archive-result =
    Done: { $operation } — { $images } { $images ->
        [one] picture
       *[other] pictures
    } in the archive, { $size }.
    Balance: { $balance }
