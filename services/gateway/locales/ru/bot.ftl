### Команды, счёт и меню: /start, /help, /language, /cancel, /ping, /apikey, /balance, /history,
### /add_balance, главное меню и отказы, которые может получить любое сообщение.
### Every message here is also in ../en/bot.ftl (a test compares the ids).

welcome =
    Привет! Я обрабатываю то, что вы присылаете:
    • фото или файл изображения — увеличу в 2 или 4 раза, сожму до нужного размера или переведу в другой формат (JPEG, PNG, WebP; HEIC и AVIF тоже читаю), добавлю на неё текст;
    • голосовое, аудио, видео или видеосообщение — превращу речь в текст;
    • /create — нарисую картинку по описанию, /prompt — напишу подробный промпт по идее;
    • по фото: ✏️ изменю по вашему описанию (до 4 фото), ✨ отретуширую портрет, 🔄 заменю лицо.
    Режимы — на клавиатуре внизу (/menu).

    Цены:
    { $prices }

    Ваш баланс: { $balance }
    Деньги списываются только за выполненную работу.
    /help — помощь, /balance — баланс.
welcome-price = • { $price }

help =
    Пришлите фото или картинку файлом (JPEG, PNG, WebP, HEIC, AVIF, GIF, BMP, TIFF) — я предложу увеличить её в 2 или 4 раза, сжать до 1, 2, 4 или 8 МБ или перевести в JPEG, PNG или WebP, или добавить текст (русский, английский, эмодзи; размер, цвет, место и плашку опишите своими словами, например «крупный белый текст сверху на чёрной плашке»); результат придёт файлом в полном разрешении, без EXIF и геометок.
    Пришлите голосовое, аудиофайл, видео или видеосообщение — я пришлю расшифровку на вашем языке (русский или английский, см. /language), а под ней кнопку перевода на английский.
    Пришлите документ (PDF, DOCX, ODT, TXT, MD, CSV) — я достану из него текст; с фото текст распознаю по кнопке «Текст с фото».
    /create — картинка по описанию (формат — кнопками), /prompt — подробный промпт по идее с кнопкой «Создать». Для точной настройки: «Изображение <описание> | model=flash | size=vertical | aspect_ratio=16:9 | negative=текст».
    Под фото есть кнопки «✏️ Изменить» (по описанию, можно до 4 фото, модель и формат — кнопками), «✨ Ретушь» (мягкая или «усилить черты», до 10 МБ) и «🔄 Заменить лицо» (лицо с этого фото, потом пришлите фото, куда его поставить). Пока картинка делается, её можно отменить кнопкой «✖️ Отменить». Все режимы — в /menu.
    Файлы до { $limit_mb } МБ. Если что-то не получится, деньги не списываются.

    /start — начало, /menu — меню, /balance — баланс, /history — операции, /apikey — ключ для HTTP API, /cancel — отменить то, о чём я спрашиваю, /language — язык, /ping — работает ли бот, /help — эта справка.

language-menu =
    🌐 Язык: русский. Голосовые и видео расшифровываю на русском.
    Выберите язык или включите определение языка речи.
language-menu-detect-speech =
    🌐 Язык: русский. Язык речи в голосовых и видео определяю сам.
    Выберите язык или расшифровывайте на языке интерфейса.
language-saved = ✅ Готово: отвечаю по-русски и расшифровываю речь на русском.
language-saved-detect-speech = ✅ Готово: отвечаю по-русски, язык речи определяю сам.
language-speech-button = 🎙 Определять язык речи
language-speech-button-detect-speech = 🎙 Расшифровывать на русском

cancelled = Отменено. Пришлите фото, голосовое или документ, когда будете готовы.
cancelled-nothing = Отменять нечего: я ничего не жду от вас.

ping = 🏓 Понг! Бот на связи.
ping-part-nats = Очередь заданий (NATS)
ping-part-billing = Баланс и оплата
ping-part-imaging = Картинки
ping-part-speech = Расшифровка речи
ping-part-documents = Текст из документов
ping-part-generation = Генерация картинок и промптов
ping-up = ✅ { $name } — { $ms } мс
ping-not-set-up = ⚠️ { $name } — не настроено здесь ({ $ms } мс)
ping-down = ❌ { $name } — не отвечает
ping-some-down = Что зависит от ❌ и ⚠️, пока не сработает: бот скажет об этом и ничего не спишет.

