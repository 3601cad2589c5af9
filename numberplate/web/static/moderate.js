// Moderation screen: a queue of crops, one big crop, keyboard first (type, Enter saves and moves on).
"use strict";

const S = {
  info: null,
  items: [],            // every item, as listed by the server (updated after each save)
  byId: new Map(),
  view: [],             // ids in the current filter and order; fixed until the filters change
  pos: -1,
  detail: null,         // promise of the shown item with its raw annotation (for undo and a fresh revision)
  revision: null,       // revision the shown item's edit is based on
  live: new Map(),      // id -> reading made by the server for items without a stored one
  prefilled: "",        // what the text field was filled with (to know whether the person typed)
  lines: 1, state: "readable",
  undo: [],             // [{id, before: annotation, revision: after the save}]
  saves: [],            // performance.now() of this page's saves
  busy: false,
  conflict: false,
};

const $ = (id) => document.getElementById(id);
const LINES = [1, 2, 3];
const STATE_KEYS = { readable: "R", filled: "F", empty: "E", garbage: "G" };

function conf(item) {
  const p = item.predicted || S.live.get(item.id);
  return p && typeof p.confidence === "number" ? p.confidence : null;
}

function predictionOf(item) { return item.predicted || S.live.get(item.id) || null; }

// ------------------------------------------------------------------------------------------ queue
function computeView() {
  const q = $("search").value.trim().toUpperCase();
  const status = $("f-status").value, split = $("f-split").value, state = $("f-state").value;
  const region = $("f-region").value, below = parseFloat($("f-conf").value);
  let items = S.items.filter((it) => {
    if (status === "todo" && it.moderated) return false;
    if (status === "done" && !it.moderated) return false;
    if (status === "predicted" && !predictionOf(it)) return false;
    if (status === "error" && !it.error) return false;
    if (split && it.split !== split) return false;
    if (state && it.state !== state) return false;
    if (region && it.region !== region) return false;
    if (!Number.isNaN(below)) { const c = conf(it); if (c !== null && c >= below) return false; }
    if (q) {
      const p = predictionOf(it);
      const hay = `${it.name} ${it.text} ${p ? p.text : ""}`.toUpperCase();
      if (!hay.includes(q)) return false;
    }
    return true;
  });
  const sort = $("sort").value;
  const byName = (a, b) => (a.split + "/" + a.name).localeCompare(b.split + "/" + b.name, undefined, { numeric: true });
  // Unknown confidence counts as doubtful: nobody has looked at it yet.
  const doubt = (a, b) => { const ca = conf(a) ?? -1, cb = conf(b) ?? -1; return ca - cb || byName(a, b); };
  const todoFirst = (cmp) => (a, b) => (a.moderated - b.moderated) || cmp(a, b);
  const order = { "todo-doubt": todoFirst(doubt), doubt, "todo-name": todoFirst(byName), name: byName,
                  sure: (a, b) => -doubt(a, b) };
  items.sort(order[sort] || byName);
  S.view = items.map((it) => it.id);
  renderList();
}

function rowFor(item) {
  const p = predictionOf(item);
  const shown = item.moderated || item.text ? item.text || `(${item.state})` : p ? p.text : "";
  const c = conf(item);
  return el("li", { "data-id": item.id, class: [item.moderated ? "done" : "", item.error ? "error" : ""].join(" "),
                    onclick: () => show(S.view.indexOf(item.id)) },
    el("span", { class: "mark" }),
    el("span", { class: "name" }, item.name, " ", el("span", { class: "txt" }, shown)),
    el("span", { class: "conf" }, c === null ? "" : c.toFixed(2)));
}

function renderList() {
  const list = $("list");
  list.replaceChildren(...S.view.map((id) => rowFor(S.byId.get(id))));
  const todo = S.view.filter((id) => !S.byId.get(id).moderated).length;
  $("view-count").textContent = `${S.view.length} in view, ${todo} to moderate`;
  markCurrent();
}

function updateRow(id) {
  const old = $("list").querySelector(`li[data-id="${CSS.escape(id)}"]`);
  if (old) old.replaceWith(rowFor(S.byId.get(id)));
  markCurrent();
}

function markCurrent() {
  for (const li of $("list").querySelectorAll("li.current")) li.classList.remove("current");
  const id = S.view[S.pos];
  const li = id && $("list").querySelector(`li[data-id="${CSS.escape(id)}"]`);
  if (li) { li.classList.add("current"); li.scrollIntoView({ block: "nearest" }); }
}

