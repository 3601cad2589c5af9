// Detection screen: a photo, its plates as 4-corner polygons to drag, text per plate, zoom for small plates.
"use strict";

const D = {
  info: null,
  items: [], byId: new Map(), view: [], pos: -1,
  item: null,           // the shown photo as the server last gave it
  revision: null,       // revision the edit is based on
  plates: [],           // editable copies: {corners, text, region, label, has_corners, attributes, proposed}
  selected: -1,
  scale: 1, natW: 0, natH: 0,
  dirty: false, leaveArmed: false,
  mode: null,           // "add": the next drag on the photo draws a new plate
  drag: null,
  saves: [], busy: false,
};

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

// ------------------------------------------------------------------------------------------ list
function computeView() {
  const q = $("search").value.trim().toUpperCase();
  const status = $("f-status").value, split = $("f-split").value;
  D.view = D.items.filter((it) => {
    if (status === "todo" && it.listed) return false;
    if (status === "done" && !it.listed) return false;
    if (status === "empty" && it.plates) return false;
    if (split && it.split !== split) return false;
    if (q && !`${it.name} ${(it.texts || []).join(" ")}`.toUpperCase().includes(q)) return false;
    return true;
  }).map((it) => it.id);
  renderList();
}

function rowFor(item) {
  return el("li", { "data-id": item.id, class: item.listed ? "done" : "", onclick: () => show(D.view.indexOf(item.id)) },
    el("span", { class: "mark" }),
    el("span", { class: "name" }, item.name, " ", el("span", { class: "txt" }, (item.texts || []).join(" "))),
    el("span", { class: "conf" }, item.listed ? `${item.plates} plate${item.plates === 1 ? "" : "s"}` : "new"));
}

function renderList() {
  $("list").replaceChildren(...D.view.map((id) => rowFor(D.byId.get(id))));
  $("view-count").textContent = `${D.view.length} photos in view`;
  markCurrent();
}

function markCurrent() {
  for (const li of $("list").querySelectorAll("li.current")) li.classList.remove("current");
  const id = D.view[D.pos];
  const li = id && $("list").querySelector(`li[data-id="${CSS.escape(id)}"]`);
  if (li) { li.classList.add("current"); li.scrollIntoView({ block: "nearest" }); }
}

function updateProgress() {
  const done = D.items.filter((it) => it.listed).length;
  const rate = ratePerMinute(D.saves);
  setProgress(done, D.items.length, `this session ${D.saves.length} saved` + (rate ? `, ${rate.toFixed(1)}/min` : ""));
}

function setDirty(value) {
  D.dirty = value;
  D.leaveArmed = false;
  $("dirty").textContent = value ? "● unsaved" : "";
}

// ------------------------------------------------------------------------------------------ drawing
function applyZoom() {
  const canvas = $("canvas");
  canvas.style.width = `${D.natW * D.scale}px`;
  canvas.style.height = `${D.natH * D.scale}px`;
  $("zoom-level").textContent = `${Math.round(D.scale * 100)}%`;
  draw();
}

function zoomTo(scale, clientX, clientY) {
  const stage = $("stage");
  const rect = stage.getBoundingClientRect();
  const cx = clientX ?? rect.left + rect.width / 2, cy = clientY ?? rect.top + rect.height / 2;
  const ix = (cx - rect.left + stage.scrollLeft) / D.scale, iy = (cy - rect.top + stage.scrollTop) / D.scale;
  D.scale = Math.min(16, Math.max(0.05, scale));
  applyZoom();
  stage.scrollLeft = ix * D.scale - (cx - rect.left);  // keep the image point under the pointer
  stage.scrollTop = iy * D.scale - (cy - rect.top);
}

function fit() {
  const stage = $("stage");
  if (!D.natW) return;
  D.scale = Math.min((stage.clientWidth - 4) / D.natW, (stage.clientHeight - 4) / D.natH);
  applyZoom();
  stage.scrollLeft = 0; stage.scrollTop = 0;
}

