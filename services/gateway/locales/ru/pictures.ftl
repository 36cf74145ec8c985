### Картинки: что за файл изображения, предложение над его кнопками и диалоги, которые работают с картинками
### (добавить текст, /create, /prompt, «Изменить», «Ретушь», «Заменить лицо»).
### Every message here is also in ../en/pictures.ftl (a test compares the ids).

image-facts = 🖼 { $format } · { $width }×{ $height }{ $megapixels } · { $color }, { $bits } · { $size }
image-facts-megapixels = {" "}· { $value } Мп
image-facts-color-rgb = RGB
image-facts-color-rgba = RGB + прозрачность
image-facts-color-grayscale = оттенки серого
image-facts-color-grayscale-alpha = оттенки серого + прозрачность
image-facts-color-palette = палитра
image-facts-color-cmyk = CMYK
image-facts-bits = { $bits } { $bits ->
        [one] бит
        [few] бита
       *[many] бит
    }
image-facts-camera = 📷 { $camera }
image-facts-taken = 📷 Снято { $taken }
image-facts-camera-taken = 📷 { $camera } · снято { $taken }
image-facts-exif-turned = 🔄 Повёрнуто по EXIF — результаты будут повёрнуты так же, как вы видите.
image-facts-gps = 📍 Внутри есть GPS-координаты — в результатах их не будет.
image-facts-animation = 🎞 Анимация: { $frames } { $frames ->
        [one] кадр
        [few] кадра
       *[many] кадров
    } — обрабатывается первый.
image-facts-color-profile = 🎨 Встроенный цветовой профиль — результаты в sRGB.
choose-image-operation = Что сделать с изображением?
image-unreadable = ❌ Не могу прочитать это изображение: файл повреждён или это не картинка (JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC, AVIF). Ничего не списано.

# «до N символов»: родительный падеж — до 1 символа, до 2 символов, до 21 символа.
add-text-ask-text = ✏️ Пришлите текст, который добавить на картинку (до { $max_chars } { $max_chars ->
        [one] символа
       *[other] символов
    }). Можно по-русски и по-английски, с эмодзи; перенос строки — с новой строки. /cancel — передумать.
add-text-ask-wishes =
    🎨 Как оформить? Напишите пожелания своими словами, например:
    • крупный белый текст сверху на чёрной плашке
    • красный 72px по центру
    • маленький #ffcc00 снизу, отступ 5%, без плашки
    Размер: маленький, средний, обычный, крупный, огромный или в пикселях; цвет: название или #hex; положение: сверху, по центру, снизу; плашка: чёрная или белая, прозрачность, размытие.
    Или нажмите «Пропустить»: обычный размер, внизу, цвет подберу под фон.
skip-button = Пропустить
add-text-empty = В сообщении нет текста — пришлите слова, которые добавить на картинку.
add-text-too-long = Слишком длинный текст: { $chars } { $chars ->
        [one] символ
        [few] символа
       *[many] символов
    }, можно до { $max_chars }. Пришлите покороче.
add-text-send-text = Жду текст для картинки — пришлите его обычным сообщением.

create-ask =
    🎨 Опишите картинку, которую нужно создать, — своими словами, на любом языке.
    Формат выберите кнопками ниже (сейчас — квадрат).
    Цена: { $auto }; деньги списываются, только когда картинка пришла.

    Точная настройка одним сообщением:
    Изображение <описание> | model=<модель> | size=vertical|square|horizontal|ШxВ | aspect_ratio=16:9 | negative=<чего не должно быть>
    Модели: { $models }.
    /cancel — отменить.
create-ask-model = { $model } — { $price }
shape-button-vertical = ▯ Вертикальный
shape-button-square = □ Квадрат
shape-button-horizontal = ▭ Горизонтальный
shape-chosen = Формат: { $width }×{ $height }. Теперь пришлите описание.
power-error =
    { $error }
    Пример: Изображение кот-астронавт | model=flash | size=vertical | negative=текст