function updateProgress() {
  const done = S.items.filter((it) => it.moderated).length;
  const rate = ratePerMinute(S.saves);
  setProgress(done, S.items.length, `this session ${S.saves.length} saved` + (rate ? `, ${rate.toFixed(0)}/min` : ""));
}

function setItem(item) {
  const index = S.items.findIndex((it) => it.id === item.id);
  const clean = { ...item };
  delete clean.ann;
  if (index >= 0) S.items[index] = clean; else S.items.push(clean);
  S.byId.set(item.id, clean);
}

// ------------------------------------------------------------------------------------------ editor
function setLines(n) {
  S.lines = n;
  for (const b of $("lines").querySelectorAll("button")) b.classList.toggle("on", Number(b.dataset.value) === n);
}

function setState(state) {
  S.state = state;
  for (const b of $("states").querySelectorAll("button")) b.classList.toggle("on", b.dataset.value === state);
}

function fillText(text) {
  const field = $("text");
  field.value = text || "";
  S.prefilled = field.value;
  if (document.activeElement === field) field.select();  // a pre-fill is replaced by typing, never appended to
}

function typed() { return $("text").value !== S.prefilled; }

function fillFromItem(item) {
  const p = predictionOf(item);
  const guess = !item.moderated && p ? p : {};  // an unmoderated crop takes the classifier's guesses too
  setLines(item.moderated || !guess.lines ? item.lines || 1 : guess.lines);
  setState(item.moderated || !guess.state ? item.state || "readable" : guess.state);
  $("region").value = item.region || guess.region || "";
  $("m-pred").textContent = p ? `${p.text || "(nothing)"}${p.confidence != null ? " · " + p.confidence.toFixed(2) : ""}` +
    (p.engine ? ` · ${p.engine}` : "") : "–";
  $("m-moderated").textContent = item.error ? `broken annotation: ${item.error}` :
    item.moderated ? `moderated${item.moderated_by ? " by " + item.moderated_by : ""}` : "not moderated";
  const mode = $("prefill").value;
  if (item.moderated || item.text) fillText(item.text);
  else if (mode === "tesseract") { fillText(""); readLive("tesseract", true); }
  else if (mode === "model" && p) fillText(p.text);
  else if (mode === "model" && S.info.engines.includes("numberplate")) { fillText(""); readLive("numberplate", true); }
  else fillText("");
}

function show(pos) {
  if (pos < 0 || pos >= S.view.length) return;
  S.pos = pos;
  S.conflict = false;
  const id = S.view[pos];
  const item = S.byId.get(id);
  $("crop").src = `/api/ocr/image/${enc(id)}`;
  $("m-name").textContent = item.name;
  $("m-split").textContent = item.split;
  S.revision = item.revision;
  fillFromItem(item);
  S.detail = api.get(`/api/ocr/items/${enc(id)}`).then((r) => {
    if (r.status !== 200) return null;
    if (S.view[S.pos] === id && r.data.revision !== S.revision && !typed()) {
      setItem(r.data); S.revision = r.data.revision; fillFromItem(r.data); updateRow(id);  // changed since listed
    } else if (S.view[S.pos] === id && r.data.revision !== S.revision) {
      S.revision = item.revision;  // the person typed already: a save will report the conflict
    }
    return r.data;
  });
  markCurrent();
  const next = S.view[pos + 1];
  if (next) new Image().src = `/api/ocr/image/${enc(next)}`;  // warm the cache: the next crop shows at once
  $("text").focus();
  $("text").select();
}

async function readLive(engine, asPrefill) {
  const id = S.view[S.pos];
  if (!id) return;
  const r = await api.post(`/api/ocr/read/${enc(id)}`, { engine });
  if (r.status !== 200) { showMessage(`${engine}: ${errorText(r)}`, "warn"); return; }
  if (S.view[S.pos] !== id) return;  // moved on meanwhile
  if (engine === "numberplate") S.live.set(id, r.data);
  $("m-pred").textContent = `${r.data.text || "(nothing)"}${r.data.confidence != null ? " · " + r.data.confidence.toFixed(2) : ""} · ${engine}`;
  if (!asPrefill || !typed()) fillText(r.data.text);
  if (!asPrefill) { S.prefilled = ""; $("text").focus(); }
}

function move(step) {
  const pos = S.pos + step;
  if (pos >= 0 && pos < S.view.length) show(pos);
  else showMessage(step > 0 ? "End of the queue: nothing after this item in the current view." : "First item.", "info");
}

