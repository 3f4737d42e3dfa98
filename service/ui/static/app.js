// The dashboard: vanilla JS against the v1 API. Every request, the SSE stream and the
// plot images included, goes through fetch() with `Authorization: Bearer <key>` when a
// key is set, so no key ever appears in a URL.
"use strict";

// The key lives in this tab's sessionStorage: not in localStorage, which every page of the
// origin can read (with AESVC_PUBLIC_DOCS, /docs runs the Swagger UI's scripts from a CDN).
const KEY_STORAGE = "aesvc.apiKey";
const MAX_STREAMS = 3; // event streams held at once: a browser allows 6 connections a host
const POLL_MS = 5000; // the jobs table, for jobs without a stream and jobs started elsewhere
const ACTIVE = new Set(["queued", "running", "cancelling"]);
const state = { streams: new Map(), lossJob: null, plotsOf: null, objectUrls: new Map() };
window.aesvcProgress = {}; // job id -> epochs seen over SSE, in order (tests read it)
window.aesvcStreams = state.streams; // the jobs followed now (tests read it)

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k in node && typeof v !== "string") node[k] = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : String(c ?? ""));
  return node;
}

function headers(extra = {}) {
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

function notify(text) { $("#notice").textContent = text || ""; }

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if (response.status === 401) notify("This server needs an API key: enter it above.");
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new Error(`${response.status}: ${detail}`);
  }
  return response;
}
const getJson = async (path) => (await api(path)).json();

const fmt = (x, digits = 4) => (x === null || x === undefined ? "" : Number(x).toPrecision(digits));

// -- images: fetched with the key, shown from an object URL --

async function showImage(img, path) {
  const blob = await (await api(path)).blob();
  const url = URL.createObjectURL(blob);
  const old = state.objectUrls.get(img);
  img.onload = () => { img.dataset.loaded = "1"; if (old) URL.revokeObjectURL(old); };
  state.objectUrls.set(img, url);
  img.src = url;
}

// -- datasets --

async function loadDatasets() {
  // the basic view: the table needs no per-feature names or stats (megabytes for a wide set)
  const { data } = await getJson("/v1/datasets?limit=1000&view=basic");
  $("#dataset-rows").replaceChildren(...data.map((d) => el("tr", {},
    el("td", {}, d.name), el("td", {}, d.n_rows), el("td", {}, d.n_features),
    el("td", {}, d.image_shape ? d.image_shape.join("×") : ""),
    el("td", {}, d.has_labels ? "yes" : ""), el("td", {}, d.builtin ? "built-in" : d.source_format))));
  const select = $("#train-form [name=dataset]");
  const chosen = select.value || "digits";
  select.replaceChildren(...data.map((d) => el("option", { value: d.name }, d.name)));
  if (data.some((d) => d.name === chosen)) select.value = chosen;
}

// -- jobs --

// While an epoch runs, the progress also says how far into it the job is (batch of batches).
function withinEpoch(p) {
  return p && p.batch != null && p.batches ? p.batch / p.batches : null;
}

function progressCells(job) {
  const p = job.progress;
  // early stopping ends a job before its last epoch: that is a whole bar, not a quarter
  const early = p && job.status === "succeeded" && p.epoch < p.epochs;
  const within = withinEpoch(p);
  const value = p ? (early ? p.epochs : p.epoch + (within ?? 0)) : 0;
  const bar = el("progress", { max: p ? p.epochs : 1, value });
  const batch = within != null ? ` · batch ${p.batch}/${p.batches} of epoch ${p.epoch + 1}` : "";
  const text = early ? ` stopped early at ${p.epoch}/${p.epochs}` : p ? ` ${p.epoch}/${p.epochs}${batch}` : "";
  const loss = p ? `train ${fmt(p.train_loss, 3)} · val ${fmt(p.val_loss, 3)}` : "";
  return [el("td", { class: "progress" }, bar, text), el("td", { class: "loss" }, loss)];
}

// what a row shows that can change: a row whose key is unchanged is not redrawn
function seenKey(job) {
  const p = job.progress;
  return `${job.status}:${p ? `${p.epoch}.${p.batch ?? ""}` : ""}:${job.model_version ?? ""}`;
}

function jobRow(job) {
  const seen = seenKey(job);
  const row = el("tr", { "data-job-id": job.id, "data-status": job.status, "data-seen": seen },
    el("td", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); showLoss(job.id); } }, job.id.slice(0, 8))),
    el("td", {}, job.model),
    el("td", { class: `status status-${job.status}` }, job.status),
    ...progressCells(job),
    el("td", { class: "version" }, job.model_version ?? ""),
    el("td", {}, ACTIVE.has(job.status) && job.status !== "cancelling"
      ? el("button", { class: "cancel", onclick: () => cancelJob(job.id) }, "cancel") : ""));
  if (job.id === state.lossJob) row.classList.add("selected");
  return row;
}