function zoomToPlate() {
  const plate = D.plates[D.selected];
  if (!plate) return;
  const xs = plate.corners.map((p) => p[0]), ys = plate.corners.map((p) => p[1]);
  const stage = $("stage");
  const w = Math.max(...xs) - Math.min(...xs), h = Math.max(...ys) - Math.min(...ys);
  D.scale = Math.min(16, 0.5 * stage.clientWidth / Math.max(w, 1), 0.5 * stage.clientHeight / Math.max(h, 1));
  applyZoom();
  stage.scrollLeft = ((Math.min(...xs) + Math.max(...xs)) / 2) * D.scale - stage.clientWidth / 2;
  stage.scrollTop = ((Math.min(...ys) + Math.max(...ys)) / 2) * D.scale - stage.clientHeight / 2;
}

function draw() {
  const overlay = $("overlay");
  overlay.setAttribute("viewBox", `0 0 ${D.natW || 1} ${D.natH || 1}`);
  overlay.setAttribute("preserveAspectRatio", "none");
  overlay.replaceChildren();
  const r = 6 / D.scale;
  D.plates.forEach((plate, p) => {
    const cls = ["plate", plate.proposed ? "proposed" : "", p === D.selected ? "selected" : ""].join(" ");
    overlay.append(svg("polygon", { class: cls, "data-plate": p, points: plate.corners.map((c) => c.join(",")).join(" ") }));
    const label = svg("text", { class: "label", x: plate.corners[0][0], y: plate.corners[0][1] - 6 / D.scale,
                                "font-size": 14 / D.scale });
    label.textContent = `${p + 1}${plate.text ? " " + plate.text : ""}`;
    label.style.fontSize = `${14 / D.scale}px`;
    label.style.strokeWidth = `${3 / D.scale}px`;
    overlay.append(label);
    if (p === D.selected || D.plates.length <= 4) {
      plate.corners.forEach((c, k) => overlay.append(svg("circle", {
        class: `handle${p === D.selected ? " selected" : ""}`, cx: c[0], cy: c[1], r, "data-plate": p, "data-corner": k })));
    }
  });
  if (D.drag && D.drag.type === "box") {
    const [a, b] = [D.drag.start, D.drag.now || D.drag.start];
    overlay.append(svg("rect", { class: "drawbox", x: Math.min(a.x, b.x), y: Math.min(a.y, b.y),
                                 width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) }));
  }
}

function renderPlates() {
  const body = $("plates");
  body.replaceChildren(...D.plates.map((plate, p) => el("tr", { class: p === D.selected ? "selected" : "", "data-plate": p },
    el("td", {}, `#${p + 1}`),
    el("td", {}, el("input", { class: "ptext", value: plate.text, placeholder: "plate text", spellcheck: "false",
      autocomplete: "off", "data-plate": p,
      onfocus: () => select(p, false),
      oninput: (e) => { e.target.value = e.target.value.toUpperCase(); plate.text = e.target.value; setDirty(true); draw(); } })),
    el("td", {}, el("input", { class: "region", value: plate.region, placeholder: "region", list: "region-list",
      "data-plate": p, onfocus: () => select(p, false),
      oninput: (e) => { plate.region = e.target.value.trim().toLowerCase(); setDirty(true); } })),
    el("td", {}, plate.proposed ? `detector ${plate.score ?? ""}` : plate.has_corners ? "corners" : "box"),
    el("td", {}, el("button", { onclick: () => removePlate(p) }, "delete")))));
  if (!D.plates.length) body.append(el("tr", {}, el("td", {}, "No plates: D runs the detector, N adds one.")));
}

function select(p, focus) {
  D.selected = p;
  for (const tr of $("plates").querySelectorAll("tr")) tr.classList.toggle("selected", Number(tr.dataset.plate) === p);
  draw();
  if (focus) {
    const input = $("plates").querySelector(`input.ptext[data-plate="${p}"]`);
    if (input) input.focus();
  }
}

function removePlate(p) {
  if (p < 0 || p >= D.plates.length) return;
  D.plates.splice(p, 1);
  D.selected = Math.min(D.selected, D.plates.length - 1);
  setDirty(true);
  renderPlates(); draw();
}

// ------------------------------------------------------------------------------------------ pointer
function imagePoint(event) {
  const rect = $("canvas").getBoundingClientRect();
  return { x: (event.clientX - rect.left) / D.scale, y: (event.clientY - rect.top) / D.scale };
}