async function save() {
  if (S.busy || S.pos < 0) return;
  if (S.info.read_only) { showMessage("Read-only server: nothing is saved.", "warn"); return; }
  S.busy = true;
  const id = S.view[S.pos];
  try {
    const detail = await S.detail;
    const before = detail ? detail.ann : null;
    const body = { revision: S.revision, text: $("text").value, region: $("region").value, lines: S.lines,
                   state: S.state, moderated: true };
    const item = S.byId.get(id);
    if (!item.predicted && S.live.has(id)) body.predicted = S.live.get(id);
    const r = await api.put(`/api/ocr/items/${enc(id)}`, body);
    if (r.status === 200) {
      setItem(r.data);
      if (before) S.undo.push({ id, before, revision: r.data.revision, name: item.name });
      S.saves.push(performance.now());
      updateRow(id);
      updateProgress();
      const last = S.pos + 1 >= S.view.length;
      if (!last) show(S.pos + 1);
      showMessage(`Saved ${item.name}: ${r.data.text || "(" + r.data.state + ")"}.` +
                  (last ? " That was the last item in this view." : ""), "info");
    } else if (r.status === 409) {
      const current = r.data.current;
      setItem(current);
      updateRow(id);
      S.revision = current.revision;
      S.detail = Promise.resolve(current);
      S.conflict = true;
      const theirs = current.moderated ? `${current.text || "(" + current.state + ")"}` +
        (current.moderated_by ? ` by ${current.moderated_by}` : "") : "(their version)";
      showMessage(`Not saved: ${item.name} was changed elsewhere (another tab or person saved ${theirs}). ` +
                  "Your text is still here: Enter saves yours over theirs, Esc takes theirs.", "conflict");
    } else {
      showMessage(`Not saved: ${errorText(r)}. Your text is still here; Enter tries again.`, "error");
    }
  } finally {
    S.busy = false;
  }
}

async function undo() {
  if (S.busy) return;
  const last = S.undo.pop();
  if (!last) { showMessage("Nothing to undo.", "info"); return; }
  S.busy = true;
  try {
    const r = await api.put(`/api/ocr/items/${enc(last.id)}`, { revision: last.revision, restore: last.before });
    if (r.status === 200) {
      setItem(r.data);
      updateRow(last.id);
      updateProgress();
      let pos = S.view.indexOf(last.id);
      if (pos < 0) { S.view.splice(S.pos, 0, last.id); renderList(); pos = S.pos; }
      show(pos);
      showMessage(`Undone: ${last.name} is back as it was before your save.`, "info");
    } else if (r.status === 409) {
      showMessage(`Cannot undo ${last.name}: it was changed elsewhere after your save.`, "conflict");
    } else {
      S.undo.push(last);
      showMessage(`Undo failed: ${errorText(r)}`, "error");
    }
  } finally {
    S.busy = false;
  }
}

