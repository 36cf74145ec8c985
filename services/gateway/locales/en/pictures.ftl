### Pictures: what an image file is, the offer above its buttons, and the dialogues that work on pictures
### (add text, /create, /prompt, Edit, Retouch, Face swap).
### Every message here is also in ../ru/pictures.ftl (a test compares the ids).

# What an image file is: the first line, then the lines that apply. $megapixels is image-facts-megapixels
# or nothing (an icon-sized picture), $color an image-facts-color-* text, $bits image-facts-bits, $size a
# file-size-* text.
image-facts = 🖼 { $format } · { $width }×{ $height }{ $megapixels } · { $color }, { $bits } · { $size }
image-facts-megapixels = {" "}· { $value } MP
image-facts-color-rgb = RGB
image-facts-color-rgba = RGB + alpha
image-facts-color-grayscale = greyscale
image-facts-color-grayscale-alpha = greyscale + alpha
image-facts-color-palette = palette
image-facts-color-cmyk = CMYK
image-facts-bits = { $bits }-bit
image-facts-camera = 📷 { $camera }
image-facts-taken = 📷 Taken { $taken }
image-facts-camera-taken = 📷 { $camera } · taken { $taken }
image-facts-exif-turned = 🔄 Turned by its EXIF tag — results come out the way you see it.
image-facts-gps = 📍 It holds a GPS position — results never carry it.
image-facts-animation = 🎞 An animation of { $frames } { $frames ->
        [one] frame
       *[other] frames
    } — the first one is processed.
image-facts-color-profile = 🎨 An embedded colour profile — results are in sRGB.
# The question above an image's operation buttons (after its facts, when they are known).
choose-image-operation = What should I do with this image?
image-unreadable = ❌ I can't read this image: the file is damaged or not a picture (JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC, AVIF). Nothing was charged.

# Add text: the text, then how it should look.
add-text-ask-text = ✏️ Send the text to put on the picture (up to { $max_chars } { $max_chars ->
        [one] character
       *[other] characters
    }). Latin, Cyrillic and emoji are fine; a line break starts a new line. /cancel if you changed your mind.
add-text-ask-wishes =
    🎨 How should it look? Describe it in your own words, for example:
    • big yellow text at the top
    • white 72px in the center on a black plate
    • small #ffcc00 at the bottom, offset 5%, no plate
    Size: small, medium, normal, large, huge or pixels; colour: a name or #hex; position: top, center, bottom; plate: black or white, opacity, blur.
    Or press Skip: normal size, at the bottom, a colour that stands out from the picture.
skip-button = Skip
add-text-empty = There is no text in that message — send the words to put on the picture.
add-text-too-long = That text is too long: { $chars } { $chars ->
        [one] character
       *[other] characters
    }, at most { $max_chars }. Please send a shorter one.
add-text-send-text = I'm waiting for the text for the picture — send it as a plain message.

# /create: $auto is the default model's price, $models the other models (create-ask-model, joined with ", ").
create-ask =
    🎨 Describe the picture to create — in your own words, in any language.
    Choose the shape with the buttons below (square for now).
    Price: { $auto }; you pay only once the picture has arrived.

    For full control, in one message:
    Image <description> | model=<model> | size=vertical|square|horizontal|WxH | aspect_ratio=16:9 | negative=<what to leave out>
    Models: { $models }.
    /cancel to cancel.
create-ask-model = { $model } — { $price }
shape-button-vertical = ▯ Vertical
shape-button-square = □ Square
shape-button-horizontal = ▭ Horizontal
shape-chosen = Shape: { $width }×{ $height }. Now send the description.
# The power syntax's errors: power-error-* as $error, then an example.
power-error =
    { $error }
    Example: Image a cat astronaut | model=flash | size=vertical | negative=text
power-error-empty-prompt = "Image" must be followed by a description of the picture.
power-error-unknown-key = I don't know the parameter "{ $key }". Parameters: { $keys }.
power-error-unknown-model = There is no model "{ $model }". Models: { $models }.
power-error-bad-size = The size "{ $size }" does not work: vertical, square, horizontal or WxH, each side 64 to 4096.
power-error-bad-aspect-ratio = The aspect ratio "{ $ratio }" does not work: it is w:h, e.g. 16:9 or 3:4 (numbers 1 to 64).
power-error-size-and-aspect-ratio = Give either size=WxH or aspect_ratio, not both.
power-error-too-long = The description is too long: { $chars } { $chars ->
        [one] character
       *[other] characters
    }, at most { $max_chars } fit.
