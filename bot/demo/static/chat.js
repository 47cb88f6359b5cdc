// The demo's web chat: draws the emulated Telegram chat and channel from the state the
// server streams (GET /events, Server-Sent Events), and sends what the person does to /api/.
// Messages are Bot API Message objects; text offsets are UTF-16, as JavaScript strings are.
"use strict";

const $ = (id) => document.getElementById(id);
let state = null;

// ------------------------------------------------------------------ talking to the server

async function post(path, body) {
  const init = body instanceof FormData
    ? { method: "POST", body }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, init);
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) toast(answer.error || `The demo server said ${response.status}`);
  return answer;
}

const sendText = (text, entities = []) => post("/api/text", { text, entities });

function toast(text, alert = false) {
  const box = $("toast");
  box.textContent = text;
  box.className = alert ? "toast alert" : "toast";
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, alert ? 4000 : 2000);
}

// ----------------------------------------------------------------------- drawing text

const TAGS = {
  bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
  blockquote: "blockquote", expandable_blockquote: "blockquote",
};

function entityElement(entity, text) {
  if (entity.type === "text_link" || entity.type === "url") {
    const link = document.createElement("a");
    link.href = entity.url || (/^https?:/.test(text) ? text : `http://${text}`);
    link.target = "_blank";
    link.rel = "noopener";
    link.onclick = (event) => {
      // A link to a post of the demo channel shows it in the channel's pane.
      const post = link.href.match(/^https:\/\/t\.me\/(\w+)\/(\d+)/);
      if (post && post[1] === state?.channel.username) {
        event.preventDefault();
        showChannelPost(Number(post[2]));
      }
    };
    return link;
  }
  if (entity.type === "bot_command") {
    const command = document.createElement("span");
    command.className = "command";
    command.onclick = () => sendText(text);
    return command;
  }
  const element = document.createElement(TAGS[entity.type] || "span");
  if (["mention", "hashtag", "cashtag", "email", "phone_number"].includes(entity.type)) {
    element.className = "link";
  }
  if (entity.type === "spoiler") {
    element.className = "spoiler";
    element.onclick = () => element.classList.add("shown");
  }
  return element;
}