power-error-empty-prompt = После «Изображение» нужно описание картинки.
power-error-unknown-key = Не знаю параметр «{ $key }». Параметры: { $keys }.
power-error-unknown-model = Нет модели «{ $model }». Модели: { $models }.
power-error-bad-size = Размер «{ $size }» не подходит: vertical, square, horizontal или ШxВ, каждая сторона от 64 до 4096.
power-error-bad-aspect-ratio = Соотношение сторон «{ $ratio }» не подходит: нужно w:h, например 16:9 или 3:4 (числа от 1 до 64).
power-error-size-and-aspect-ratio = Укажите либо size=ШxВ, либо aspect_ratio, но не оба.
power-error-too-long = Описание слишком длинное: { $chars } { $chars ->
        [one] символ
        [few] символа
       *[many] символов
    }, можно до { $max_chars }.
power-error-negative-too-long = negative слишком длинный: можно до { $max_chars } { $max_chars ->
        [one] символа
       *[other] символов
    }.

prompt-ask =
    ✍️ Опишите идею картинки в нескольких словах (до { $max_chars } { $max_chars ->
        [one] символа
       *[other] символов
    }) — я напишу подробный промпт на английском, а под ним будет кнопка «Создать». Цена промпта: { $price }.
    /cancel — отменить.
written-prompt-header = ✍️ Промпт:
create-from-prompt-button = 🎨 Создать по этому промпту — { $price }
words-needed = Пришлите описание обычным текстом, пожалуйста (или /cancel).
words-too-long = Слишком длинно: { $chars } { $chars ->
        [one] символ
        [few] символа
       *[many] символов
    }, а можно до { $max_chars }. Сократите, пожалуйста.

edit-ask =
    ✏️ Напишите, что изменить, — своими словами, на любом языке (до { $max_chars } { $max_chars ->
        [one] символа
       *[other] символов
    }), например «сделай ночь и добавь снег».
    Картинок: { $images } из { $max_images }. До описания можно прислать ещё фото — например, чтобы объединить их в одну картинку.
    Модель: { $model } — { $price }. Формат результата: { $format }. Поменять — кнопками ниже.
    Деньги спишутся, только когда результат придёт. /cancel — отменить.
# «больше N картинок»: родительный падеж — больше 1 картинки, больше 4 картинок.
edit-too-many = Больше { $max_images } { $max_images ->
        [one] картинки
       *[other] картинок
    } за раз не получится. Теперь напишите, что изменить (или /cancel).
edit-instruction-needed = Напишите обычным текстом, что изменить на картинке (или /cancel).

retouch-preset-name-soft = Мягкая ретушь
retouch-preset-name-enhance = Усилить черты
retouch-ask =
    ✨ Ретушь портрета — { $price }. Выберите вариант кнопкой:
    • Мягкая ретушь — ровный тон кожи, меньше пятен, блеска и теней под глазами, текстура кожи сохраняется;
    • Усилить черты — выразительнее глаза, брови и контуры лица.
    Губы, возраст и предметы в кадре не меняются. /cancel — отменить.
retouch-ask-wishes = ✨ { $name }. Хотите что-то добавить? Напишите пожелание (до { $max_chars } { $max_chars ->
        [one] символа
       *[other] символов
    }), например «убери блик на лбу», — или нажмите «Начать».
retouch-choose-preset = Сначала выберите вариант ретуши кнопкой под вопросом (или /cancel).
retouch-too-big = Для ретуши нужна картинка до { $limit_mb } МБ — эта больше. Сожмите её (кнопка «Сжать») и пришлите снова. Ничего не списано.

face-swap-ask = 🔄 Замена лица — { $price }. Лицо возьму с этого фото. Теперь пришлите фото, на которое его перенести (человек на нём должен быть хорошо виден). /cancel — отменить.
photo-needed = Жду фото — пришлите картинку (или /cancel).

dialogue-cancel-button = ✖️ Отмена
start-button = ▶️ Начать — { $price }

album-offer = 🖼 { $count } { $count ->
        [one] картинка
        [few] картинки
       *[many] картинок
    } вместе. Что сделать со всеми сразу? Цена — за все; результат придёт одним архивом.

other-media-animation = 🎞 Анимация
other-media-animated-sticker = 🧩 Анимированный стикер
other-media-video-sticker = 🧩 Видеостикер
other-media-name = «{ $name }»
other-media-seconds = { $seconds } с
other-media-no-operation-animation = Для анимаций у меня пока нет операций. Пришлите картинку, фото, аудио, видео или документ.
other-media-no-operation-sticker = Для анимированных и видеостикеров у меня пока нет операций; обычный стикер я могу увеличить или сконвертировать.