function updateJobRow(job) {
  const old = document.querySelector(`tr[data-job-id="${job.id}"]`);
  if (old) old.replaceWith(jobRow(job));
  else $("#job-rows").prepend(jobRow(job));
}

async function loadJobs() {
  const { data } = await getJson("/v1/jobs?limit=50");
  $("#job-rows").replaceChildren(...data.map(jobRow));
  for (const job of data) if (ACTIVE.has(job.status)) follow(job.id);
  if (!state.lossJob && data.length) showLoss(data[0].id);
}

// Jobs started elsewhere (the CLI, a sweep's trials) and active jobs past MAX_STREAMS: the
// rows that changed are redrawn, the rest left as they are.
async function pollJobs() {
  const { data } = await getJson("/v1/jobs?limit=50");
  for (const job of [...data].reverse()) {
    const row = document.querySelector(`tr[data-job-id="${job.id}"]`);
    const p = job.progress;
    const seen = `${job.status}:${p ? `${p.epoch}.${p.batch ?? ""}` : ""}:${job.model_version ?? ""}`;
    if (!row || row.dataset.seen !== seen) updateJobRow(job);
    if (ACTIVE.has(job.status)) follow(job.id);
  }
}

async function cancelJob(id) {
  try { updateJobRow(await (await api(`/v1/jobs/${id}/cancel`, { method: "POST" })).json()); }
  catch (err) { notify(`cancel failed: ${err.message}`); }
}

// SSE over fetch (EventSource cannot send the Authorization header); resumes after the
// last event id when the connection drops or is refused (a 429 past
// AESVC_MAX_STREAMS_PER_KEY: retried with a growing wait, the poll keeping the row
// current meanwhile), and ends with the job's terminal state. At most MAX_STREAMS at once.
async function follow(jobId) {
  if (state.streams.has(jobId) || state.streams.size >= MAX_STREAMS) return;
  state.streams.set(jobId, true);
  let after = 0;
  let done = false;
  let wait = 1000;
  try {
    while (!done) {
      try {
        const response = await api(`/v1/jobs/${jobId}/events?after=${after}`, { headers: { Accept: "text/event-stream" } });
        wait = 1000;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done: ended } = await reader.read();
          if (ended) break;
          // lines end in \r\n, \n or \r; a read may end between a \r and its \n
          buffer += value;
          const held = buffer.endsWith("\r") ? "\r" : "";
          let text = buffer.slice(0, buffer.length - held.length).replace(/\r\n?/g, "\n");
          let cut;
          while ((cut = text.indexOf("\n\n")) >= 0) {
            const event = parseEvent(text.slice(0, cut));
            text = text.slice(cut + 2);
            if (!event.data) continue;
            if (event.id) after = Number(event.id);
            done = (await onJobEvent(jobId, event.type, JSON.parse(event.data))) || done;
          }
          buffer = text + held;
        }
        if (!done) {  // the stream ended early, or the terminal event came before `after`
          const job = await getJson(`/v1/jobs/${jobId}`);
          if (!ACTIVE.has(job.status)) done = await onJobEvent(jobId, "state", { status: job.status });
          else await new Promise((r) => setTimeout(r, 1000));
        }
      } catch (err) {
        // gone, or no key or scope for it (the poll, or a new key, follows it again)
        if (/^(401|403|404):/.test(err.message)) return;
        notify(`the stream of job ${jobId.slice(0, 8)} broke (${err.message}); retrying`);
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(2 * wait, 30000);
        try {  // a job that ended meanwhile needs no stream
          const job = await getJson(`/v1/jobs/${jobId}`);
          if (!ACTIVE.has(job.status)) done = await onJobEvent(jobId, "state", { status: job.status });
        } catch (_) { /* the next attempt says why */ }
      }
    }
  } finally {
    state.streams.delete(jobId);
  }
}

function parseEvent(block) {
  const event = { type: "message", data: "", id: null };
  const data = [];
  for (const line of block.split("\n")) {
    const [field, ...rest] = line.split(":");
    const value = rest.join(":").replace(/^ /, "");
    if (field === "event") event.type = value;
    else if (field === "data") data.push(value);  // several data lines join with \n
    else if (field === "id") event.id = value;
  }
  event.data = data.join("\n");
  return event;
}

async function onJobEvent(jobId, type, data) {
  if (type === "progress") {
    (window.aesvcProgress[jobId] ||= []).push(data.epoch);
  }
  const job = await getJson(`/v1/jobs/${jobId}`);
  updateJobRow(job);
  if (jobId === state.lossJob && type === "progress") showLoss(jobId);
  if (type === "state" && !ACTIVE.has(job.status)) {
    if (jobId === state.lossJob) showLoss(jobId);
    if (job.status === "succeeded") await loadModels({ show: [job.model, job.model_version] });
    return true;
  }
  return false;
}