function onPointerDown(event) {
  if (event.button !== 0) return;
  const target = event.target;
  const pt = imagePoint(event);
  if (target.classList && target.classList.contains("handle")) {
    const p = Number(target.dataset.plate), k = Number(target.dataset.corner);
    D.drag = { type: "corner", p, k };
    select(p, false);
  } else if (D.mode === "add") {
    D.drag = { type: "box", start: pt };
  } else if (target.classList && target.classList.contains("plate")) {
    const p = Number(target.dataset.plate);
    D.drag = { type: "move", p, start: pt, orig: D.plates[p].corners.map((c) => [...c]) };
    select(p, false);
  } else {
    const stage = $("stage");
    D.drag = { type: "pan", x: event.clientX, y: event.clientY, left: stage.scrollLeft, top: stage.scrollTop };
  }
  $("stage").setPointerCapture(event.pointerId);
  event.preventDefault();
}

function onPointerMove(event) {
  const drag = D.drag;
  if (!drag) return;
  const pt = imagePoint(event);
  if (drag.type === "corner") {
    const plate = D.plates[drag.p];
    plate.corners[drag.k] = [Math.round(pt.x * 10) / 10, Math.round(pt.y * 10) / 10];
    plate.has_corners = true;  // a dragged corner is a true plate corner, not a box
    drag.moved = true;
  } else if (drag.type === "move") {
    const dx = pt.x - drag.start.x, dy = pt.y - drag.start.y;
    D.plates[drag.p].corners = drag.orig.map(([x, y]) => [Math.round((x + dx) * 10) / 10, Math.round((y + dy) * 10) / 10]);
    drag.moved = true;
  } else if (drag.type === "box") {
    drag.now = pt;
  } else if (drag.type === "pan") {
    const stage = $("stage");
    stage.scrollLeft = drag.left - (event.clientX - drag.x);
    stage.scrollTop = drag.top - (event.clientY - drag.y);
    return;
  }
  draw();
}

function onPointerUp(event) {
  const drag = D.drag;
  D.drag = null;
  if (!drag) return;
  if (drag.type === "box" && drag.now) {
    const x1 = Math.min(drag.start.x, drag.now.x), x2 = Math.max(drag.start.x, drag.now.x);
    const y1 = Math.min(drag.start.y, drag.now.y), y2 = Math.max(drag.start.y, drag.now.y);
    if (x2 - x1 >= 3 && y2 - y1 >= 2) {
      const r = (v) => Math.round(v * 10) / 10;
      D.plates.push({ corners: [[r(x1), r(y1)], [r(x2), r(y1)], [r(x2), r(y2)], [r(x1), r(y2)]], text: "", region: "",
                      label: "numberplate", has_corners: false, attributes: {} });
      D.mode = null;
      $("add").classList.remove("on");
      setDirty(true);
      renderPlates();
      select(D.plates.length - 1, true);
      return;
    }
  }
  if (drag.moved) { setDirty(true); renderPlates(); }
  draw();
}

