// Loket sandbox phone simulator. Plain JS, no dependencies; every URL is relative to the sandbox root.
"use strict";

const state = { phones: [], numbers: {}, current: null, chat: null, stream: null, fakeClock: false, typingUntil: 0 };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, options = {}) {
  const init = { method: options.method || "GET", headers: {} };
  if (options.json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  } else if (options.form) {
    init.body = options.form;
  }
  const response = await fetch(path, init);
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const message = (body && (body.error?.message || body.error || body.detail)) || response.statusText;
    throw new Error(typeof message === "string" ? message : JSON.stringify(message));
  }
  return body;
}

// WhatsApp formatting on escaped text: *bold*, _italic_, ~strike~, ```mono```.
function formatted(text) {
  const escaped = String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const html = escaped
    .replace(/```([^`]+)```/g, "<code>$1</code>")
    .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,!?:;])/g, "$1<b>$2</b>")
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,!?:;])/g, "$1<i>$2</i>")
    .replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,!?:;])/g, "$1<s>$2</s>");
  const span = document.createElement("span");
  span.innerHTML = html; // safe: every character of the input was escaped above
  return span;
}

function timeOf(epoch) {
  return new Date(Number(epoch) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// Only web links leave the page; anything else (javascript:, data:) from a payload is dropped.
function safeUrl(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
}

function mediaUrl(media) {
  if (!media) return null;
  if (media.link) return safeUrl(media.link);
  return media.id ? `_sandbox/media/${encodeURIComponent(media.id)}` : null;
}

// ------------------------------------------------------------------ customers

async function loadPhones() {
  const body = await api("_sandbox/phones");
  state.phones = body.phones;
  state.fakeClock = body.fake_clock;
  state.numbers = Object.fromEntries(body.numbers.map((n) => [n.phone_number_id, n]));
  $("api-info").textContent = `Graph API ${body.graph_version}`;
  $("clock-controls").hidden = !body.fake_clock;
  $("clock-info").textContent = `${body.fake_clock ? "fake clock" : "clock"}: ${new Date(Number(body.now) * 1000).toLocaleString()}`;
  const groups = new Map();
  for (const phone of state.phones) {
    const name = phone.tenant_name || phone.tenant_id || "Customers";
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push(phone);
  }
  const list = $("customer-list");
  list.replaceChildren();
  if (!state.phones.length) list.append(el("p", { class: "muted" }, "No demo customers are configured."));
  for (const [tenant, phones] of groups) {
    list.append(el("div", { class: "tenant" }, el("div", { class: "tenant-name" }, tenant),
      phones.map((p) => el("button", {
        type: "button", class: "customer", "data-key": `${p.phone_number_id}:${p.wa_id}`,
        onclick: () => selectPhone(p),
      }, p.profile_name, el("small", {}, `+${p.wa_id} · ${p.language}`)))));
  }
  const wanted = new URLSearchParams(location.hash.slice(1)).get("chat");
  const initial = state.phones.find((p) => `${p.phone_number_id}:${p.wa_id}` === wanted) || state.phones[0];
  if (initial && !state.current) selectPhone(initial);
}

function selectPhone(phone) {
  state.current = phone;
  const key = `${phone.phone_number_id}:${phone.wa_id}`;
  history.replaceState(null, "", `#chat=${encodeURIComponent(key)}`);
  for (const button of document.querySelectorAll(".customer")) {
    button.setAttribute("aria-current", button.dataset.key === key ? "true" : "false");
  }
  const number = state.numbers[phone.phone_number_id] || {};
  $("biz-name").replaceChildren(number.verified_name || phone.tenant_name || "Business", el("span", { class: "verified", title: "Sandbox business" }, "✔"));
  $("biz-avatar").textContent = (number.verified_name || "L").slice(0, 1);
  $("biz-sub").textContent = number.display_phone_number ? `+${number.display_phone_number}` : "";
  $("text-input").disabled = false;
  $("send-button").disabled = false;
  $("institution-who").textContent = `${phone.profile_name} · ${phone.tenant_name || phone.tenant_id || "no tenant"}`;
  openStream();
  refreshChat();
  refreshStepUps();
}

// ------------------------------------------------------------------ chat