function quickRegions() {
  const counts = new Map();
  for (const it of S.items) if (it.region) counts.set(it.region, (counts.get(it.region) || 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([r]) => r);
  for (const r of S.info.regions) if (top.length < 9 && !top.includes(r)) top.push(r);
  return top.slice(0, 9);
}

function onKey(event) {
  const inSearch = event.target === $("search") || event.target.closest(".filters");
  if (event.key === "/" && !event.altKey && !event.ctrlKey && event.target.tagName !== "INPUT") {
    event.preventDefault(); $("search").focus(); return;
  }
  if (inSearch) {
    if (event.key === "Enter" || event.key === "Escape") { event.preventDefault(); computeView(); show(0); }
    return;
  }
  if (event.key === "Enter" && !event.altKey && !event.ctrlKey && !event.shiftKey) {
    event.preventDefault(); save(); return;
  }
  if (event.key === "Escape") {
    event.preventDefault();
    const item = S.byId.get(S.view[S.pos]);
    if (item) {
      fillFromItem(item);
      showMessage(S.conflict ? "Took the label saved elsewhere." : "Back to the saved label.", "info");
      S.conflict = false;
    }
    $("text").focus();
    $("text").select();  // as on every new item: typing replaces the field
    return;
  }
  const undoKey = (event.altKey && event.code === "KeyZ") || (event.ctrlKey && event.code === "KeyZ" && !typed());
  if (undoKey) { event.preventDefault(); undo(); return; }
  if (event.key === "PageDown" || (event.altKey && event.key === "ArrowDown")) { event.preventDefault(); move(1); return; }
  if (event.key === "PageUp" || (event.altKey && event.key === "ArrowUp")) { event.preventDefault(); move(-1); return; }
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  const digit = /^Digit([1-9])$/.exec(event.code);
  if (digit && event.shiftKey) {
    const region = quickRegions()[Number(digit[1]) - 1];
    if (region) { event.preventDefault(); $("region").value = region; }
    return;
  }
  if (digit && Number(digit[1]) <= 3) { event.preventDefault(); setLines(Number(digit[1])); return; }
  // Alt+L cycles the lines too: some browsers keep Alt+digit for switching tabs.
  if (event.code === "KeyL") { event.preventDefault(); setLines((S.lines % 3) + 1); return; }
  const state = Object.keys(STATE_KEYS).find((s) => event.code === `Key${STATE_KEYS[s]}`);
  if (state) {
    event.preventDefault();
    setState(state);
    if (state === "empty" || state === "garbage") $("text").value = "";  // nothing to read on those
    return;
  }
  if (event.code === "KeyM") { event.preventDefault(); readLive("numberplate", false); return; }
  if (event.code === "KeyT") { event.preventDefault(); readLive("tesseract", false); }
}

function fillOptions(select, values) {
  for (const v of values) select.append(el("option", { value: v }, v));
}

async function init() {
  const info = await api.get("/api/info");
  if (info.status !== 200) { showMessage(`Cannot start: ${errorText(info)}`, "error"); return; }
  S.info = info.data;
  $("dataset").textContent = S.info.name;
  $("readonly").hidden = !S.info.read_only;
  if (!S.info.engines.includes("tesseract")) $("read-tess").disabled = true;
  if (!S.info.engines.includes("numberplate")) $("read-model").disabled = true;
  const saved = localStorage.getItem("numberplate.prefill");
  if (saved) $("prefill").value = saved;
  const list = await api.get("/api/ocr/items");
  if (list.status !== 200) { showMessage(`Cannot list the items: ${errorText(list)}`, "error"); return; }
  S.items = list.data.items;
  for (const it of S.items) S.byId.set(it.id, it);
  for (const n of LINES) {
    $("lines").append(el("button", { "data-value": n, onclick: () => { setLines(n); $("text").focus(); } }, n,
      el("kbd", {}, ` Alt+${n}`)));
  }
  for (const s of S.info.states) {
    $("states").append(el("button", { "data-value": s, onclick: () => { setState(s); $("text").focus(); } }, s,
      el("kbd", {}, ` Alt+${STATE_KEYS[s]}`)));
  }
  quickRegions().forEach((r, i) => $("quick-regions").append(
    el("button", { onclick: () => { $("region").value = r; $("text").focus(); } }, r, el("kbd", {}, ` ⇧${i + 1}`))));
  fillOptions($("region-list"), S.info.regions);
  fillOptions($("f-split"), [...new Set(S.items.map((it) => it.split))]);
  fillOptions($("f-state"), S.info.states);
  fillOptions($("f-region"), [...new Set(S.items.map((it) => it.region).filter(Boolean))].sort());
  for (const id of ["f-status", "sort", "f-split", "f-state", "f-region"]) {
    $(id).addEventListener("change", () => { computeView(); show(0); });
  }
  $("f-conf").addEventListener("change", () => { computeView(); show(0); });
  $("search").addEventListener("input", () => computeView());
  $("prefill").addEventListener("change", () => {
    localStorage.setItem("numberplate.prefill", $("prefill").value);
    const item = S.byId.get(S.view[S.pos]);
    if (item) fillFromItem(item);
    $("text").focus();
  });
  $("text").addEventListener("input", () => {
    const field = $("text");
    const start = field.selectionStart, end = field.selectionEnd;
    const upper = field.value.toUpperCase();
    if (upper !== field.value) { field.value = upper; field.setSelectionRange(start, end); }
  });
  $("save").addEventListener("click", save);
  $("skip").addEventListener("click", () => move(1));
  $("back").addEventListener("click", () => move(-1));
  $("undo").addEventListener("click", undo);
  $("read-model").addEventListener("click", () => readLive("numberplate", false));
  $("read-tess").addEventListener("click", () => readLive("tesseract", false));
  document.addEventListener("keydown", onKey);
  computeView();
  updateProgress();
  if (S.view.length) show(0); else showMessage("This dataset has no items.", "warn");
  document.body.dataset.ready = "1";  // tests wait for this
}

init();