// ------------------------------------------------------------------------------------------ server
function boxOf(corners) {
  const xs = corners.map((p) => p[0]), ys = corners.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

function iou(a, b) {
  const [ax1, ay1, ax2, ay2] = boxOf(a), [bx1, by1, bx2, by2] = boxOf(b);
  const w = Math.max(0, Math.min(ax2, bx2) - Math.max(ax1, bx1)), h = Math.max(0, Math.min(ay2, by2) - Math.max(ay1, by1));
  const inter = w * h, union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  return union > 0 ? inter / union : 0;
}

async function detect(auto) {
  const id = D.view[D.pos];
  showMessage("Detecting plates…", "info");
  const r = await api.post(`/api/via/detect/${enc(id)}`);
  if (D.view[D.pos] !== id) return;
  if (r.status !== 200) { showMessage(`Detector: ${errorText(r)}`, "warn"); return; }
  const fresh = r.data.plates.filter((p) => D.plates.every((q) => iou(p.corners, q.corners) < 0.3));
  for (const p of fresh) D.plates.push({ ...p, proposed: true });
  if (fresh.length) setDirty(true);
  renderPlates(); draw();
  if (fresh.length && D.selected < 0) select(0, true);
  showMessage(fresh.length ? `The detector proposes ${fresh.length} plate${fresh.length > 1 ? "s" : ""} (dashed): ` +
    "check the corners and the text, then save." : auto ? "" : "The detector found no other plate.", "info");
}

function loadItem(item) {
  D.item = item;
  D.revision = item.revision;
  D.plates = item.plates.map((p) => ({ ...p, corners: p.corners.map((c) => [...c]) }));
  D.selected = D.plates.length ? 0 : -1;
  setDirty(false);
  renderPlates(); draw();
  if (item.problems && item.problems.length) showMessage(`Skipped unreadable regions: ${item.problems.join("; ")}`, "warn");
}

async function show(pos) {
  if (pos < 0 || pos >= D.view.length) return;
  if (D.dirty && !D.leaveArmed) {
    D.leaveArmed = true;
    showMessage("Unsaved changes: Ctrl+S saves them; press again to leave without saving.", "warn");
    return;
  }
  D.pos = pos;
  D.mode = null;
  const id = D.view[pos];
  markCurrent();
  const r = await api.get(`/api/via/items/${enc(id)}`);
  if (r.status !== 200) { showMessage(`Cannot open ${id}: ${errorText(r)}`, "error"); return; }
  $("m-name").textContent = `${r.data.split === "root" ? "" : r.data.split + "/"}${r.data.name}`;
  showMessage("", "");
  const img = $("photo");
  await new Promise((resolve) => {
    img.onload = resolve; img.onerror = resolve;
    img.src = `/api/via/image/${enc(id)}`;
  });
  D.natW = img.naturalWidth; D.natH = img.naturalHeight;
  loadItem(r.data);
  fit();
  if (!r.data.listed && D.info.engines.includes("numberplate")) await detect(true);
  document.body.dataset.shown = id;  // tests wait for this
}

async function save(andNext) {
  if (D.busy || D.pos < 0) return;
  if (D.info.read_only) { showMessage("Read-only server: nothing is saved.", "warn"); return; }
  D.busy = true;
  const id = D.view[D.pos];
  try {
    const plates = D.plates.map((p) => ({ corners: p.corners, text: p.text, region: p.region, label: p.label,
                                         has_corners: p.has_corners, attributes: p.attributes || {} }));
    const r = await api.put(`/api/via/items/${enc(id)}`, { revision: D.revision, plates });
    if (r.status === 200) {
      loadItem(r.data);
      const listed = { ...D.byId.get(id), listed: true, plates: r.data.plates.length,
                       texts: r.data.plates.map((p) => p.text), revision: r.data.revision };
      D.items[D.items.findIndex((it) => it.id === id)] = listed;
      D.byId.set(id, listed);
      const li = $("list").querySelector(`li[data-id="${CSS.escape(id)}"]`);
      if (li) li.replaceWith(rowFor(listed));
      D.saves.push(performance.now());
      updateProgress();
      showMessage(`Saved ${r.data.name}: ${r.data.plates.length} plate${r.data.plates.length === 1 ? "" : "s"}.`, "info");
      if (andNext && D.pos + 1 < D.view.length) await show(D.pos + 1);
      markCurrent();
    } else if (r.status === 409) {
      D.revision = r.data.current.revision;
      D.theirs = r.data.current;
      showMessage("Not saved: this photo was changed elsewhere (another tab or person saved it). Your plates are " +
                  "still here: Ctrl+S saves yours over theirs, Esc takes theirs.", "conflict");
    } else {
      showMessage(`Not saved: ${errorText(r)}. Your changes are still here.`, "error");
    }
  } finally {
    D.busy = false;
  }
}

// ------------------------------------------------------------------------------------------ keys
function onKey(event) {
  const tag = event.target.tagName;
  const typing = tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA";
  if ((event.ctrlKey || event.metaKey) && event.code === "KeyS") { event.preventDefault(); save(false); return; }
  if (event.target === $("search")) {
    if (event.key === "Enter") { event.preventDefault(); computeView(); show(0); }
    return;
  }
  if (event.key === "PageDown") { event.preventDefault(); show(D.pos + 1); return; }
  if (event.key === "PageUp") { event.preventDefault(); show(D.pos - 1); return; }
  if (event.key === "Escape") {
    event.preventDefault();
    if (D.mode) { D.mode = null; $("add").classList.remove("on"); return; }
    if (D.theirs) { loadItem(D.theirs); D.theirs = null; showMessage("Took the version saved elsewhere.", "info"); return; }
    if (D.item) { loadItem(D.item); showMessage("Dropped the unsaved changes.", "info"); }
    if (typing) event.target.blur();
    return;
  }
  if (typing) {
    if (event.key === "Enter" && event.target.classList.contains("ptext")) { event.preventDefault(); save(true); }
    return;
  }
  if (event.key === "Tab" && D.plates.length) {
    event.preventDefault();
    select((D.selected + (event.shiftKey ? D.plates.length - 1 : 1)) % D.plates.length, false);
    return;
  }
  if (event.key === "Enter" && D.selected >= 0) { event.preventDefault(); select(D.selected, true); return; }
  const key = event.key.toLowerCase();
  if (event.ctrlKey || event.altKey || event.metaKey) return;
  if (key === "+" || key === "=") zoomTo(D.scale * 1.25);
  else if (key === "-") zoomTo(D.scale / 1.25);
  else if (key === "0") fit();
  else if (key === "z") zoomToPlate();
  else if (key === "d") detect(false);
  else if (key === "n") { D.mode = "add"; $("add").classList.add("on"); showMessage("Drag a box around the new plate.", "info"); }
  else if (key === "delete" || key === "backspace") removePlate(D.selected);
  else if (key === "/") { $("search").focus(); }
  else return;
  event.preventDefault();
}

async function init() {
  const info = await api.get("/api/info");
  if (info.status !== 200) { showMessage(`Cannot start: ${errorText(info)}`, "error"); return; }
  D.info = info.data;
  $("dataset").textContent = D.info.name;
  $("readonly").hidden = !D.info.read_only;
  if (!D.info.engines.includes("numberplate")) $("detect").disabled = true;
  document.body.append(el("datalist", { id: "region-list" }, D.info.regions.map((r) => el("option", { value: r }))));
  const list = await api.get("/api/via/items");
  if (list.status !== 200) { showMessage(`Cannot list the photos: ${errorText(list)}`, "error"); return; }
  D.items = list.data.items;
  for (const it of D.items) D.byId.set(it.id, it);
  for (const s of new Set(D.items.map((it) => it.split))) $("f-split").append(el("option", { value: s }, s));
  for (const id of ["f-status", "f-split"]) $(id).addEventListener("change", () => { computeView(); show(0); });
  $("search").addEventListener("input", () => computeView());
  const stage = $("stage");
  stage.addEventListener("pointerdown", onPointerDown);
  stage.addEventListener("pointermove", onPointerMove);
  stage.addEventListener("pointerup", onPointerUp);
  stage.addEventListener("wheel", (e) => { e.preventDefault(); zoomTo(D.scale * Math.pow(1.2, -e.deltaY / 100), e.clientX, e.clientY); },
                         { passive: false });
  $("zoom-in").addEventListener("click", () => zoomTo(D.scale * 1.25));
  $("zoom-out").addEventListener("click", () => zoomTo(D.scale / 1.25));
  $("zoom-fit").addEventListener("click", fit);
  $("zoom-plate").addEventListener("click", zoomToPlate);
  $("detect").addEventListener("click", () => detect(false));
  $("add").addEventListener("click", () => { D.mode = "add"; $("add").classList.add("on"); });
  $("delete").addEventListener("click", () => removePlate(D.selected));
  $("save").addEventListener("click", () => save(false));
  document.addEventListener("keydown", onKey);
  window.addEventListener("resize", () => { if (D.natW) fit(); });
  window.addEventListener("beforeunload", (e) => { if (D.dirty) { e.preventDefault(); e.returnValue = ""; } });
  computeView();
  updateProgress();
  if (D.view.length) await show(0); else showMessage("No photos here.", "warn");
  document.body.dataset.ready = "1";
}

init();
