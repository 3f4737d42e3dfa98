// The sweeps panel: every sweep with its live status, and the selected sweep's
// leaderboard (trials best first, the best and the recommended marked) beside its curve.
// Uses app.js's helpers (api, getJson, el, fmt, showImage, notify); polls while any sweep
// runs, as a sweep has no event stream of its own (its trials' jobs do).
"use strict";

const SWEEP_POLL_MS = 1500;
const sweepState = { selected: null, timer: null };

function sweepRow(s) {
  return el("tr", { "data-sweep-id": s.id, "data-status": s.status },
    el("td", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); showSweep(s.id); } }, s.id.slice(0, 8))),
    el("td", {}, s.model), el("td", {}, s.search), el("td", { class: `status status-${s.status}` }, s.status),
    el("td", { class: "done" }, `${s.trials_done}/${s.n_trials}`), el("td", {}, s.metric));
}

function leaderboardRows(sweep) {
  const pca = Object.fromEntries(sweep.pca_baseline.map((p) => [p.code_size, p.value]));
  const sign = sweep.higher_is_better ? -1 : 1;
  const order = (t) => (t.value === null ? Infinity : sign * t.value);
  const trials = [...sweep.trials].sort((a, b) => order(a) - order(b) || a.number - b.number);
  return trials.map((t) => {
    const marks = [];
    if (sweep.best && t.number === sweep.best.number) marks.push("best");
    if (sweep.recommended && t.number === sweep.recommended.number) marks.push("recommended");
    return el("tr", { "data-trial": t.number, "data-status": t.status, class: marks.join(" ") },
      el("td", {}, t.number), el("td", {}, t.kind ?? ""), el("td", {}, t.code_size ?? ""),
      el("td", { class: `status status-${t.status}` }, t.status),
      el("td", { class: "value" }, fmt(t.value)), el("td", {}, fmt(pca[t.code_size])),
      el("td", {}, t.model_version ?? ""), el("td", {}, fmt(t.train_time_s, 3)),
      el("td", { class: "marks" }, marks.join(", ")));
  });
}

async function showSweep(id) {
  sweepState.selected = id;
  const sweep = await getJson(`/v1/sweeps/${id}`);
  document.querySelectorAll("#sweep-rows tr").forEach((r) => r.classList.toggle("selected", r.dataset.sweepId === id));
  const panel = $("#sweep-detail");
  panel.hidden = false;
  panel.dataset.sweepId = id;
  panel.dataset.status = sweep.status;
  const chosen = sweep.recommended;
  $("#sweep-summary").textContent = chosen
    ? `recommended: ${chosen.kind}, code size ${chosen.code_size}, version ${chosen.model_version} (${sweep.metric} ${fmt(chosen.value)}; best ${fmt(sweep.best.value)})`
    : sweep.error || `${sweep.status}: no trial has finished yet`;
  $("#trial-rows").replaceChildren(...leaderboardRows(sweep));
  try { await showImage($("#curve-plot"), `/v1/sweeps/${id}/plots/curve.png`); }
  catch (err) { notify(`curve plot: ${err.message}`); }
}

async function loadSweeps() {
  const { data } = await getJson("/v1/sweeps?limit=20");
  $("#sweep-rows").replaceChildren(...data.map(sweepRow));
  const running = data.some((s) => s.status === "running");
  const target = sweepState.selected || (data[0] && data[0].id);
  if (target) await showSweep(target);
  return running;
}

async function pollSweeps() {
  clearTimeout(sweepState.timer);
  let again = true;
  try { again = await loadSweeps(); }
  catch (err) { if (!err.message.startsWith("401")) notify(`sweeps: ${err.message}`); }
  // while a sweep runs, every SWEEP_POLL_MS; else now and then (a sweep started elsewhere)
  sweepState.timer = setTimeout(pollSweeps, again ? SWEEP_POLL_MS : 10 * SWEEP_POLL_MS);
}

$("#key-form").addEventListener("submit", () => setTimeout(pollSweeps, 0));
pollSweeps();