async function showLoss(jobId) {
  state.lossJob = jobId;
  document.querySelectorAll("tr[data-job-id]").forEach((r) => r.classList.toggle("selected", r.dataset.jobId === jobId));
  $("#loss-figure").hidden = false;
  $("#loss-caption").textContent = `loss per epoch, job ${jobId}`;
  try { await showImage($("#loss-plot"), `/v1/jobs/${jobId}/plots/loss.png`); }
  catch (err) { notify(`loss plot: ${err.message}`); }
}

// -- models --

async function loadModels({ show } = {}) {
  const { data: models } = await getJson("/v1/models?limit=1000");
  const rows = [];
  let newest = null;
  for (const model of models) {
    const { data: versions } = await getJson(`/v1/models/${encodeURIComponent(model.name)}/versions?limit=1000`);
    for (const v of versions) {
      const m = v.metrics || {};
      const ratio = m.val_mse !== undefined && m.pca_val_mse ? m.val_mse / m.pca_val_mse : null;
      const mseClass = ratio === null ? "" : ratio <= 1 ? "better" : "worse";
      rows.push(el("tr", { "data-model": model.name, "data-version": v.version },
        el("td", {}, model.name), el("td", {}, v.version), el("td", {}, v.kind), el("td", {}, v.code_size),
        el("td", {}, v.aliases.join(", ")),
        el("td", { class: mseClass, title: ratio === null ? "" : `${(ratio * 100).toFixed(0)}% of PCA's error` }, fmt(m.val_mse)),
        el("td", {}, fmt(m.pca_val_mse)),
        el("td", { class: v.worse_than.length ? "worse quality" : "quality" },
          v.worse_than.map((w) => w.against === "pca" ? "worse than PCA" : `worse than ${w.alias} (v${w.version})`).join("; "),
          ),
        el("td", {}, el("button", { class: "show-plots", onclick: () => showPlots(model.name, v.version) }, "plots"))));
      if (!newest || v.created_at > newest[2]) newest = [model.name, v.version, v.created_at];
    }
  }
  $("#model-rows").replaceChildren(...rows);
  const target = show || state.plotsOf || newest;
  if (target) await showPlots(target[0], target[1]);
}

async function showPlots(name, version) {
  state.plotsOf = [name, version];
  document.querySelectorAll("#model-rows tr").forEach((r) =>
    r.classList.toggle("selected", r.dataset.model === name && Number(r.dataset.version) === version));
  $("#plots-title").hidden = false;
  $("#plots-title").textContent = `${name} v${version}`;
  const { plots } = await getJson(`/v1/models/${encodeURIComponent(name)}/versions/${version}/plots`);
  const figures = Object.entries(plots).map(([plot, path]) => {
    const img = el("img", { class: "plot", "data-plot": plot, alt: `${plot} plot` });
    showImage(img, path).catch((err) => notify(`${plot}.png: ${err.message}`));
    return el("figure", {}, img, el("figcaption", {}, plot));
  });
  for (const img of document.querySelectorAll("#plots img")) {
    const url = state.objectUrls.get(img);
    if (url) URL.revokeObjectURL(url);
    state.objectUrls.delete(img);
  }
  $("#plots").replaceChildren(...figures);
}

// -- forms --

async function startJob(event) {
  event.preventDefault();
  const f = new FormData(event.target);
  const hidden = String(f.get("hidden_sizes")).split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const architecture = { kind: f.get("kind"), code_size: Number(f.get("code_size")) };
  // hidden sizes are the dense stacks' (dense, vae); the other kinds have no such field
  if (["dense", "vae"].includes(architecture.kind) && hidden.length) architecture.hidden_sizes = hidden;
  const body = {
    model: f.get("model"),
    dataset: f.get("dataset"),
    spec: { architecture, training: { epochs: Number(f.get("epochs")) } },
  };
  try {
    const job = await (await api("/v1/jobs", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    })).json();
    notify(`job ${job.id.slice(0, 8)} queued`);
    updateJobRow(job);
    showLoss(job.id);
    follow(job.id);
  } catch (err) {
    notify(`could not start the job: ${err.message}`);
  }
}

async function refresh() {
  try {
    notify("");
    await Promise.all([loadDatasets(), loadJobs(), loadModels()]);
  } catch (err) {
    notify(err.message.startsWith("401") ? "This server needs an API key: enter it above." : err.message);
  }
}

$("#key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("#api-key").value.trim();
  if (key) sessionStorage.setItem(KEY_STORAGE, key); else sessionStorage.removeItem(KEY_STORAGE);
  $("#api-key").value = "";
  refresh();
});
$("#train-form").addEventListener("submit", startJob);
refresh();
setInterval(() => pollJobs().catch(() => { /* the next poll tries again */ }), POLL_MS);