let refreshPending = null;
function refreshChatSoon() {
  if (refreshPending) return;
  refreshPending = setTimeout(() => { refreshPending = null; refreshChat(); }, 60);
}

async function refreshChat() {
  const phone = state.current;
  if (!phone) return;
  try {
    state.chat = await api(`_sandbox/chats/${encodeURIComponent(phone.phone_number_id)}/${encodeURIComponent(phone.wa_id)}`);
  } catch (error) {
    state.chat = { messages: [], window_open: false };
  }
  renderChat();
}

function renderChat() {
  const box = $("chat");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const byId = Object.fromEntries(state.chat.messages.map((m) => [m.id, m]));
  box.replaceChildren(...state.chat.messages.map((m) => renderMessage(m, byId)));
  if (Date.now() < state.typingUntil) box.append(el("div", { class: "system" }, "typing…"));
  if (atBottom || box.dataset.chat !== state.current.wa_id) box.scrollTop = box.scrollHeight;
  box.dataset.chat = state.current.wa_id;
  const closes = state.chat.window_closes_at ? new Date(Number(state.chat.window_closes_at) * 1000).toLocaleString() : null;
  $("window-state").textContent = state.chat.window_open
    ? `Customer service window open until ${closes}`
    : "Customer service window closed: the business may only send templates";
}

function ticks(message) {
  const status = message.status;
  if (message.direction === "in") return status === "read" ? el("span", { class: "tick read", title: "read by the business" }, "✓✓") : null;
  if (status === "failed") return el("span", { class: "tick failed", title: "failed" }, "⚠");
  if (status === "read") return el("span", { class: "tick read", title: "read" }, "✓✓");
  if (status === "delivered") return el("span", { class: "tick", title: "delivered" }, "✓✓");
  if (status === "sent") return el("span", { class: "tick", title: "sent" }, "✓");
  return el("span", { class: "tick", title: "accepted" }, "🕓");
}

function renderMessage(message, byId) {
  const payload = message.payload || {};
  if (message.type === "reaction") {
    const reaction = payload.reaction || {};
    const who = message.direction === "in" ? "You" : "Business";
    return el("div", { class: `row ${message.direction}` }, el("span", { class: "reaction" },
      reaction.emoji ? `${who} reacted ${reaction.emoji}` : `${who} removed a reaction`));
  }
  const content = message.direction === "out" ? renderOutbound(message) : renderInbound(message);
  const quoted = payload.context && byId[payload.context.id || payload.context.message_id];
  const bubble = el("div", { class: "bubble" },
    quoted ? el("div", { class: "context" }, summary(quoted)) : null,
    content,
    (message.errors || []).map((e) => el("div", { class: "error" }, `(#${e.code}) ${e.title}: ${e.error_data?.details || ""}`)),
    el("div", { class: "meta" }, timeOf(message.timestamp), ticks(message)));
  return el("div", { class: `row ${message.direction}` }, bubble);
}

