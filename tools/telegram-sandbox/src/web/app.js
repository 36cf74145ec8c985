// telegram-sandbox chat page: acts as a Telegram user through the control API (/sandbox/...) of the same
// origin and shows the chat the way a Telegram client would. Plain JavaScript, no build step.
//
// Safety rule: text from messages is only ever put into the page with textContent / text nodes, never as
// HTML; entities become elements built with createElement.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const STORE_KEY = "telegram-sandbox.who";
  const POLL_WAIT_SECS = 25;
  const ACTION_SHOW_MS = 5000;

  const ACTION_TEXT = {
    typing: "typing…",
    upload_photo: "sending photo…",
    record_video: "recording video…",
    upload_video: "sending video…",
    record_voice: "recording voice…",
    upload_voice: "sending voice…",
    upload_document: "sending file…",
    choose_sticker: "choosing sticker…",
    find_location: "finding location…",
    record_video_note: "recording video message…",
    upload_video_note: "sending video message…",
  };

  // ---- who am I -------------------------------------------------------------------------------------------

  function defaultWho() {
    const lang = (navigator.language || "en").toLowerCase().startsWith("ru") ? "ru" : "en";
    return { id: 1001, name: "Sandbox User", lang, bot: null };
  }

  function loadWho() {
    let who = defaultWho();
    try {
      const saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
      if (saved && Number.isInteger(saved.id) && saved.id > 0) who = { ...who, ...saved };
    } catch (_) {
      // A broken saved value is replaced by the defaults.
    }
    // ?user=&name=&lang=&bot= in the URL (links, tests) override and are remembered.
    const q = new URLSearchParams(location.search);
    const id = parseInt(q.get("user") || "", 10);
    if (id > 0) who.id = id;
    if (q.get("name")) who.name = q.get("name");
    if (q.get("lang") === "ru" || q.get("lang") === "en") who.lang = q.get("lang");
    if (q.get("bot")) who.bot = parseInt(q.get("bot"), 10) || null;
    saveWho(who);
    return who;
  }

  function saveWho(who) {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(who));
    } catch (_) {
      // Private windows may refuse storage; the choice then lasts for this page only.
    }
  }

  let who = loadWho();

  function fromUser() {
    return { id: who.id, first_name: who.name, language_code: who.lang };
  }

  // ---- control API ----------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, reason) {
      super(reason);
      this.status = status;
    }
  }

  function withBot(path) {
    if (!who.bot) return path;
    return path + (path.includes("?") ? "&" : "?") + "bot=" + encodeURIComponent(who.bot);
  }

  async function api(path, options = {}) {
    let response;
    try {
      response = await fetch(withBot(path), options);
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError(0, "the sandbox is not reachable (" + err.message + ")");
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      const reason = (body && (body.error || body.description)) || response.statusText;
      throw new ApiError(response.status, reason);
    }
    return body;
  }

  function chatPath(suffix) {
    return "/sandbox/chats/" + who.id + suffix;
  }

  // ---- notices --------------------------------------------------------------------------------------------

  function toast(text, kind) {
    const el = document.createElement("div");
    el.className = "toast" + (kind ? " " + kind : "");
    el.textContent = text;
    $("toasts").appendChild(el);
    setTimeout(() => el.remove(), kind === "error" ? 7000 : 3500);
  }

  function showAlert(text) {
    $("alert-text").textContent = text;
    $("alert").hidden = false;
  }

  function showError(err) {
    const text = err.status ? "Error " + err.status + ": " + err.message : "Error: " + err.message;
    toast(text, "error");
  }

  function setBanner(text) {
    const banner = $("banner");
    banner.textContent = text || "";
    banner.hidden = !text;
  }

  // ---- rendering text with entities -----------------------------------------------------------------------

  function safeUrl(url) {
    try {
      const parsed = new URL(url, location.href);
      if (["http:", "https:", "mailto:", "tel:", "tg:"].includes(parsed.protocol)) return parsed.href;
    } catch (_) {
      // not a URL
    }
    return null;
  }

  function link(href, text) {
    const a = document.createElement("a");
    const safe = safeUrl(href);
    if (safe) {
      a.href = safe;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
    }
    return a;
  }

  function entityElement(entity, text) {
    const inner = text.slice(entity.offset, entity.offset + entity.length);
    let el;
    switch (entity.type) {
      case "bold": el = document.createElement("b"); break;
      case "italic": el = document.createElement("i"); break;
      case "underline": el = document.createElement("u"); break;
      case "strikethrough": el = document.createElement("s"); break;
      case "spoiler":
        el = document.createElement("span");
        el.className = "spoiler";
        el.title = "spoiler: click to show";
        el.addEventListener("click", () => el.classList.add("revealed"));
        break;
      case "code": el = document.createElement("code"); break;
      case "pre": {
        const pre = document.createElement("pre");
        const code = document.createElement("code");
        if (entity.language) code.className = "language-" + entity.language;
        pre.appendChild(code);
        return { outer: pre, inner: code };
      }
      case "blockquote":
      case "expandable_blockquote": el = document.createElement("blockquote"); break;
      case "text_link": el = link(entity.url || "", inner); break;
      case "url": el = link(/^[a-z][a-z0-9+.-]*:/i.test(inner) ? inner : "http://" + inner, inner); break;
      case "email": el = link("mailto:" + inner, inner); break;
      case "phone_number": el = link("tel:" + inner, inner); break;
      case "bot_command":
        el = document.createElement("a");
        el.className = "command";
        el.title = "send " + inner;
        el.addEventListener("click", () => sendText(inner));
        break;
      case "mention":
      case "hashtag":
      case "cashtag":
      case "text_mention":
        el = document.createElement("span");
        el.className = "link";
        break;
      default:
        el = document.createElement("span");
    }
    return { outer: el, inner: el };
  }

  // Entities are offsets/lengths in UTF-16 code units, which is exactly how JavaScript strings index.
  function renderEntities(parent, text, entities, start, end) {
    const list = (entities || [])
      .filter((e) => e.offset >= start && e.offset < end && e.length > 0)
      .sort((a, b) => a.offset - b.offset || b.length - a.length);
    let pos = start;
    let i = 0;
    while (i < list.length) {
      const e = list[i];
      if (e.offset < pos) { i++; continue; } // overlaps an entity already rendered
      const eEnd = Math.min(e.offset + e.length, end);
      if (e.offset > pos) parent.appendChild(document.createTextNode(text.slice(pos, e.offset)));
      const { outer, inner } = entityElement(e, text);
      const children = [];
      let j = i + 1;
      while (j < list.length && list[j].offset < eEnd) {
        children.push(list[j]);
        j++;
      }
      renderEntities(inner, text, children, e.offset, eEnd);
      parent.appendChild(outer);
      pos = eEnd;
      i = j;
    }
    if (pos < end) parent.appendChild(document.createTextNode(text.slice(pos, end)));
  }

  function textBlock(text, entities) {
    const div = document.createElement("div");
    div.className = "text";
    renderEntities(div, text, entities, 0, text.length);
    return div;
  }

  // ---- rendering messages ---------------------------------------------------------------------------------

  function fileUrl(fileId) {
    return "/sandbox/files/" + encodeURIComponent(fileId);
  }

  function humanSize(bytes) {
    if (!Number.isFinite(bytes)) return "";
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function fileLink(file, name, icon) {
    const a = document.createElement("a");
    a.className = "file";
    a.href = fileUrl(file.file_id);
    a.download = name || "file";
    const iconEl = document.createElement("span");
    iconEl.className = "icon";
    iconEl.textContent = icon;
    const info = document.createElement("span");
    const nameEl = document.createElement("div");
    nameEl.className = "name";
    nameEl.textContent = name || "file";
    const sizeEl = document.createElement("div");
    sizeEl.className = "size";
    sizeEl.textContent = humanSize(file.file_size) + (file.mime_type ? " · " + file.mime_type : "");
    info.append(nameEl, sizeEl);
    a.append(iconEl, info);
    return a;
  }

  function mediaElements(m) {
    const out = [];
    if (Array.isArray(m.photo) && m.photo.length) {
      const largest = m.photo[m.photo.length - 1];
      const img = document.createElement("img");
      img.className = "photo";
      img.alt = "photo";
      img.src = fileUrl(largest.file_id);
      img.width = largest.width;
      img.height = largest.height;
      img.style.height = "auto";
      out.push(img);
    }
    // An animation comes with the same file as `document` (for old clients): show it once, as the animation.
    if (m.document && !m.animation) {
      const d = m.document;
      if (/^image\/(jpeg|png|gif|webp)$/.test(d.mime_type || "")) {
        const img = document.createElement("img");
        img.className = "preview";
        img.alt = d.file_name || "image";
        img.src = fileUrl(d.file_id);
        out.push(img);
      }
      out.push(fileLink(d, d.file_name, "↓"));
    }
    if (m.audio) {
      const a = m.audio;
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.preload = "none";
      audio.src = fileUrl(a.file_id);
      const title = [a.performer, a.title].filter(Boolean).join(" — ") || a.file_name || "audio";
      out.push(audio, fileLink(a, title, "♪"));
    }
    if (m.voice) {
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.preload = "none";
      audio.src = fileUrl(m.voice.file_id);
      out.push(audio, fileLink(m.voice, "voice note, " + (m.voice.duration || 0) + " s", "♪"));
    }
    if (m.animation && m.animation.mime_type === "image/gif") {
      const img = document.createElement("img");
      img.className = "preview";
      img.alt = m.animation.file_name || "GIF";
      img.src = fileUrl(m.animation.file_id);
      out.push(img);
    } else if (m.video || m.animation) {
      const v = m.video || m.animation;
      const video = document.createElement("video");
      video.controls = true;
      video.preload = "metadata";
      video.src = fileUrl(v.file_id);
      out.push(video, fileLink(v, v.file_name || "video", "▶"));
    }
    if (m.video_note) {
      const video = document.createElement("video");
      video.className = "round";
      video.controls = true;
      video.src = fileUrl(m.video_note.file_id);
      out.push(video);
    }
    if (m.sticker && !m.sticker.is_animated) {
      const s = m.sticker;
      const el = document.createElement(s.is_video ? "video" : "img");
      el.className = "sticker";
      el.src = fileUrl(s.file_id);
      el.title = s.emoji || "sticker";
      if (s.is_video) { el.autoplay = true; el.loop = true; el.muted = true; }
      out.push(el);
    }
    const shown = m.sticker && !m.sticker.is_animated ? ["sticker"] : [];
    for (const kind of ["sticker", "location", "contact", "poll", "dice", "venue"]) {
      if (shown.includes(kind)) continue;
      if (m[kind]) {
        const span = document.createElement("div");
        span.className = "text";
        span.textContent = "[" + kind + "]";
        out.push(span);
      }
    }
    return out;
  }

  function inlineKeyboard(m) {
    const rows = m.reply_markup && m.reply_markup.inline_keyboard;
    if (!Array.isArray(rows) || !rows.length) return null;
    const kb = document.createElement("div");
    kb.className = "keyboard";
    kb.dataset.messageId = m.message_id;
    for (const row of rows) {
      const rowEl = document.createElement("div");
      rowEl.className = "kb-row";
      for (const button of row || []) {
        let el;
        if (button.url) {
          el = link(button.url, button.text);
          el.textContent = button.text + " ↗";
        } else {
          el = document.createElement("button");
          el.type = "button";
          el.textContent = button.text;
          if (typeof button.callback_data === "string") {
            el.dataset.callbackData = button.callback_data;
            el.addEventListener("click", () => press(m.message_id, button.callback_data, el));
          } else {
            el.disabled = true;
            el.title = "this kind of button is not supported by the sandbox page";
          }
        }
        rowEl.appendChild(el);
      }
      kb.appendChild(rowEl);
    }
    return kb;
  }

  function timeOf(m) {
    const d = new Date((m.date || 0) * 1000);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function messageNode(m) {
    const wrap = document.createElement("div");
    wrap.style.display = "contents";
    const bubble = document.createElement("div");
    const mine = !(m.from && m.from.is_bot);
    bubble.className = "msg " + (mine ? "mine" : "bot");
    bubble.dataset.messageId = m.message_id;
    if (m.reply_to_message) {
      const r = m.reply_to_message;
      const q = document.createElement("div");
      q.className = "reply-quote";
      const b = document.createElement("b");
      b.textContent = (r.from && r.from.first_name) || "";
      q.appendChild(b);
      q.appendChild(document.createTextNode(r.text || r.caption || (r.photo ? "Photo" : r.document ? "File" : r.voice ? "Voice message" : r.audio ? "Audio" : "Message")));
      bubble.appendChild(q);
    }
    for (const el of mediaElements(m)) bubble.appendChild(el);
    if (typeof m.text === "string") bubble.appendChild(textBlock(m.text, m.entities));
    if (typeof m.caption === "string") bubble.appendChild(textBlock(m.caption, m.caption_entities));
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = (m.edit_date ? "edited " : "") + timeOf(m);
    if (m.edit_date) meta.classList.add("edited");
    const last = bubble.lastChild;
    if (last && last.classList && last.classList.contains("text")) last.appendChild(meta);
    else bubble.appendChild(meta);
    wrap.appendChild(bubble);
    const kb = inlineKeyboard(m);
    if (kb) wrap.appendChild(kb);
    return wrap;
  }

  function systemNode(text, kind) {
    const el = document.createElement("div");
    el.className = "system" + (kind ? " " + kind : "");
    el.textContent = text;
    return el;
  }

  // ---- the chat -------------------------------------------------------------------------------------------

  const nodes = new Map(); // seq -> node in #messages
  let cursor = 0;
  let live = false; // false while the first (full) history is being shown: no toasts for old events
  let actionTimer = null;
  let pollGeneration = 0;
  let pollAbort = null;
  let pendingPresses = new Map(); // message_id -> button element

  function placeNode(seq, node) {
    const box = $("messages");
    const old = nodes.get(seq);
    if (old) {
      old.replaceWith(node);
    } else {
      // Entries arrive in chat order, but an edited old message comes back with its old seq.
      let before = null;
      for (const [s, n] of nodes) {
        if (s > seq && (!before || s < before.seq)) before = { seq: s, node: n };
      }
      box.insertBefore(node, before ? before.node : null);
    }
    node.dataset.seq = seq;
    nodes.set(seq, node);
  }

  function removeNode(seq) {
    const node = nodes.get(seq);
    if (node) node.remove();
    nodes.delete(seq);
  }

  function setStatus(text, active) {
    $("status").textContent = text;
    $("status").classList.toggle("active", !!active);
  }

  function idleStatus() {
    setStatus("bot", false);
  }

  function showAction(action) {
    setStatus(ACTION_TEXT[action] || action + "…", true);
    clearTimeout(actionTimer);
    actionTimer = setTimeout(idleStatus, ACTION_SHOW_MS);
  }

  // ---- the reply keyboard under the input field ---------------------------------------------------------
  //
  // The bot's ReplyKeyboardMarkup never arrives inside a Message (Telegram's Message.reply_markup is inline
  // only); the sandbox keeps the chat's current keyboard and the page reads it from /keyboard whenever the
  // history changes, since every change of the keyboard comes with a history entry.

  let replyKeyboard = null; // the control API's view, or null
  let keyboardOpen = false; // shown here: the server's `shown`, or toggled with the keyboard button
  let keyboardFetch = 0; // only the answer to the latest request is applied

  async function loadKeyboard(generation) {
    const fetchNo = ++keyboardFetch;
    try {
      const { keyboard } = await api(chatPath("/keyboard"));
      if (generation !== pollGeneration || fetchNo !== keyboardFetch) return;
      setReplyKeyboard(keyboard);
    } catch (err) {
      // The history poll reports an unreachable sandbox; the next change reads the keyboard again.
      if (generation === pollGeneration) console.warn("can't read the reply keyboard:", err.message);
    }
  }

  function setReplyKeyboard(keyboard) {
    const changed = JSON.stringify(keyboard) !== JSON.stringify(replyKeyboard);
    replyKeyboard = keyboard || null;
    if (changed) keyboardOpen = !!(replyKeyboard && replyKeyboard.shown);
    renderReplyKeyboard();
  }

  function renderReplyKeyboard() {
    const box = $("reply-keyboard");
    const toggle = $("keyboard-button");
    toggle.hidden = !replyKeyboard;
    toggle.classList.toggle("open", keyboardOpen);
    toggle.title = keyboardOpen ? "Hide the bot's keyboard" : "Show the bot's keyboard";
    updatePlaceholder();
    if (!replyKeyboard || !keyboardOpen) {
      box.hidden = true;
      box.replaceChildren();
      delete box.dataset.messageId;
      return;
    }
    box.replaceChildren();
    box.dataset.messageId = replyKeyboard.message_id;
    // Like Telegram: without resize_keyboard the keyboard is as tall as the system keyboard.
    box.classList.toggle("full", !replyKeyboard.resize_keyboard);
    for (const row of replyKeyboard.rows) {
      const rowEl = document.createElement("div");
      rowEl.className = "kb-row";
      for (const text of row) {
        const el = document.createElement("button");
        el.type = "button";
        el.textContent = text;
        el.title = text;
        el.addEventListener("click", () => pressReplyButton(text));
        rowEl.appendChild(el);
      }
      box.appendChild(rowEl);
    }
    box.hidden = false;
  }

  async function pressReplyButton(text) {
    // A one-time keyboard hides after a press (the sandbox marks it shown: false as well).
    if (replyKeyboard && replyKeyboard.one_time_keyboard) {
      keyboardOpen = false;
      renderReplyKeyboard();
    }
    if (await sendText(text)) scrollToEnd(true);
  }

  function toggleReplyKeyboard() {
    keyboardOpen = !keyboardOpen && !!replyKeyboard;
    renderReplyKeyboard();
  }

  function applyEntry(entry) {
    switch (entry.kind) {
      case "message": {
        const m = entry.message;
        placeNode(entry.seq, messageNode(m));
        // A new message of the bot ends its chat action; an edit (an old seq coming back) does not.
        if (live && m.from && m.from.is_bot && entry.seq === entry.updated) {
          clearTimeout(actionTimer);
          idleStatus();
        }
        break;
      }
      case "deleted":
        removeNode(entry.seq);
        break;
      case "callback_answer": {
        const button = pendingPresses.get(entry.message_id);
        if (button) {
          button.classList.remove("pending");
          pendingPresses.delete(entry.message_id);
        }
        if (!live) break;
        if (entry.url) {
          const url = safeUrl(entry.url);
          if (url) window.open(url, "_blank", "noopener");
        }
        if (entry.text) {
          if (entry.show_alert) showAlert(entry.text);
          else toast(entry.text);
        }
        break;
      }
      case "chat_action":
        if (live && Math.abs(Date.now() / 1000 - (entry.date || 0)) < ACTION_SHOW_MS / 1000 + 1) {
          showAction(entry.action);
        }
        break;
      case "api_error": {
        const flood = entry.error_code === 429;
        const text =
          (flood ? "Flood control: " : "Bot API error: ") +
          "the bot's " + entry.method + " was refused — " + entry.description +
          (flood && entry.retry_after ? " (the bot must wait " + entry.retry_after + " s)" : "");
        // Flood control is what a person needs to notice; other refusals are quieter notes for whoever
        // develops the bot.
        const node = systemNode(text, flood ? "error" : "warning");
        node.classList.add("api-error");
        placeNode(entry.seq, node);
        if (live && flood) toast(text, "error");
        break;
      }
      default:
        // callback_query (the user's own press) and future kinds are not shown.
        break;
    }
  }

  function scrollToEnd(force) {
    const box = $("messages");
    const nearEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 160;
    if (force || nearEnd) box.scrollTop = box.scrollHeight;
  }

  async function pollLoop(generation) {
    let first = true;
    let retryDelay = 1000;
    while (generation === pollGeneration) {
      pollAbort = new AbortController();
      const wait = first ? 0 : POLL_WAIT_SECS;
      try {
        const history = await api(chatPath("/messages?after=" + cursor + "&wait=" + wait), {
          signal: pollAbort.signal,
        });
        if (generation !== pollGeneration) return;
        setBanner("");
        for (const entry of history.entries || []) applyEntry(entry);
        if (first || (history.entries || []).length > 0) loadKeyboard(generation);
        cursor = history.cursor;
        scrollToEnd(first || (history.entries || []).length > 0);
        if (first) {
          first = false;
          live = true;
          // The bot may have appeared while the page was waiting for it.
          loadBots();
          if (!actionTimer) idleStatus();
          document.body.dataset.ready = "true";
        }
        retryDelay = 1000;
      } catch (err) {
        if (err.name === "AbortError" || generation !== pollGeneration) return;
        setBanner("Can't read the chat: " + err.message + (err.status ? " (" + err.status + ")" : "") + ". Retrying…");
        setStatus("offline", false);
        await new Promise((r) => setTimeout(r, retryDelay));
        retryDelay = Math.min(retryDelay * 2, 10000);
      }
    }
  }

  function restartChat() {
    pollGeneration++;
    if (pollAbort) pollAbort.abort();
    nodes.clear();
    $("messages").replaceChildren();
    keyboardFetch++;
    replyKeyboard = null;
    keyboardOpen = false;
    renderReplyKeyboard();
    pendingPresses = new Map();
    cursor = 0;
    live = false;
    delete document.body.dataset.ready;
    setStatus("connecting…", false);
    $("who-label").textContent = who.name + " · " + who.id + " · " + who.lang;
    pollLoop(pollGeneration);
  }

  // ---- bots and commands ----------------------------------------------------------------------------------

  async function loadBots() {
    try {
      const { bots } = await api("/sandbox/bots");
      const select = $("bot-select");
      select.replaceChildren();
      let current = bots.find((b) => b.id === who.bot) || bots[bots.length - 1];
      for (const b of bots) {
        const opt = document.createElement("option");
        opt.value = b.id;
        opt.textContent = "@" + b.username;
        select.appendChild(opt);
      }
      select.hidden = bots.length < 2;
      if (current) {
        select.value = current.id;
        $("bot-name").textContent = current.first_name || "@" + current.username;
        $("avatar").textContent = (current.first_name || current.username || "B").slice(0, 1).toUpperCase();
        document.title = (current.first_name || current.username) + " — telegram-sandbox";
      }
    } catch (err) {
      showError(err);
    }
  }

  async function openCommands() {
    const menu = $("commands-menu");
    if (!menu.hidden) {
      menu.hidden = true;
      return;
    }
    $("attach-menu").hidden = true;
    menu.replaceChildren();
    try {
      const { commands } = await api(chatPath("/commands?language_code=" + encodeURIComponent(who.lang)));
      if (!commands.length) {
        const empty = document.createElement("div");
        empty.className = "empty";
        empty.textContent = "The bot has not set any commands (setMyCommands).";
        menu.appendChild(empty);
      }
      for (const c of commands) {
        const b = document.createElement("button");
        b.type = "button";
        const cmd = document.createElement("span");
        cmd.className = "cmd";
        cmd.textContent = "/" + c.command;
        const desc = document.createElement("span");
        desc.className = "desc";
        desc.textContent = c.description;
        b.append(cmd, desc);
        b.addEventListener("click", () => {
          menu.hidden = true;
          sendText("/" + c.command);
        });
        menu.appendChild(b);
      }
      menu.hidden = false;
    } catch (err) {
      showError(err);
    }
  }

  // ---- sending --------------------------------------------------------------------------------------------

  let attachment = null; // { kind, file }

  function setAttachment(kind, file) {
    attachment = file ? { kind, file } : null;
    $("attachment").hidden = !attachment;
    if (attachment) {
      const label = { photo: "Photo", document: "File", audio: "Audio", voice: "Voice note", video: "Video", video_note: "Video message" }[kind] || kind;
      $("attachment-label").textContent = label + ": " + file.name + " (" + humanSize(file.size) + ") — the text becomes its caption";
    }
    updatePlaceholder();
  }

  function updatePlaceholder() {
    let placeholder = "Message";
    if (attachment) placeholder = "Caption (optional)";
    else if (replyKeyboard && keyboardOpen && replyKeyboard.input_field_placeholder) {
      placeholder = replyKeyboard.input_field_placeholder;
    }
    $("text").placeholder = placeholder;
  }

  async function sendText(text) {
    $("commands-menu").hidden = true;
    $("attach-menu").hidden = true;
    try {
      await api(chatPath("/messages"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ from: fromUser(), text }),
      });
      return true;
    } catch (err) {
      showError(err);
      return false;
    }
  }

  async function sendFile(kind, file, caption) {
    const form = new FormData();
    form.append("from", JSON.stringify(fromUser()));
    if (caption) form.append("caption", caption);
    form.append(kind, file, file.name || kind);
    try {
      await api(chatPath("/messages"), { method: "POST", body: form });
      return true;
    } catch (err) {
      showError(err);
      return false;
    }
  }

  async function submit() {
    $("commands-menu").hidden = true;
    $("attach-menu").hidden = true;
    const input = $("text");
    const text = input.value;
    let ok;
    if (attachment) {
      const { kind, file } = attachment;
      $("send").disabled = true;
      ok = await sendFile(kind, file, text.trim() ? text : "");
      $("send").disabled = false;
      if (ok) setAttachment(null, null);
    } else {
      if (!text.trim()) return;
      ok = await sendText(text);
    }
    if (ok) {
      input.value = "";
      autoGrow();
      scrollToEnd(true);
    }
  }

  async function press(messageId, data, button) {
    button.classList.add("pending");
    pendingPresses.set(messageId, button);
    // Telegram clients stop the spinner after a while even without an answer.
    setTimeout(() => button.classList.remove("pending"), 15000);
    try {
      await api(chatPath("/callback"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ from: fromUser(), message_id: messageId, data }),
      });
    } catch (err) {
      button.classList.remove("pending");
      showError(err);
    }
  }

  function autoGrow() {
    const input = $("text");
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }

  // Voice notes must be OGG/Opus; browsers that can record that directly (Firefox) get a record button.
  const RECORD_TYPE = "audio/ogg;codecs=opus";
  let recorder = null;

  async function toggleRecording() {
    const button = $("record-button");
    if (recorder) {
      recorder.stop();
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const chunks = [];
      recorder = new MediaRecorder(stream, { mimeType: RECORD_TYPE });
      recorder.addEventListener("dataavailable", (e) => chunks.push(e.data));
      recorder.addEventListener("stop", async () => {
        stream.getTracks().forEach((t) => t.stop());
        recorder = null;
        button.classList.remove("recording");
        const file = new File(chunks, "voice.ogg", { type: "audio/ogg" });
        await sendFile("voice", file, "");
      });
      recorder.start();
      button.classList.add("recording");
    } catch (err) {
      recorder = null;
      toast("Can't record: " + err.message, "error");
    }
  }

  // ---- wiring ---------------------------------------------------------------------------------------------

  function openWho() {
    $("who-id").value = who.id;
    $("who-name").value = who.name;
    $("who-lang").value = who.lang;
    $("who").hidden = false;
  }

  function init() {
    $("composer").addEventListener("submit", (e) => {
      e.preventDefault();
      submit();
    });
    $("text").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        submit();
      }
    });
    $("text").addEventListener("input", () => {
      autoGrow();
      if ($("text").value === "/" && $("commands-menu").hidden) openCommands();
    });
    $("menu-button").addEventListener("click", openCommands);
    $("keyboard-button").addEventListener("click", toggleReplyKeyboard);
    $("attach-button").addEventListener("click", () => {
      $("commands-menu").hidden = true;
      $("attach-menu").hidden = !$("attach-menu").hidden;
    });
    for (const b of document.querySelectorAll("#attach-menu button")) {
      b.addEventListener("click", () => {
        $("attach-menu").hidden = true;
        $("file-" + b.dataset.pick).click();
      });
    }
    for (const input of document.querySelectorAll("input[type=file]")) {
      input.addEventListener("change", () => {
        if (input.files && input.files[0]) setAttachment(input.dataset.kind, input.files[0]);
        input.value = "";
      });
    }
    $("attachment-clear").addEventListener("click", () => setAttachment(null, null));
    $("who-button").addEventListener("click", () => ($("who").hidden ? openWho() : ($("who").hidden = true)));
    $("who-cancel").addEventListener("click", () => ($("who").hidden = true));
    $("who").addEventListener("submit", (e) => {
      e.preventDefault();
      const id = parseInt($("who-id").value, 10);
      if (!(id > 0)) {
        toast("The user id must be a positive number", "error");
        return;
      }
      who = { ...who, id, name: $("who-name").value.trim() || "Sandbox User", lang: $("who-lang").value };
      saveWho(who);
      $("who").hidden = true;
      restartChat();
    });
    $("bot-select").addEventListener("change", () => {
      who = { ...who, bot: parseInt($("bot-select").value, 10) || null };
      saveWho(who);
      restartChat();
    });
    $("alert-ok").addEventListener("click", () => ($("alert").hidden = true));
    if (window.MediaRecorder && MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(RECORD_TYPE)) {
      $("record-button").hidden = false;
      $("record-button").addEventListener("click", toggleRecording);
    }
    restartChat();
  }

  init();
})();