// Text with its entities as nested elements (Telegram's entities nest, never cross).
function formatted(text, entities = []) {
  const root = document.createElement("span");
  const sorted = [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
  const stack = [{ node: root, end: text.length }];
  let pos = 0;
  const emit = (upto) => {
    if (upto > pos) stack.at(-1).node.append(text.slice(pos, upto));
    pos = Math.max(pos, upto);
  };
  for (let i = 0; ;) {
    const next = sorted[i];
    const top = stack.at(-1);
    if (next && next.offset < top.end) {
      emit(next.offset);
      const end = Math.min(next.offset + next.length, top.end);
      const element = entityElement(next, text.slice(next.offset, end));
      top.node.append(element);
      stack.push({ node: element, end });
      i += 1;
    } else {
      emit(top.end);
      if (stack.length === 1) break;
      stack.pop();
    }
  }
  return root;
}

function showChannelPost(messageId) {
  const post = document.querySelector(`#channel-messages [data-message-id="${messageId}"]`);
  if (!post) return toast("That post is not in the channel (any more)");
  post.scrollIntoView({ behavior: "smooth", block: "center" });
  post.classList.add("flash");
  setTimeout(() => post.classList.remove("flash"), 1500);
}

// ------------------------------------------------------------------- drawing messages

const fileUrl = (fileId) => `/file/${encodeURIComponent(fileId)}`;
const time = (date) => new Date(date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function sizeText(bytes) {
  if (!bytes) return "";
  return bytes > 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

function media(msg) {
  if (msg.photo) {
    const img = document.createElement("img");
    img.src = fileUrl(msg.photo.at(-1).file_id);
    img.alt = "photo";
    return img;
  }
  const video = msg.animation || msg.video;
  if (video) {
    const element = document.createElement("video");
    element.src = fileUrl(video.file_id);
    element.controls = !msg.animation;
    element.muted = element.loop = element.autoplay = Boolean(msg.animation);
    return element;
  }
  const file = msg.document || msg.audio || msg.voice;
  if (file) {
    const box = document.createElement("div");
    box.className = "file";
    box.innerHTML = '<div class="icon-doc">📄</div><div><a target="_blank"></a><small></small></div>';
    box.querySelector("a").href = fileUrl(file.file_id);
    box.querySelector("a").textContent = file.file_name || "file";
    box.querySelector("small").textContent = sizeText(file.file_size);
    return box;
  }
  if (msg.location) {
    const box = document.createElement("div");
    box.className = "location";
    const { latitude, longitude } = msg.location;
    box.textContent = `📍 Location ${latitude.toFixed(4)}, ${longitude.toFixed(4)}`;
    return box;
  }
  return null;
}

function keyboard(msg) {
  const rows = msg.reply_markup?.inline_keyboard || [];
  return rows.map((row) => {
    const line = document.createElement("div");
    line.className = "kb-row";
    for (const button of row) {
      const element = document.createElement("button");
      element.type = "button";
      element.className = button.url ? "kb url" : "kb";
      element.textContent = button.text;
      element.onclick = () => pressInline(msg, button);
      line.append(element);
    }
    return line;
  });
}

async function pressInline(msg, button) {
  if (button.url) return window.open(button.url, "_blank", "noopener");
  if (button.copy_text) {
    await navigator.clipboard?.writeText(button.copy_text.text);
    return toast("Copied");
  }
  if (button.callback_data === undefined) return toast("This button does nothing in the demo");
  const answer = await post("/api/press", {
    chat_id: msg.chat.id, message_id: msg.message_id, data: button.callback_data,
  });
  if (answer.text) toast(answer.text, answer.show_alert);
}

function describe(msg) {
  if (msg.text || msg.caption) return (msg.text || msg.caption).slice(0, 60);
  if (msg.photo) return "a photo";
  if (msg.video) return "a video";
  return "a message";
}

// One bubble for a message, or for an album (messages sharing a media_group_id).
function bubble(group, mine, showSender) {
  const first = group[0];
  if (first.pinned_message) {
    const service = document.createElement("div");
    service.className = "service";
    service.textContent = `${first.sender_chat?.title || first.from?.first_name} pinned «${describe(first.pinned_message)}»`;
    return service;
  }
  const wrap = document.createElement("div");
  wrap.className = mine ? "msg out" : "msg";
  wrap.dataset.messageId = first.message_id;
  const box = document.createElement("div");
  box.className = "bubble";
  if (showSender && first.sender_chat) {
    const sender = document.createElement("div");
    sender.className = "sender";
    sender.textContent = first.sender_chat.title;
    box.append(sender);
  }
  const shown = group.map(media).filter(Boolean);
  if (shown.length > 1) {
    const album = document.createElement("div");
    album.className = "album";
    const columns = shown.length === 4 ? 2 : Math.min(shown.length, 3);
    album.style.gridTemplateColumns = `repeat(${columns}, 1fr)`;
    album.append(...shown);
    box.append(album);
  } else if (shown.length) {
    box.append(shown[0]);
  }
  if (shown.length && !first.location) box.classList.add("media");
  const captioned = group.find((m) => m.caption) || first;
  const text = captioned.text ?? captioned.caption;
  const last = group.at(-1);
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = (group.some((m) => m.edit_date) ? "edited " : "") + time(last.date);
  const body = document.createElement("div");
  body.className = "text";
  if (text) body.append(formatted(text, captioned.entities || captioned.caption_entities || []));
  body.append(meta);
  box.append(body);
  wrap.append(box, ...keyboard(last));
  return wrap;
}

function groups(messages) {
  const result = [];
  for (const msg of messages) {
    const previous = result.at(-1);
    if (msg.media_group_id && previous && previous[0].media_group_id === msg.media_group_id) {
      previous.push(msg);
    } else {
      result.push([msg]);
    }
  }
  return result;
}

// Redraw a list of messages, keeping the elements of those that did not change (a playing
// video keeps playing) and the view at the bottom when it was there.
function drawMessages(container, messages, mine, showSender) {
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
  const cache = container.cache || new Map();
  const next = new Map();
  const elements = groups(messages).map((group) => {
    const key = JSON.stringify(group);
    const element = cache.get(key) || bubble(group, mine(group[0]), showSender);
    next.set(key, element);
    return element;
  });
  container.cache = next;
  container.replaceChildren(...elements);
  if (atBottom) container.scrollTop = container.scrollHeight;
}

const ACTIONS = {
  typing: "typing…", upload_photo: "sending a photo…", upload_video: "sending a video…",
  upload_document: "sending a file…", record_video: "recording a video…",
  find_location: "choosing a location…",
};

function draw(next) {
  state = next;
  const me = state.user.id;
  $("bot-name").textContent = state.bot.name;
  const status = $("bot-status");
  status.textContent = state.action ? ACTIONS[state.action] || "…" : "bot";
  status.classList.toggle("active", Boolean(state.action));
  drawMessages($("chat-messages"), state.chat, (m) => m.from?.id === me, false);
  $("start").hidden = state.chat.length > 0;
  $("composer").hidden = state.chat.length === 0;

  const channel = state.channel;
  $("channel-title").textContent = channel.title;
  $("channel-status").textContent = channel.username ? `@${channel.username} · channel` : "channel";
  drawMessages($("channel-messages"), channel.messages, () => false, true);
  const pinnedId = channel.pinned.at(-1);
  const pinned = channel.messages.find((m) => m.message_id === pinnedId);
  $("pinned").hidden = !pinned;
  if (pinned) {
    $("pinned").innerHTML = "<b>Pinned message</b><span></span>";
    $("pinned").querySelector("span").textContent = describe(pinned);
    $("pinned").onclick = () => showChannelPost(pinned.message_id);
  }
  drawReplyKeyboard(state.keyboard);
}

// The reply keyboard the bot set last; a one-time keyboard hides once used, as clients do.
let usedKeyboard = null;

function drawReplyKeyboard(markup) {
  const box = $("keyboard");
  const key = JSON.stringify(markup);
  const rows = key === usedKeyboard ? [] : markup?.keyboard || [];
  box.hidden = rows.length === 0;
  $("input").dataset.placeholder = (rows.length && markup.input_field_placeholder) || "Message";
  box.replaceChildren(...rows.map((row) => {
    const line = document.createElement("div");
    line.className = "kb-row";
    for (const button of row) {
      const label = typeof button === "string" ? button : button.text;
      const element = document.createElement("button");
      element.type = "button";
      element.className = "kb";
      element.textContent = label;
      element.onclick = () => {
        if (markup.one_time_keyboard) {
          usedKeyboard = key;
          box.hidden = true;
        }
        return button.request_location ? shareLocation() : sendText(label);
      };
      line.append(element);
    }
    return line;
  }));
}

// ------------------------------------------------------------------- the composer

const BLOCKS = new Set(["DIV", "P", "LI", "H1", "H2", "H3", "BLOCKQUOTE", "PRE"]);
const FORMATS = {
  B: "bold", STRONG: "bold", I: "italic", EM: "italic", U: "underline", INS: "underline",
  S: "strikethrough", STRIKE: "strikethrough", DEL: "strikethrough", CODE: "code", PRE: "pre",
};

// The composer's content as Telegram text and entities (what a Telegram client sends).
function readFormatted(root) {
  let text = "";
  const entities = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { text += node.nodeValue; return; }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    if (node.tagName === "BR") { text += "\n"; return; }
    if (BLOCKS.has(node.tagName) && text && !text.endsWith("\n")) text += "\n";
    const start = text.length;
    node.childNodes.forEach(walk);
    const length = text.length - start;
    if (!length) return;
    let type = FORMATS[node.tagName];
    const style = node.style || {};
    if (!type && (style.fontWeight === "bold" || Number(style.fontWeight) >= 600)) type = "bold";
    if (!type && style.fontStyle === "italic") type = "italic";
    if (type) entities.push({ type, offset: start, length });
    if (node.tagName === "A" && /^https?:/.test(node.href) && node.textContent !== node.href) {
      entities.push({ type: "text_link", offset: start, length, url: node.href });
    }
  };
  root.childNodes.forEach(walk);
  const lead = text.length - text.trimStart().length;
  const trimmed = text.trim();
  const kept = entities
    .map((e) => {
      const offset = Math.max(0, e.offset - lead);
      const end = Math.min(trimmed.length, e.offset - lead + e.length);
      return { ...e, offset, length: end - offset };
    })
    .filter((e) => e.length > 0);
  return { text: trimmed, entities: kept };
}

// Pasted HTML keeps only what Telegram can show: bold, italic, underline, strike, code, links.
function cleanPaste(html) {
  const source = new DOMParser().parseFromString(html, "text/html").body;
  const copy = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.nodeValue);
    if (node.nodeType !== Node.ELEMENT_NODE || ["SCRIPT", "STYLE"].includes(node.tagName)) return null;
    if (node.tagName === "BR") return document.createElement("br");
    const type = FORMATS[node.tagName]
      || (node.style.fontWeight === "bold" || Number(node.style.fontWeight) >= 600 ? "bold" : null)
      || (node.style.fontStyle === "italic" ? "italic" : null);
    const tag = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre" }[type];
    let element;
    if (node.tagName === "A" && node.getAttribute("href")) {
      element = document.createElement("a");
      element.href = node.href;
    } else if (tag) {
      element = document.createElement(tag);
    } else {
      element = document.createElement(BLOCKS.has(node.tagName) ? "div" : "span");
    }
    node.childNodes.forEach((child) => { const c = copy(child); if (c) element.append(c); });
    return element;
  };
  const wrapper = document.createElement("div");
  source.childNodes.forEach((child) => { const c = copy(child); if (c) wrapper.append(c); });
  return wrapper.innerHTML;
}

