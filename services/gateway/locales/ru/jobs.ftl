### Операции и задания: названия операций, их кнопки и цены, статус задания в очереди и в работе,
### подпись к картинке-результату и причины неудач.
### Every message here is also in ../en/jobs.ftl (a test compares the ids).

operation-name-upscale = Увеличение фото ×{ $factor }
operation-name-compress = Сжатие до размера (1, 2, 4, 8 МБ)
operation-name-convert = Смена формата (JPEG, PNG, WebP)
operation-name-add-text = Текст на картинке
operation-name-translate = Перевод речи на английский (голосовые, аудио, видео)
operation-name-transcribe = Расшифровка речи (голосовые, аудио, видео)
operation-name-ocr = Текст с фото
operation-name-document-text = Текст из документа (PDF, DOCX, ODT, TXT)
operation-name-generate = 🎨 Картинка по описанию (/create)
operation-name-generate-model = 🎨 Картинка по описанию, модель { $model }
operation-name-write-prompt = ✍️ Промпт по идее (/prompt)
operation-name-upscale-remote = Увеличение нейросетью ×{ $factor }
operation-name-edit = ✏️ Изменение картинки по описанию
operation-name-edit-model = ✏️ Изменение картинки по описанию, модель { $model }
operation-name-retouch = ✨ Ретушь портрета
operation-name-face-swap = 🔄 Замена лица
operation-name-other = Операция
operation-name-album = { $name } · { $count } фото

operation-button-upscale = Увеличить ×{ $factor } — { $price }
operation-button-compress = Сжать до { $size } — { $price }
operation-button-convert = → { $format } — { $price }
operation-button-add-text = Добавить текст — { $price }
operation-button-translate = Перевести на английский — { $price }
operation-button-ocr = Текст с фото — { $price }
operation-button-upscale-remote = ✨ Увеличить ИИ ×{ $factor } — { $price }
operation-button-edit = ✏️ Изменить — { $price }
operation-button-retouch = ✨ Ретушь — { $price }
operation-button-face-swap = 🔄 Заменить лицо — { $price }
operation-button-other = { $name } — { $price }
price-label-per-minute = { $amount }/мин

file-size-bytes = { $value } Б
file-size-kilobytes = { $value } КБ
file-size-megabytes = { $value } МБ

already-started = Это задание уже выполняется — второй раз не запускаю.
already-started-done = Это задание уже выполнено.
receiving = ⏳ Получаю файл…
queued-next = ⏳ В очереди, вы следующий…
queued = ⏳ В очереди, перед вами { $position } { $position ->
        [one] задание
        [few] задания
       *[many] заданий
    }…
working = ⚙️ Обрабатываю…
working-percent = ⚙️ Обрабатываю… { $percent }%
working-with-estimate = ⚙️ Обрабатываю… { $percent }%, осталось { $left }
time-left-seconds = около { $seconds } с
time-left-minutes = около { $minutes } мин
progress-text-preparing = ⏳ получаю файл
progress-text-queued-next = ⏳ в очереди, следующее
progress-text-queued = ⏳ в очереди, перед ним { $ahead } { $ahead ->
        [one] задание
        [few] задания
       *[many] заданий
    }
progress-text-running = ⚙️ выполняется, { $percent }%
progress-text-finishing = 📤 готово, отправляю результат
cancel-button = ✖️ Отменить
cancel-refused = Это задание уже закончилось — отменять нечего.
cancel-refused-not-yours = Отменить задание может только тот, кто его запустил.
cancelling = Отменяю…

image-result = Готово: { $width }×{ $height }, { $format }, { $size }.
image-result-convert = Готово: { $from } → { $format }, { $width }×{ $height }, { $size }.
image-result-compress = Сжато: { $input_size } → { $size } ({ $format }, { $width }×{ $height }).
image-result-generate = 🎨 Готово: { $width }×{ $height }, { $format }, { $size }. Модель: { $model }.
image-result-edit = ✏️ Готово: { $width }×{ $height }, { $format }, { $size }. Модель: { $model }.
image-result-retouch = ✨ Готово: { $width }×{ $height }, { $format }, { $size }.
image-result-face-swap = 🔄 Готово: { $width }×{ $height }, { $format }, { $size }.
image-result-format-webp-lossless = WebP без потерь
image-result-format-webp-lossy = WebP с потерями
image-result-fallback = Первая модель не справилась, картинку сделала следующая — цена та же.
image-result-first-frame = Это анимация — обработан только первый кадр.
image-result-balance = Баланс: { $balance }

job-failed = ❌ { $reason } Деньги не списаны.
job-failed-cancelled = ✖️ Отменено, как вы просили. Деньги не списаны.
job-failed-reason-corrupt-input = Файл повреждён или не читается.
job-failed-reason-unsupported-format = Этот формат я пока не поддерживаю.
job-failed-reason-too-large = Файл слишком большой для обработки.
job-failed-reason-input-missing = Файл потерялся по дороге — пришлите его ещё раз.
job-failed-reason-no-speech = В записи не нашлось речи: в ней нет звука или только тишина и шум.
job-failed-reason-no-text = Текста здесь не нашлось.
job-failed-reason-encrypted = Документ защищён паролем — пришлите его без пароля.
job-failed-reason-rejected = Сервис генерации отклонил запрос.
job-failed-reason-provider-failed = Сервис генерации сейчас не справился (ни одна модель не ответила вовремя) — попробуйте ещё раз чуть позже.
job-failed-reason-worker-lost = Этот файл несколько раз обрушил обработку, я его отложил.
job-failed-reason-other = Что-то пошло не так при обработке.
job-rejected = ❌ Сервис генерации отклонил запрос — попробуйте описать иначе. Деньги не списаны.
job-rejected-quoted = ❌ Сервис генерации отклонил запрос: «{ $message }». Попробуйте описать иначе. Деньги не списаны.
undeliverable = ❌ Не удалось отправить результат. Деньги не списаны.

archive-result =
    Готово: { $operation } — { $images } { $images ->
        [one] картинка
        [few] картинки
       *[many] картинок
    } в архиве, { $size }.
    Баланс: { $balance }