function summary(message) {
  const p = message.payload || {};
  let text = `[${message.type}]`;
  if (p.text) text = p.text.body;
  else if (p.interactive?.body) text = p.interactive.body.text;
  else if (message.rendered) text = message.rendered.body;
  return text.replace(/[*_~`]/g, "");
}

function renderMedia(kind, media) {
  const url = mediaUrl(media);
  if (kind === "image" || kind === "sticker") return el("img", { src: url, alt: media.caption || kind, loading: "lazy" });
  if (kind === "video") return el("video", { src: url, controls: true });
  if (kind === "audio") return el("audio", { src: url, controls: true });
  const name = media.filename || "document";
  return el("div", { class: "doc" }, "📄", el("span", {}, name), " ",
    url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer", download: name }, "Open") : null);
}

function renderOutbound(message) {
  const p = message.payload;
  switch (message.type) {
    case "text": return formatted(p.text.body);
    case "image": case "video": case "audio": case "document": case "sticker": {
      const media = p[message.type];
      return [renderMedia(message.type, media), media.caption ? formatted(media.caption) : null];
    }
    case "location": {
      const l = p.location;
      return [el("div", { class: "header" }, "📍 ", l.name || "Location"), l.address || "", el("div", { class: "footer" }, `${l.latitude}, ${l.longitude}`)];
    }
    case "contacts":
      return p.contacts.map((c) => el("div", {}, "👤 ", c.name.formatted_name, " ", (c.phones || []).map((x) => x.phone).join(", ")));
    case "interactive": return renderInteractive(message, p.interactive);
    case "template": return renderTemplate(message);
    default: return `[${message.type}]`;
  }
}

function renderHeader(header) {
  if (!header) return null;
  if (header.type === "text") return el("div", { class: "header" }, formatted(header.text));
  return renderMedia(header.type, header[header.type] || {});
}

function renderInteractive(message, i) {
  const parts = [renderHeader(i.header), formatted(i.body?.text), i.footer ? el("div", { class: "footer" }, i.footer.text) : null];
  const actions = el("div", { class: "actions" });
  if (i.type === "button") {
    for (const b of i.action.buttons) {
      actions.append(el("button", { type: "button", onclick: () => sendInbound({ type: "button_reply", message_id: message.id, reply_id: b.reply.id }) }, b.reply.title));
    }
  } else if (i.type === "list") {
    actions.append(el("button", { type: "button", onclick: () => openList(message, i) }, "☰ ", i.action.button));
  } else if (i.type === "cta_url") {
    actions.append(el("a", { href: safeUrl(i.action.parameters.url), target: "_blank", rel: "noopener noreferrer" }, "↗ ", i.action.parameters.display_text));
  } else if (i.type === "flow") {
    actions.append(el("button", { type: "button", onclick: () => openFlow(message) }, i.action.parameters.flow_cta));
  }
  return [...parts, actions];
}

function renderTemplate(message) {
  const r = message.rendered || { body: `[template ${message.payload.template.name}]`, buttons: [] };
  const actions = el("div", { class: "actions" });
  for (const b of r.buttons || []) {
    if (b.type === "QUICK_REPLY") {
      actions.append(el("button", { type: "button", onclick: () => sendInbound({ type: "template_button", message_id: message.id, index: b.index }) }, b.text));
    } else if (b.type === "URL") {
      actions.append(el("a", { href: safeUrl(b.url), target: "_blank", rel: "noopener noreferrer" }, "↗ ", b.text));
    } else if (b.type === "FLOW") {
      actions.append(el("button", { type: "button", onclick: () => openFlow(message) }, b.text));
    } else {
      actions.append(el("button", { type: "button", disabled: true }, b.text));
    }
  }
  return [renderHeader(r.header), formatted(r.body), r.footer ? el("div", { class: "footer" }, r.footer) : null, actions.childElementCount ? actions : null];
}

function renderInbound(message) {
  const p = message.payload;
  switch (message.type) {
    case "text": return formatted(p.text.body);
    case "image": case "document": return [renderMedia(message.type, p[message.type]), p[message.type].caption ? formatted(p[message.type].caption) : null];
    case "location": return `📍 ${p.location.name || ""} ${p.location.latitude}, ${p.location.longitude}`;
    case "button": return p.button.text;
    case "interactive": {
      const i = p.interactive;
      if (i.type === "button_reply") return i.button_reply.title;
      if (i.type === "list_reply") return i.list_reply.title;
      if (i.type === "nfm_reply") return [el("div", { class: "header" }, "Form sent"), el("code", {}, i.nfm_reply.response_json)];
      return `[${i.type}]`;
    }
    default: return `[${message.type}]`;
  }
}

// ------------------------------------------------------------------ sending as the customer

async function sendInbound(spec) {
  const phone = state.current;
  try {
    await api("_sandbox/inbound", { method: "POST", json: { wa_id: phone.wa_id, phone_number_id: phone.phone_number_id, ...spec } });
  } catch (error) {
    alert(`Could not send: ${error.message}`);
  }
  refreshChatSoon();
}

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("text-input");
  const text = input.value.trim();
  if (!text || !state.current) return;
  input.value = "";
  await sendInbound({ type: "text", text });
});

$("file-input").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file || !state.current) return;
  const form = new FormData();
  form.append("wa_id", state.current.wa_id);
  form.append("phone_number_id", state.current.phone_number_id);
  const caption = $("text-input").value.trim();
  if (caption) form.append("caption", caption);
  $("text-input").value = "";
  form.append("file", file, file.name);
  try {
    await api("_sandbox/inbound", { method: "POST", form });
  } catch (error) {
    alert(`Upload refused: ${error.message}`);
  }
  refreshChatSoon();
});

// ------------------------------------------------------------------ sheets: lists and Flows

function openSheet(title, ...content) {
  $("sheet-title").textContent = title;
  $("sheet-body").replaceChildren(...content);
  $("sheet").hidden = false;
}
function closeSheet() { $("sheet").hidden = true; }
$("sheet-close").addEventListener("click", closeSheet);
$("sheet").addEventListener("click", (event) => { if (event.target === $("sheet")) closeSheet(); });
document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeSheet(); });

function openList(message, i) {
  const body = i.action.sections.map((section) => [
    section.title ? el("div", { class: "sheet-section" }, section.title) : null,
    section.rows.map((row) => el("button", {
      type: "button", class: "sheet-row",
      onclick: () => { closeSheet(); sendInbound({ type: "list_reply", message_id: message.id, row_id: row.id }); },
    }, row.title, row.description ? el("small", {}, row.description) : null)),
  ]);
  openSheet(i.action.button, ...body.flat(Infinity));
}

let flow = null;

async function openFlow(message) {
  try {
    const step = await api("_sandbox/flows/open", { method: "POST", json: { message_id: message.id } });
    flow = { session: step.session };
    showFlowStep(step);
  } catch (error) {
    openSheet("Flow", el("p", { class: "flow-error" }, error.message));
  }
}

function lookup(path, scope) {
  return path.split(".").reduce((value, key) => (value === undefined || value === null ? undefined : value[key]), scope);
}

function resolve(value, scope) {
  if (typeof value === "string") {
    const whole = value.match(/^\$\{(data|form)\.([\w.]+)\}$/);
    if (whole) return lookup(whole[2], scope[whole[1]]);
    return value.replace(/\$\{(data|form)\.([\w.]+)\}/g, (_, root, path) => String(lookup(path, scope[root]) ?? ""));
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, scope));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, scope)]));
  return value;
}

function formValues(form) {
  const values = {};
  for (const field of form.querySelectorAll("[name]")) {
    if (field.type === "checkbox" && field.dataset.group) {
      values[field.name] = values[field.name] || [];
      if (field.checked) values[field.name].push(field.value);
    } else if (field.type === "checkbox") values[field.name] = field.checked;
    else if (field.type === "radio") { if (field.checked) values[field.name] = field.value; }
    else values[field.name] = field.value;
  }
  return values;
}

function flowComponent(c, data, footers) {
  const text = (v) => resolve(v, { data, form: {} });
  const options = (source) => (Array.isArray(source) ? source : text(source) || []);
  switch (c.type) {
    case "TextHeading": return el("h3", {}, text(c.text));
    case "TextSubheading": return el("h4", {}, text(c.text));
    case "TextBody": case "TextCaption": return el("p", {}, text(c.text));
    case "TextInput": return el("label", {}, text(c.label), el("input", { name: c.name, type: c["input-type"] === "number" ? "number" : c["input-type"] === "email" ? "email" : "text", required: c.required, value: text(c["init-value"]) }));
    case "TextArea": return el("label", {}, text(c.label), el("textarea", { name: c.name, required: c.required }));
    case "DatePicker": return el("label", {}, text(c.label), el("input", { name: c.name, type: "date", required: c.required }));
    case "Dropdown": return el("label", {}, text(c.label), el("select", { name: c.name, required: c.required },
      options(c["data-source"]).map((o) => el("option", { value: o.id }, o.title))));
    case "RadioButtonsGroup": return el("fieldset", {}, el("legend", {}, text(c.label)), options(c["data-source"]).map((o) =>
      el("label", { class: "choice" }, el("input", { type: "radio", name: c.name, value: o.id, required: c.required }), o.title)));
    case "CheckboxGroup": return el("fieldset", {}, el("legend", {}, text(c.label)), options(c["data-source"]).map((o) =>
      el("label", { class: "choice" }, el("input", { type: "checkbox", name: c.name, value: o.id, "data-group": "1" }), o.title)));
    case "OptIn": return el("label", { class: "choice" }, el("input", { type: "checkbox", name: c.name, required: c.required }), text(c.label));
    case "Form": return (c.children || []).map((child) => flowComponent(child, data, footers));
    case "Footer": footers.push(c); return null;
    default: return null;
  }
}

function showFlowStep(step) {
  if (step.done) {
    closeSheet();
    refreshChatSoon();
    return;
  }
  const form = el("form", { class: "flow-form" });
  const footers = [];
  const data = step.data || {};
  if (step.layout) {
    form.append(...[(step.layout.children || []).map((c) => flowComponent(c, data, footers))].flat(Infinity).filter(Boolean));
  } else {
    form.append(el("p", { class: "muted" }, `Screen ${step.screen || "(unknown)"}: the sandbox has no Flow JSON for this flow; enter the fields to send.`));
    for (const [key, value] of Object.entries(data)) form.append(el("p", {}, el("b", {}, key), ": ", typeof value === "object" ? JSON.stringify(value) : String(value)));
    const rows = el("div", {});
    const addRow = () => rows.append(el("div", { class: "kv" }, el("input", { placeholder: "field", "data-key": "1" }), el("input", { placeholder: "value", "data-value": "1" })));
    addRow(); addRow();
    form.append(rows, el("button", { type: "button", onclick: addRow }, "+ field"));
  }
  if (step.error) form.append(el("p", { class: "flow-error" }, step.error));
  const go = async (json) => {
    try {
      showFlowStep(await api("_sandbox/flows/submit", { method: "POST", json: { session: flow.session, ...json } }));
    } catch (error) {
      showFlowStep({ ...step, error: error.message });
    }
  };
  if (step.can_go_back) form.append(el("button", { type: "button", onclick: () => go({ action: "back" }) }, "‹ Back"));
  const footer = footers[0] || { label: step.layout ? "Continue" : "Submit", "on-click-action": { name: step.generic_action || "complete" } };
  form.append(el("button", { type: "submit", class: "flow-submit" }, footer.label));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = footer["on-click-action"] || { name: "complete" };
    let payload;
    if (step.layout) payload = resolve(action.payload || formValues(form), { data, form: formValues(form) });
    else {
      payload = {};
      for (const row of form.querySelectorAll(".kv")) {
        const key = row.querySelector("[data-key]").value.trim();
        if (key) payload[key] = row.querySelector("[data-value]").value;
      }
    }
    await go({ action: action.name, screen: step.screen, next: action.next?.name || null, payload });
  });
  openSheet(step.title || "Form", form);
}

// ------------------------------------------------------------------ institution app (step-ups)

let coreRetryAt = 0;

async function refreshStepUps(force = true) {
  const phone = state.current;
  const box = $("stepups");
  if (!phone || (!force && Date.now() < coreRetryAt)) return;
  if (!phone.tenant_id || !phone.customer_id) {
    box.replaceChildren(el("p", { class: "muted" }, "This demo phone has no tenant or customer id."));
    return;
  }
  const base = `core/v1/tenants/${encodeURIComponent(phone.tenant_id)}/step-ups`;
  let items;
  try {
    items = await api(`${base}?customer_id=${encodeURIComponent(phone.customer_id)}&status=pending`);
  } catch (error) {
    coreRetryAt = Date.now() + 30000;
    box.replaceChildren(el("p", { class: "muted" }, "The institution API is not connected to this sandbox."));
    return;
  }
  coreRetryAt = 0;
  if (!Array.isArray(items)) items = items.items || items.data || [];
  if (!items.length) {
    box.replaceChildren(el("p", { class: "muted" }, "No pending approvals."));
    return;
  }
  const decide = async (item, approve) => {
    try {
      await api(`${base}/${encodeURIComponent(item.request_id)}/decision`, { method: "POST", json: { approve } });
    } catch (error) {
      alert(`Decision failed: ${error.message}`);
    }
    refreshStepUps();
  };
  box.replaceChildren(...items.map((item) => el("div", { class: "stepup" },
    el("h4", {}, item.action),
    el("div", { class: "muted" }, `requested ${new Date(item.created_at).toLocaleString()}`),
    el("div", { class: "muted" }, `expires ${new Date(item.expires_at).toLocaleString()}`),
    el("div", { class: "buttons" },
      el("button", { type: "button", class: "approve", onclick: () => decide(item, true) }, "Approve"),
      el("button", { type: "button", class: "reject", onclick: () => decide(item, false) }, "Reject")))));
}

// ------------------------------------------------------------------ admin strip

async function refreshAdmin() {
  if ($("admin").hidden) return;
  const [templates, faults, log] = await Promise.all([
    api("_sandbox/templates"), api("_sandbox/faults"), api("_sandbox/webhooks?body=0"),
  ]);
  const rows = templates.templates.map((t) => el("tr", {},
    el("td", {}, t.name), el("td", {}, t.language), el("td", {}, t.category), el("td", {}, t.status),
    el("td", {}, t.status === "PENDING" ? [
      el("button", { type: "button", onclick: () => review(t.id, "approve") }, "Approve"), " ",
      el("button", { type: "button", onclick: () => review(t.id, "reject") }, "Reject"),
    ] : null)));
  $("templates").replaceChildren(rows.length ? el("table", {}, el("tr", {}, ["Name", "Lang", "Category", "Status", ""].map((h) => el("th", {}, h))), rows)
    : el("p", { class: "muted" }, "No templates yet."));
  const form = $("faults");
  if (!form.contains(document.activeElement)) {
    form.replaceChildren(...Object.entries(faults).flatMap(([name, value]) => [
      el("label", { for: `fault-${name}` }, name.replaceAll("_", " ")),
      el("input", { id: `fault-${name}`, name, type: "number", min: "0", step: "any", value }),
    ]), el("button", { type: "submit" }, "Apply"));
  }
  const recent = log.deliveries.slice(-30).reverse();
  $("deliveries").replaceChildren(el("table", {}, el("tr", {}, ["#", "Kind", "What", "State", "Attempts"].map((h) => el("th", {}, h))),
    recent.map((d) => el("tr", {}, el("td", {}, d.id, d.duplicate_of ? ` (dup of ${d.duplicate_of})` : ""),
      el("td", {}, d.summary.kind), el("td", {}, d.summary.status || d.summary.type || ""),
      el("td", { class: `state-${d.state}` }, d.state),
      el("td", {}, d.attempts.map((a) => a.status ?? a.error).join(", "))))));
}

async function review(id, decision) {
  await api(`_sandbox/templates/${encodeURIComponent(id)}/${decision}`, { method: "POST", json: {} });
  refreshAdmin();
}

$("faults").addEventListener("submit", async (event) => {
  event.preventDefault();
  const changes = {};
  for (const input of event.target.querySelectorAll("input")) changes[input.name] = Number(input.value);
  try { await api("_sandbox/faults", { method: "POST", json: changes }); } catch (error) { alert(error.message); }
  refreshAdmin();
});

$("toggle-admin").addEventListener("click", () => {
  const admin = $("admin");
  admin.hidden = !admin.hidden;
  $("toggle-admin").setAttribute("aria-expanded", String(!admin.hidden));
  refreshAdmin();
});

for (const button of document.querySelectorAll("[data-advance]")) {
  button.addEventListener("click", async () => {
    await api("_sandbox/clock/advance", { method: "POST", json: { seconds: Number(button.dataset.advance) } });
    loadPhones();
    refreshChatSoon();
  });
}

// ------------------------------------------------------------------ live updates

function openStream() {
  if (state.stream) state.stream.close();
  const phone = state.current;
  const stream = new EventSource(`_sandbox/events/stream?open=${encodeURIComponent(`${phone.phone_number_id}:${phone.wa_id}`)}`);
  const mine = (event) => {
    const data = JSON.parse(event.data).data;
    const m = data.message || data;
    return m.wa_id === phone.wa_id && m.phone_number_id === phone.phone_number_id;
  };
  for (const kind of ["message", "status", "read"]) {
    stream.addEventListener(kind, (event) => { if (mine(event)) refreshChatSoon(); });
  }
  stream.addEventListener("typing", (event) => {
    if (!mine(event)) return;
    state.typingUntil = Date.now() + 25000;
    refreshChatSoon();
    setTimeout(refreshChatSoon, 25100);
  });
  let adminPending = null;
  for (const kind of ["template", "webhook"]) {
    stream.addEventListener(kind, () => {
      if (adminPending) return;
      adminPending = setTimeout(() => { adminPending = null; refreshAdmin(); }, 300);
    });
  }
  state.stream = stream;
}

setInterval(() => refreshStepUps(false), 4000);
loadPhones().catch((error) => { $("customer-list").replaceChildren(el("p", { class: "flow-error" }, error.message)); });