function onPaste(event) {
  const html = event.clipboardData.getData("text/html");
  const files = [...event.clipboardData.files];
  event.preventDefault();
  if (files.length) return chooseFiles(files, "media");
  if (html) document.execCommand("insertHTML", false, cleanPaste(html));
  else document.execCommand("insertText", false, event.clipboardData.getData("text/plain"));
}

async function submitComposer(event) {
  event?.preventDefault();
  const input = $("input");
  const { text, entities } = readFormatted(input);
  if (!text) return;
  input.replaceChildren();
  $("commands").hidden = true;
  await sendText(text, entities);
}

function showCommands(filter = "") {
  const box = $("commands");
  const commands = (state?.commands || []).filter((c) => c.command.startsWith(filter));
  box.replaceChildren(...commands.map((c) => {
    const element = document.createElement("button");
    element.type = "button";
    element.innerHTML = "<b></b><span></span>";
    element.querySelector("b").textContent = `/${c.command}`;
    element.querySelector("span").textContent = c.description;
    element.onclick = () => {
      box.hidden = true;
      $("input").replaceChildren();
      sendText(`/${c.command}`);
    };
    return element;
  }));
  box.hidden = commands.length === 0;
}

function onInput() {
  const text = $("input").textContent;
  if (/^\/\w*$/.test(text)) showCommands(text.slice(1));
  else $("commands").hidden = true;
}