api-key =
    Ваш ключ API (покажу только сейчас, храните как пароль):
    { $key }

    API совместим с OpenAI (распознавание и перевод речи): укажите в клиенте OpenAI base_url { $base_url } и этот ключ. Оплата — с этого баланса, поминутно, как в боте; неудачные запросы бесплатны.

    curl { $base_url }/audio/transcriptions -H "Authorization: Bearer { $key }" -F file=@audio.ogg -F model=whisper-1
api-key-replaced = Прежний ключ больше не действует.
api-off = HTTP API на этой установке не включён.
api-key-private-only = Ключ API выдаю только в личном чате со мной.

balance = Ваш баланс: { $available }
balance-held =
    Ваш баланс: { $available }
    Зарезервировано под задания в работе: { $held }

history-empty = Операций пока нет.
history = Последние операции (время московское):
history-line = { $time } · { $label }
history-line-amount = { $time } · { $label } · { $amount }
history-line-welcome-credit = Приветственный бонус
history-line-top-up = Пополнение
history-line-capture = Списание: { $operation }
history-line-hold = Резерв: { $operation }
history-line-release = Резерв снят: { $operation }
history-line-expiry = Резерв истёк и снят: { $operation }
history-line-refund = Возврат
history-line-adjustment = Корректировка
history-line-other = Операция

not-allowed = Эта команда доступна только администраторам. Ничего не изменено.
add-balance-invalid =
    { $why }
    Формат: /add_balance [<telegram id>] <сумма в ₽>
add-balance-invalid-usage = Укажите сумму.
add-balance-invalid-bad-user-id = Telegram id должен быть положительным числом.
add-balance-invalid-not-a-number = Сумма — число рублей, например 100, 100.5 или 100,50.
add-balance-invalid-not-positive = Сумма должна быть больше нуля.
add-balance-invalid-too-many-decimals = Не больше двух знаков после запятой (копейки).
add-balance-invalid-too-large = Не больше { $limit } за раз.
balance-added = Начислено { $amount } на счёт { $account_id }. Баланс: { $balance }

menu-label-create = 🎨 Создать
menu-label-write = ✍️ Написать
menu-label-edit = ✏️ Изменить
menu-label-retouch = ✨ Ретушь
menu-label-add-text = 📝 Добавить текст
menu-label-face-swap = 🔄 Заменить лицо
menu-label-enhance = ⬆️ Улучшить
menu-label-balance = 💰 Баланс
menu-label-info = ℹ️ Инфо
menu-text = Выберите, что сделать, кнопками внизу. Или просто пришлите фото, голосовое, видео или документ — я скажу, что могу с ним сделать.
mode-ask-image =
    { $ask }
    Цена: { $price }. /cancel — отменить.
mode-ask-image-edit = ✏️ Пришлите фото, которое нужно изменить (можно до 4 — например, чтобы объединить их).
mode-ask-image-retouch = ✨ Пришлите портрет для ретуши (до 10 МБ).
mode-ask-image-add-text = 📝 Пришлите картинку, на которую добавить текст.
mode-ask-image-face-swap = 🔄 Пришлите портрет — фото с лицом, которое нужно перенести. Потом я попрошу фото, куда его поставить.
mode-ask-image-enhance = ⬆️ Пришлите фото — предложу увеличить его в 2 или 4 раза, сжать или сменить формат.
price-from = от { $price }

insufficient-funds = Недостаточно средств: стоимость { $price }, ваш баланс { $balance }. Ничего не списано.
file-too-big = Файл слишком большой: я принимаю файлы до { $limit_mb } МБ. Ничего не списано.
not-set-up = «{ $operation }» не настроено на этой установке бота. Ничего не списано.
not-set-up-transcribe = Расшифровка голоса не настроена на этой установке бота. Ничего не списано.
try-later = Сервис временно недоступен, попробуйте через минуту. Ничего не списано.
send-again = Не нашёл исходный файл — пришлите его ещё раз, пожалуйста.
unsupported-message = Я понимаю фото, картинки файлом, голосовые, аудио, видео и документы (PDF, DOCX, TXT). /help — подробнее.
unsupported-file = Для такого файла у меня пока нет операций. Пришлите изображение (JPEG, PNG, WebP, HEIC), аудио, видео или документ (PDF, DOCX, ODT, TXT, MD, CSV).
unsupported-file-facts = 📄 { $facts }
unsupported-file-name = «{ $name }»
old-question = Этот вопрос уже неактуален — начните заново (/menu).
