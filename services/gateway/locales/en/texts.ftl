### Speech and documents: transcripts, extracted text and the languages they are in.
### Every message here is also in ../ru/texts.ftl (a test compares the ids).

# A spoken language's name from its ISO 639-1 code; a code without a name here is shown as it is.
language-name = { $code ->
        [ru] Russian
        [en] English
        [uk] Ukrainian
        [be] Belarusian
        [kk] Kazakh
        [de] German
        [fr] French
        [es] Spanish
        [it] Italian
        [tr] Turkish
        [zh] Chinese
       *[other] { $code }
    }
language-name-unknown = unknown

# The lines after a transcript; $language: a language-name text.
transcript-done =
    Language: { $language }
    Balance: { $balance }
transcript-done-translated =
    Translated to English from { $language }
    Balance: { $balance }
# The line under the start of a long transcript.
transcript-in-files = 📎 The text is in the .txt file, subtitles in the .srt and .vtt files.
transcript-in-files-truncated =
    …

    📎 The full text is in the .txt file, subtitles in the .srt and .vtt files.
no-speech = No speech could be recognised in this recording.
audio-too-long = The recording is too long: I transcribe up to { $limit_min } min. Nothing was charged.

# The summary under extracted text: $parts are the text-summary-* parts that apply, joined with ", ".
text-summary =
    📄 { $parts }
    Language: { $languages }
    Balance: { $balance }
text-summary-photo = Read from the photo
text-summary-pages = { $pages } { $pages ->
        [one] page
       *[other] pages
    }
text-summary-ocr-pages = { $pages } read by OCR
text-summary-size = { $characters } { $characters ->
        [one] character
       *[other] characters
    }, { $words } { $words ->
        [one] word
       *[other] words
    }
text-summary-encoding = encoding { $encoding }
# The line after the beginning of an extracted text.
text-in-file = 📎 The text is also in the .txt file.
text-in-file-truncated =
    …

    📎 The whole text is in the .txt file.