// ------------------------------------------------------------- files and locations

let pending = { files: [], as: "media" };

function chooseFiles(files, as) {
  if (!files.length) return;
  pending = { files, as };
  const previews = files.map((file) => {
    if (as === "media" && file.type.startsWith("image/")) {
      const img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      return img;
    }
    const name = document.createElement("div");
    name.textContent = `📄 ${file.name}`;
    return name;
  });
  $("previews").replaceChildren(...previews);
  const kind = as === "file" ? "file" : files.every((f) => f.type.startsWith("image/")) ? "photo" : "item";
  $("send-title").textContent = files.length === 1 ? `Send ${kind}` : `Send ${files.length} ${kind}s`;
  $("caption").replaceChildren();
  $("send-dialog").showModal();
  $("caption").focus();
}

async function sendChosenFiles(event) {
  event.preventDefault();
  const { text, entities } = readFormatted($("caption"));
  const form = new FormData();
  for (const file of pending.files) form.append("file", file, file.name);
  form.append("as", pending.as);
  form.append("caption", text);
  form.append("entities", JSON.stringify(entities));
  $("send-dialog").close();
  await post("/api/files", form);
}

function shareLocation() {
  const send = (latitude, longitude) => post("/api/location", { latitude, longitude });
  const ask = () => {
    const typed = prompt("Your location as latitude, longitude", "48.8566, 2.3522");
    const [latitude, longitude] = (typed || "").split(",").map(Number);
    if (Number.isFinite(latitude) && Number.isFinite(longitude)) send(latitude, longitude);
  };
  if (!navigator.geolocation) return ask();
  navigator.geolocation.getCurrentPosition(
    (where) => send(where.coords.latitude, where.coords.longitude), ask, { timeout: 5000 },
  );
}

function setUp() {
  $("composer").onsubmit = submitComposer;
  $("input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) submitComposer(event);
  });
  $("input").addEventListener("input", onInput);
  $("input").addEventListener("paste", onPaste);
  $("caption").addEventListener("paste", onPaste);
  $("start-button").onclick = () => sendText("/start");
  $("menu-button").onclick = () => ($("commands").hidden ? showCommands() : ($("commands").hidden = true));
  $("attach-button").onclick = () => { $("attach-menu").hidden = !$("attach-menu").hidden; };
  for (const item of document.querySelectorAll("[data-pick]")) {
    item.onclick = () => {
      $("attach-menu").hidden = true;
      if (item.dataset.pick === "location") shareLocation();
      else $(`pick-${item.dataset.pick}`).click();
    };
  }
  $("pick-media").onchange = (e) => { chooseFiles([...e.target.files], "media"); e.target.value = ""; };
  $("pick-file").onchange = (e) => { chooseFiles([...e.target.files], "file"); e.target.value = ""; };
  $("send-form").onsubmit = sendChosenFiles;
  $("send-cancel").onclick = () => $("send-dialog").close();

  const chat = $("chat");
  chat.addEventListener("dragover", (event) => { event.preventDefault(); $("drop").hidden = false; });
  $("drop").addEventListener("dragleave", () => { $("drop").hidden = true; });
  chat.addEventListener("drop", (event) => {
    event.preventDefault();
    $("drop").hidden = true;
    const files = [...event.dataTransfer.files];
    const media = files.every((f) => /^(image|video)\//.test(f.type));
    chooseFiles(files, media ? "media" : "file");
  });

  const events = new EventSource("/events");
  events.onmessage = (event) => draw(JSON.parse(event.data));
}

setUp();
