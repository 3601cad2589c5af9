// Shared by both screens: JSON calls, element building, the header.
"use strict";

const api = {
  // Every call resolves to {status, data}; status 0 means the server could not be reached.
  async call(method, url, body) {
    const options = { method, headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (err) {
      return { status: 0, data: { error: "server unreachable (is numberplate annotate still running?)" } };
    }
    let data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    return { status: response.status, data };
  },
  get(url) { return this.call("GET", url); },
  put(url, body) { return this.call("PUT", url, body); },
  post(url, body) { return this.call("POST", url, body || {}); },
};

// Item ids are "<split>/<name>": keep the slash, escape the rest.
function enc(id) { return id.split("/").map(encodeURIComponent).join("/"); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function errorText(result) {
  const data = result.data || {};
  return data.error || data.detail || `HTTP ${result.status}`;
}

function showMessage(text, kind) {
  const box = document.getElementById("message");
  box.textContent = text || "";
  box.className = text ? (kind || "info") : "";
}

function setProgress(done, total, extra) {
  const pct = total ? Math.round((100 * done) / total) : 0;
  document.getElementById("progress-text").textContent = `${done} / ${total} done (${pct}%)${extra ? " · " + extra : ""}`;
  document.getElementById("progress-bar").style.width = `${pct}%`;
}

// Saves per minute over the last five minutes of this page's saves.
function ratePerMinute(times) {
  const now = performance.now();
  const recent = times.filter((t) => now - t < 300000);
  if (recent.length < 2) return null;
  const minutes = (now - recent[0]) / 60000;
  return minutes > 0 ? (recent.length - 1) / minutes : null;
}