power-error-negative-too-long = negative is too long: at most { $max_chars } { $max_chars ->
        [one] character
       *[other] characters
    }.

# /prompt
prompt-ask =
    ✍️ Describe the idea of a picture in a few words (up to { $max_chars } { $max_chars ->
        [one] character
       *[other] characters
    }) — I will write a detailed prompt in English, with a "Create" button under it. The prompt costs { $price }.
    /cancel to cancel.
# The first line of a written prompt's message (the prompt follows after a blank line); pressing Create
# takes it off again, in either language.
written-prompt-header = ✍️ Prompt:
create-from-prompt-button = 🎨 Create from this prompt — { $price }
words-needed = Please send the description as plain text (or /cancel).
words-too-long = That is too long: { $chars } { $chars ->
        [one] character
       *[other] characters
    }, and at most { $max_chars } fit. Please shorten it.

# Edit: $format is the result format's name (PNG, JPEG, WebP).
edit-ask =
    ✏️ Write what to change — in your own words, in any language (up to { $max_chars } { $max_chars ->
        [one] character
       *[other] characters
    }), e.g. "make it night and add snow".
    Pictures: { $images } of { $max_images }. You can send more photos before the instruction — to combine them into one picture, say.
    Model: { $model } — { $price }. Result format: { $format }. Change them with the buttons below.
    You pay only once the result has arrived. /cancel to cancel.
edit-too-many = At most { $max_images } { $max_images ->
        [one] picture
       *[other] pictures
    } at a time. Now write what to change (or /cancel).
edit-instruction-needed = Please write as plain text what to change in the picture (or /cancel).

# Retouch
retouch-preset-name-soft = Soft retouch
retouch-preset-name-enhance = Enhance features
retouch-ask =
    ✨ Portrait retouch — { $price }. Choose with a button:
    • Soft retouch — an even skin tone, fewer blemishes, less shine and fewer shadows under the eyes, the skin's texture kept;
    • Enhance features — clearer eyes, brows and facial contours.
    Lips, age and the objects in the picture stay as they are. /cancel to cancel.
# $name: a retouch-preset-name-* text.
retouch-ask-wishes = ✨ { $name }. Anything to add? Write it (up to { $max_chars } { $max_chars ->
        [one] character
       *[other] characters
    }), e.g. "remove the shine on the forehead" — or press Start.
retouch-choose-preset = First choose the kind of retouch with a button under the question (or /cancel).
retouch-too-big = Retouch takes pictures up to { $limit_mb } MB, and this one is larger. Compress it (the "Compress" button) and send it again. Nothing was charged.

# Face swap
face-swap-ask = 🔄 Face swap — { $price }. I'll take the face from this photo. Now send the photo to put it on (the person in it should be clearly visible). /cancel to cancel.
photo-needed = I'm waiting for a photo — please send a picture (or /cancel).

# The buttons under a dialogue's question.
dialogue-cancel-button = ✖️ Cancel
start-button = ▶️ Start — { $price }

# An album of $count pictures sent together: every button works on all of them.
album-offer = 🖼 { $count } { $count ->
        [one] picture
       *[other] pictures
    } together. What shall I do with all of them? The price is for all; the result comes as one archive.

# A file the bot has no operation for: what it is (the kind, its emoji, name, size, duration, MIME type and
# file size, joined with " · "), then why not.
other-media-animation = 🎞 Animation
other-media-animated-sticker = 🧩 Animated sticker
other-media-video-sticker = 🧩 Video sticker
other-media-name = «{ $name }»
other-media-seconds = { $seconds } s
other-media-no-operation-animation = I have no operation for animations yet. Send a picture, a photo, audio, a video or a document.
other-media-no-operation-sticker = I have no operation for animated or video stickers yet; an ordinary sticker I can upscale or convert.
