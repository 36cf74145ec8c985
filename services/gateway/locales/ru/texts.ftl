### Речь и документы: расшифровки, извлечённый текст и языки.
### Every message here is also in ../en/texts.ftl (a test compares the ids).

language-name = { $code ->
        [ru] русский
        [en] английский
        [uk] украинский
        [be] белорусский
        [kk] казахский
        [de] немецкий
        [fr] французский
        [es] испанский
        [it] итальянский
        [tr] турецкий
        [zh] китайский
       *[other] { $code }
    }
language-name-unknown = не определён

transcript-done =
    Язык: { $language }
    Баланс: { $balance }
transcript-done-translated =
    Перевод на английский, язык записи: { $language }
    Баланс: { $balance }
transcript-in-files = 📎 Текст — в файле .txt, субтитры — в файлах .srt и .vtt.
transcript-in-files-truncated =
    …

    📎 Полный текст — в файле .txt, субтитры — в файлах .srt и .vtt.
no-speech = В записи не удалось распознать речь.
audio-too-long = Запись слишком длинная: я расшифровываю до { $limit_min } мин. Ничего не списано.

# Счётчики здесь — «слово: число» («страниц: 3»), и форма слова от числа не зависит.
text-summary =
    📄 { $parts }
    Язык: { $languages }
    Баланс: { $balance }
text-summary-photo = Распознано с фото
text-summary-pages = страниц: { $pages }
text-summary-ocr-pages = распознано со сканов: { $pages }
text-summary-size = символов: { $characters }, слов: { $words }
text-summary-encoding = кодировка { $encoding }
text-in-file = 📎 Текст — также в файле .txt.
text-in-file-truncated =
    …

    📎 Весь текст — в файле .txt.
