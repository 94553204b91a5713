// hyperdial dashboard: builds each page from the JSON API. Every name and value from the storage is
// inserted as text (textContent / text nodes), never parsed as HTML. No external resources.
"use strict";

(function () {
  const body = document.body;
  const ROOT = body.dataset.root || "";
  const PAGE = body.dataset.page;
  const WRITABLE = body.dataset.writable === "1";
  const TOKEN = body.dataset.csrf || "";
  const POLL_MS = Math.max(250, parseInt(body.dataset.pollMs || "2000", 10));
  const STATES = ["COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"];

  // -- DOM helpers: strings become text nodes ----------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "onclick" || k === "onchange" || k === "onsubmit" || k === "oninput") node.addEventListener(k.slice(2), v);
      else if (k === "className") node.className = v;
      else node.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  // Like node.append, but skips null/false (DOM append would insert the text "null").
  function put(node, ...children) {
    for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) node.append(c);
    return node;
  }
  function link(href, ...children) { return el("a", { href: ROOT + href }, ...children); }

  // -- formatting ----------------------------------------------------------------------------
  function num(v) {
    if (v === null || v === undefined) return "\u2014";
    if (typeof v === "string") return v;  // "nan", "inf"
    if (typeof v !== "number") return JSON.stringify(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return (a !== 0 && (a < 1e-3 || a >= 1e6)) ? v.toExponential(4) : String(Number(v.toPrecision(6)));
  }
  function value(v) {  // a parameter or attribute value
    if (typeof v === "number") return num(v);
    if (typeof v === "string") return v;
    return JSON.stringify(v);
  }
  function when(iso) {
    if (!iso) return "\u2014";
    const d = new Date(iso);
    const s = (Date.now() - d.getTime()) / 1000;
    if (s < 0) return d.toISOString().replace("T", " ").slice(0, 19);
    if (s < 60) return Math.round(s) + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return d.toISOString().replace("T", " ").slice(0, 16);
  }
  function timeCell(iso) { return el("span", { title: iso || "" }, when(iso)); }
  function dur(s) {
    if (s === null || s === undefined) return "\u2014";
    if (s < 1) return (s * 1000).toFixed(0) + " ms";
    if (s < 120) return s.toFixed(1) + " s";
    if (s < 7200) return (s / 60).toFixed(1) + " min";
    return (s / 3600).toFixed(1) + " h";
  }
  function badge(state) { return el("span", { className: "state " + String(state).toLowerCase() }, state); }
  function counts(c) {
    return el("span", { className: "counts" },
      STATES.filter((s) => c[s]).map((s) => el("span", { className: "count " + s.toLowerCase(), title: s }, s.toLowerCase() + " " + c[s])));
  }
  function best(values, directions) {
    if (!values || values.every((v) => v === null)) return "\u2014";
    return values.map(num).join(", ");
  }

  // -- the API -------------------------------------------------------------------------------
  class ApiError extends Error { constructor(msg, status) { super(msg); this.status = status; } }
  async function api(path, options) {
    let res;
    try { res = await fetch(ROOT + "/api" + path, options); }
    catch (e) { throw new ApiError("the dashboard server does not answer (stopped?)", 0); }
    let data = null;
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) throw new ApiError((data && data.error) || ("HTTP " + res.status), res.status);
    return data;
  }
  function post(path, payload) {
    return api(path, { method: "POST", headers: { "Content-Type": "application/json", "X-Hyperdial-Token": TOKEN },
                       body: JSON.stringify(payload || {}) });
  }

  const app = document.getElementById("app");
  const live = document.getElementById("live");
  const banner = el("div", { className: "banner", hidden: true, role: "status" });
  function showBanner(text, kind) { banner.hidden = false; banner.className = "banner " + (kind || "error"); banner.textContent = text; }
  function hideBanner() { banner.hidden = true; }
  function setCrumbs(...parts) {
    const nav = document.getElementById("crumbs");
    if (!nav) return;
    clear(nav);
    parts.forEach((p) => { nav.appendChild(el("span", { className: "sep" }, "/")); nav.appendChild(p); });
  }
  function errorBox(err) { return el("p", { className: "error" }, String(err && err.message ? err.message : err)); }
  function section(title, id, ...children) {
    return el("section", { id }, el("h2", {}, title), ...children);
  }

  // Polls `check` every POLL_MS; stops when it returns false.
  function poll(check) {
    let stopped = false;
    async function tick() {
      if (stopped) return;
      try {
        const go = await check();
        if (go === false) { stopped = true; live.textContent = ""; return; }
        live.textContent = "live";
        live.className = "live on";
      } catch (e) {
        live.textContent = "offline";
        live.className = "live off";
      }
      setTimeout(tick, POLL_MS);
    }
    setTimeout(tick, POLL_MS);
  }

  // == all studies ============================================================================
  async function studiesPage() {
    setCrumbs(el("span", {}, "Studies"));
    const tbody = el("tbody");
    const table = el("table", { className: "grid", id: "studies" },
      el("thead", {}, el("tr", {}, ["Study", "Directions", "State", "Trials", "By state", "Best", "Last activity"].map((h) => el("th", {}, h)))),
      tbody);
    const empty = el("p", { className: "muted", hidden: true }, "No studies in this storage yet.");
    put(clear(app), banner, el("h1", {}, "Studies"), table, empty);
    async function load() {
      let studies;
      try { studies = await api("/studies"); hideBanner(); }
      catch (e) { showBanner(e.message); throw e; }
      clear(tbody);
      empty.hidden = studies.length > 0;
      for (const s of studies) {
        tbody.appendChild(el("tr", { "data-study": s.study_id },
          el("td", {}, link("/studies/" + s.study_id, s.name), s.error ? el("div", { className: "error" }, s.error) : null),
          el("td", {}, s.directions.join(", ")),
          el("td", {}, el("span", { className: "study-state " + s.state }, s.state)),
          el("td", { className: "num" }, s.n_trials),
          el("td", {}, counts(s.state_counts)),
          el("td", { className: "num" }, s.best_trial_number !== null
            ? link("/studies/" + s.study_id + "/trials/" + s.best_trial_number, best(s.best_values))
            : (s.n_pareto ? s.n_pareto + " on the Pareto front" : best(s.best_values))),
          el("td", {}, timeCell(s.last_activity))));
      }
    }
    await load().catch(() => {});
    poll(load);
  }

  // == one study =============================================================================
  async function studyPage() {
    const sid = body.dataset.studyId;
    const base = "/studies/" + sid;
    const state = { ov: null, order: "number", desc: false, offset: 0, limit: 50, states: new Set(), filters: {}, version: null };
    const head = el("div", { id: "study-head" });
    const controls = el("div", { className: "controls", id: "trial-controls" });
    const tableBox = el("div", { id: "trials-box" });
    const pager = el("div", { className: "pager", id: "pager" });
    const plots = el("div", { className: "plots", id: "plots" });
    const importance = el("div", { id: "importance-box" });
    const choices = el("div", { id: "choices-box" });
    const sweep = el("div", { id: "sweep-box" });
    const notes = el("div", { id: "notes-box" });
    put(clear(app), banner, head,
      section("Trials", "trials", controls, tableBox, pager),
      section("Plots", "plots-section", plots),
      section("Parameter importance", "importance", importance),
      section("Sampler choices", "choices", choices),
      section("Notes", "notes", notes),
      sweep);

    function renderHead(ov) {
      setCrumbs(link("/", "Studies"), el("span", {}, ov.name));
      put(clear(head), 
        el("h1", { id: "study-name" }, ov.name),
        el("p", { className: "facts" },
          el("span", {}, ov.directions.join(", ")), " \u00b7 ",
          el("span", { id: "n-trials" }, ov.n_trials + " trials"), " ",
          counts(ov.state_counts), " \u00b7 best ",
          ov.best_trial_number !== null
            ? link(base + "/trials/" + ov.best_trial_number, best(ov.best_values) + " (trial " + ov.best_trial_number + ")")
            : el("span", {}, ov.n_pareto ? ov.n_pareto + " trials on the Pareto front" : "\u2014"),
          " \u00b7 last activity ", timeCell(ov.last_activity)),
        ov.error ? el("p", { className: "error", id: "study-error" }, ov.error) : null,
        ov.stop_requested_at ? el("p", { className: "muted" }, "Stop requested " + when(new Date(ov.stop_requested_at * 1000).toISOString()) + ".") : null,
        WRITABLE ? el("button", { id: "stop-study", className: "danger", onclick: async (ev) => {
          if (!confirm("Stop this study? Running trials finish; no new trial starts.")) return;
          try { await post(base + "/stop"); showBanner("Stop requested: every run of this study starts no new trial.", "info"); }
          catch (e) { showBanner(e.message); }
        } }, "Stop study") : null,
        Object.keys(ov.user_attrs).length ? attrTable("Study attributes", ov.user_attrs) : null);
      renderSweep(ov.sweep);
      renderNotes(ov.notes);
    }

    function renderSweep(sw) {
      clear(sweep);
      if (!sw) return;
      put(sweep, el("section", { id: "sweep" }, el("h2", {}, "Sweep file"),
        el("p", { className: "muted" }, (sw.format || "") + (sw.source ? " \u00b7 " + sw.source : "")),
        el("pre", { className: "code" }, sw.file || "")));
    }

    function renderNotes(list) {
      clear(notes);
      if (!list.length) put(notes, el("p", { className: "muted" }, "No notes."));
      put(notes, el("ul", { className: "notes" }, list.map((n) => el("li", {},
        el("span", { className: "muted" }, when(new Date(n.at * 1000).toISOString()) + (n.trial !== undefined ? " \u00b7 trial " + n.trial : "") + ": "),
        n.text))));
      if (WRITABLE) put(notes, noteForm(base, null));
    }

    // -- the trials table ----------------------------------------------------------------------
    function paramNames() { return state.ov ? Object.keys(state.ov.params) : []; }
    function renderControls() {
      clear(controls);
      const boxes = STATES.map((s) => el("label", { className: "check" },
        el("input", { type: "checkbox", name: "state", value: s, checked: state.states.has(s), onchange: (ev) => {
          if (ev.target.checked) state.states.add(s); else state.states.delete(s);
          state.offset = 0; loadTrials();
        } }), " " + s.toLowerCase()));
      const names = paramNames();
      const pick = el("select", { id: "filter-param" }, names.map((n) => el("option", { value: n }, n)));
      const low = el("input", { id: "filter-low", type: "text", placeholder: "min", size: 8 });
      const high = el("input", { id: "filter-high", type: "text", placeholder: "max", size: 8 });
      const add = el("button", { id: "filter-add", onclick: () => {
        const name = pick.value;
        if (!name) return;
        const dists = state.ov.params[name] || [];
        if (dists.length && dists[0].type === "categorical") {
          const wanted = low.value.split(",").map((x) => x.trim()).filter((x) => x);
          const choices = dists[0].choices.filter((c) => wanted.includes(String(c)));
          state.filters[name] = { in: choices };
        } else {
          const lo = low.value.trim() === "" ? null : Number(low.value);
          const hi = high.value.trim() === "" ? null : Number(high.value);
          if ((lo !== null && isNaN(lo)) || (hi !== null && isNaN(hi))) { showBanner("min and max must be numbers"); return; }
          state.filters[name] = [lo, hi];
        }
        state.offset = 0; renderControls(); loadTrials();
      } }, "Filter");
      const active = Object.entries(state.filters).map(([name, spec]) => el("span", { className: "chip" },
        name + (Array.isArray(spec) ? " in [" + num(spec[0]) + ", " + num(spec[1]) + "]" : " \u2208 {" + spec.in.map(value).join(", ") + "}"),
        el("button", { className: "x", title: "remove", onclick: () => { delete state.filters[name]; state.offset = 0; renderControls(); loadTrials(); } }, "\u00d7")));
      put(controls, el("div", {}, el("span", { className: "muted" }, "State: "), boxes),
        names.length ? el("div", {}, el("span", { className: "muted" }, "Parameter: "), pick, " ", low, " ", high, " ", add,
          el("span", { className: "muted hint" }, " (categorical: min = comma-separated choices)")) : null,
        el("div", { id: "active-filters" }, active));
    }

    function sortHeader(label, key) {
      const on = state.order === key;
      return el("th", { className: "sortable" + (on ? " sorted" : ""), "data-sort": key, onclick: () => {
        if (state.order === key) state.desc = !state.desc; else { state.order = key; state.desc = false; }
        state.offset = 0; loadTrials();
      } }, label, on ? (state.desc ? " \u25bc" : " \u25b2") : "");
    }

    async function loadTrials() {
      const q = new URLSearchParams({ order_by: state.order, desc: state.desc ? "1" : "0", offset: state.offset, limit: state.limit });
      for (const s of state.states) q.append("state", s);
      if (Object.keys(state.filters).length) q.set("filters", JSON.stringify(state.filters));
      let page;
      try { page = await api(base + "/trials?" + q.toString()); }
      catch (e) { put(clear(tableBox), errorBox(e)); clear(pager); return; }
      const ov = state.ov;
      const dirs = ov ? ov.directions : ["value"];
      const names = paramNames().slice(0, 12);
      const valueHeads = dirs.length === 1 ? [sortHeader("Value", "value")] : dirs.map((d, i) => sortHeader("Value " + i, "value:" + i));
      const table = el("table", { className: "grid", id: "trials-table" },
        el("thead", {}, el("tr", {}, sortHeader("#", "number"), sortHeader("State", "state"), valueHeads,
          names.map((n) => sortHeader(n, "param:" + n)), sortHeader("Started", "datetime_start"), sortHeader("Duration", "duration"))),
        el("tbody", {}, page.trials.map((t) => el("tr", { "data-number": t.number },
          el("td", { className: "num" }, link(base + "/trials/" + t.number, t.number)),
          el("td", {}, badge(t.state)),
          dirs.map((d, i) => el("td", { className: "num" }, t.values ? num(t.values[i]) : "\u2014")),
          names.map((n) => el("td", { className: "num" }, n in t.params ? value(t.params[n]) : "")),
          el("td", {}, timeCell(t.datetime_start)),
          el("td", { className: "num" }, dur(t.duration))))));
      put(clear(tableBox), table);
      if (!page.trials.length) put(tableBox, el("p", { className: "muted", id: "no-trials" }, "No trial matches."));
      const last = Math.min(page.total, state.offset + page.trials.length);
      put(clear(pager), 
        el("button", { id: "prev", disabled: state.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - state.limit); loadTrials(); } }, "\u2039 Prev"),
        el("span", { id: "page-info" }, page.total ? (state.offset + 1) + "\u2013" + last + " of " + page.total : "0 of 0"),
        el("button", { id: "next", disabled: last >= page.total, onclick: () => { state.offset += state.limit; loadTrials(); } }, "Next \u203a"),
        el("select", { id: "page-size", onchange: (ev) => { state.limit = parseInt(ev.target.value, 10); state.offset = 0; loadTrials(); } },
          [25, 50, 100, 200].map((n) => el("option", { value: n, selected: n === state.limit }, n + " per page"))));
    }

    // -- plots, importance, choices -------------------------------------------------------------
    // plotly.js (4.8 MB, from the installed plotly package) loads after the table is on screen.
    let plotlyReady = null;
    function plotly() {
      if (window.Plotly) return Promise.resolve(window.Plotly);
      if (!plotlyReady) plotlyReady = new Promise((resolve, reject) => {
        const tag = el("script", { src: ROOT + "/static/plotly.min.js" });
        tag.addEventListener("load", () => resolve(window.Plotly));
        tag.addEventListener("error", () => { plotlyReady = null; reject(new Error("plotly.js did not load")); });
        document.head.appendChild(tag);
      });
      return plotlyReady;
    }
    const drawn = {};
    let plotsWanted = false;  // set once the plots section comes near the screen
    async function loadPlots() {
      if (!plotsWanted) return;
      try { await plotly(); } catch (e) { put(clear(plots), errorBox(e)); return; }
      let kinds;
      try { kinds = await api(base + "/plots"); } catch (e) { put(clear(plots), errorBox(e)); return; }
      if (kinds.error) { put(clear(plots), errorBox(kinds.error)); return; }
      for (const kind of kinds.kinds) {
        let box = drawn[kind];
        if (!box) {
          box = drawn[kind] = el("div", { className: "plot", id: "plot-" + kind, "data-kind": kind });
          put(plots, el("figure", {}, el("figcaption", {}, kind.replace(/_/g, " ")), box));
        }
        api(base + "/plots/" + encodeURIComponent(kind)).then((res) => {
          if (res.error || !window.Plotly) {
            if (window.Plotly) window.Plotly.purge(box);
            put(clear(box), el("p", { className: "muted" }, res.error || "plotly.js did not load"));
            return;
          }
          if (box.firstChild && !box.classList.contains("js-plotly-plot")) clear(box);
          const layout = Object.assign({ autosize: true, margin: { l: 50, r: 20, t: 30, b: 40 } }, res.figure.layout || {});
          window.Plotly.react(box, res.figure.data || [], layout, { displaylogo: false, responsive: true });
        }).catch((e) => { put(clear(box), errorBox(e)); });
      }
    }
    async function loadImportance() {
      let res;
      try { res = await api(base + "/importance"); } catch (e) { put(clear(importance), errorBox(e)); return; }
      clear(importance);
      if (res.error) { put(importance, el("p", { className: "muted" }, res.error)); return; }
      for (const obj of res.objectives) {
        if (res.objectives.length > 1) put(importance, el("h3", {}, "Objective " + obj.objective + " (" + obj.direction + ")"));
        put(importance, el("table", { className: "bars" }, el("tbody", {}, obj.importances.map(([name, v]) => el("tr", {},
          el("td", {}, name), el("td", { className: "bar" }, el("span", { style: "width:" + Math.round(Math.max(0, Math.min(1, v)) * 100) + "%" })),
          el("td", { className: "num" }, (v * 100).toFixed(1) + "%"))))));
      }
      put(importance, el("p", { className: "muted" }, "PED-ANOVA over " + res.n_trials + " trials."));
    }
    async function loadChoices() {
      let res;
      try { res = await api(base + "/choices"); } catch (e) { put(clear(choices), errorBox(e)); return; }
      clear(choices);
      if (!res.choices.length) { put(choices, el("p", { className: "muted" }, "This study records no sampler choices.")); return; }
      put(choices, el("table", { className: "grid" }, el("thead", {}, el("tr", {}, el("th", {}, "Trials"), el("th", {}, "Algorithm"), el("th", {}, "Why"))),
        el("tbody", {}, res.choices.map((c) => el("tr", {}, el("td", { className: "num" }, link(base + "/trials/" + c.trial, String(c.trial)), c.to === null ? " onwards" : (c.to > c.trial ? "\u2013" + c.to : "")), el("td", {}, value(c.algorithm)), el("td", {}, value(c.reason)))))));
    }

    async function loadOverview() {
      const ov = await api(base);
      const fresh = !state.ov;
      state.ov = ov;
      renderHead(ov);
      if (fresh) renderControls();
      return ov;
    }

    try { await loadOverview(); } catch (e) { put(clear(head), errorBox(e)); return; }
    await loadTrials();
    loadImportance(); loadChoices();
    // The plots (plotly.js, and their data computed on the server) load when their section nears the screen.
    const seen = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) { seen.disconnect(); plotsWanted = true; loadPlots(); }
    }, { rootMargin: "100px" });
    seen.observe(plots.parentNode);
    let lastPlots = Date.now();
    state.version = (await api(base + "/version").catch(() => ({ version: null }))).version;
    poll(async () => {
      let v;
      try { v = await api(base + "/version"); }
      catch (e) {
        if (e.status === 404) { showBanner("This study no longer exists: it was deleted while this page was open."); return false; }
        showBanner(e.message); throw e;
      }
      hideBanner();
      if (v.version === state.version) return true;
      state.version = v.version;
      await loadOverview();
      await loadTrials();
      if (Date.now() - lastPlots > 3 * POLL_MS) { lastPlots = Date.now(); loadPlots(); loadImportance(); loadChoices(); }
      else setTimeout(() => { loadPlots(); loadImportance(); }, 3 * POLL_MS);
      return true;
    });
  }

  function attrTable(title, attrs) {
    return el("div", { className: "attrs" }, el("h3", {}, title), el("table", { className: "kv" }, el("tbody", {},
      Object.entries(attrs).map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, el("code", {}, value(v))))))));
  }

  function noteForm(base, trial) {
    const input = el("textarea", { id: "note-text", rows: 2, cols: 60, placeholder: "Add a note" });
    return el("form", { className: "note-form", onsubmit: async (ev) => {
      ev.preventDefault();
      try { await post(base + "/notes", { text: input.value, trial: trial }); input.value = ""; showBanner("Note added.", "info"); }
      catch (e) { showBanner(e.message); }
    } }, input, el("button", { type: "submit" }, "Add note"));
  }

  // == one trial ===============================================================================
  function sparkline(points) {
    const nums = points.filter((p) => typeof p[1] === "number");
    const svgNS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(svgNS, "svg");
    svg.setAttribute("viewBox", "0 0 400 120");
    svg.setAttribute("class", "spark");
    if (nums.length < 2) return svg;
    const xs = nums.map((p) => p[0]), ys = nums.map((p) => p[1]);
    const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    const sx = (x) => 5 + 390 * (x - x0) / ((x1 - x0) || 1), sy = (y) => 115 - 110 * (y - y0) / ((y1 - y0) || 1);
    const line = document.createElementNS(svgNS, "polyline");
    line.setAttribute("points", nums.map((p) => sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join(" "));
    svg.appendChild(line);
    return svg;
  }

  async function trialPage() {
    const sid = body.dataset.studyId, number = body.dataset.trial;
    const base = "/studies/" + sid;
    async function load() {
      const t = await api(base + "/trials/" + number);
      setCrumbs(link("/", "Studies"), link(base, t.study_name), el("span", {}, "trial " + t.number));
      const facts = [
        ["State", badge(t.state)],
        [t.directions.length === 1 ? "Value" : "Values", t.values ? t.values.map(num).join(", ") : "\u2014"],
        ["Started", timeCell(t.datetime_start)],
        ["Completed", timeCell(t.datetime_complete)],
        ["Duration", dur(t.duration)],
        ["Worker", t.worker === null ? "not recorded" : value(t.worker)],
        ["Runs of these parameters", el("span", { id: "retry-chain" }, t.retry_chain.map((n, i) => [i ? " \u2192 " : "",
          n === t.number ? el("strong", {}, "#" + n) : link(base + "/trials/" + n, "#" + n)]))],
      ];
      if (t.sampler_choice) facts.push(["Sampler", value(t.sampler_choice.algorithm) + ": " + value(t.sampler_choice.reason) + " (chosen at trial " + t.sampler_choice.since + ")"]);
      const blocks = [
        banner,
        el("h1", {}, "Trial " + t.number, " ", badge(t.state)),
        el("table", { className: "kv", id: "trial-facts" }, el("tbody", {}, facts.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))))),
      ];
      if (t.fail_reason) blocks.push(el("section", { id: "fail-reason" }, el("h2", {}, "Error"), el("pre", { className: "code error" }, t.fail_reason)));
      if (WRITABLE && t.state === "RUNNING") blocks.push(el("button", { id: "fail-trial", className: "danger", onclick: async () => {
        if (!confirm("Mark trial " + t.number + " failed? Its worker's result will be dropped.")) return;
        try { await post(base + "/trials/" + t.number + "/fail", {}); await render(); } catch (e) { showBanner(e.message); }
      } }, "Mark failed"));
      blocks.push(el("section", { id: "params" }, el("h2", {}, "Parameters"),
        el("table", { className: "grid" }, el("thead", {}, el("tr", {}, el("th", {}, "Name"), el("th", {}, "Value"), el("th", {}, "Distribution"))),
          el("tbody", {}, Object.entries(t.params).map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", { className: "num" }, value(v)),
            el("td", { className: "muted" }, describe(t.distributions[k]))))))));
      if (t.intermediate_values.length) {
        blocks.push(el("section", { id: "intermediate" }, el("h2", {}, "Intermediate values"), sparkline(t.intermediate_values),
          el("details", {}, el("summary", {}, t.intermediate_values.length + " steps"),
            el("table", { className: "grid" }, el("tbody", {}, t.intermediate_values.slice(0, 2000).map(([s, v]) => el("tr", {}, el("td", { className: "num" }, s), el("td", { className: "num" }, num(v)))))))));
      }
      if (Object.keys(t.user_attrs).length) blocks.push(el("section", { id: "user-attrs" }, attrTable("User attributes", t.user_attrs)));
      if (Object.keys(t.system_attrs).length) blocks.push(el("details", { id: "system-attrs" }, el("summary", {}, "System attributes"), attrTable("", t.system_attrs)));
      const notesBox = el("section", { id: "notes" }, el("h2", {}, "Notes"),
        t.notes.length ? el("ul", { className: "notes" }, t.notes.map((n) => el("li", {}, el("span", { className: "muted" }, when(new Date(n.at * 1000).toISOString()) + ": "), n.text))) : el("p", { className: "muted" }, "No notes."),
        WRITABLE ? noteForm(base, t.number) : null);
      blocks.push(notesBox);
      if (t.has_log) {
        const logBox = el("pre", { className: "code log", id: "log" }, "Loading the log\u2026");
        blocks.push(el("section", { id: "log-section" }, el("h2", {}, "Log"), logBox));
        api(base + "/trials/" + number + "/log").then((lg) => {
          logBox.textContent = lg.error ? lg.error : (lg.truncated ? "[\u2026 the last " + lg.text.length + " characters of " + lg.size + " bytes]\n" : "") + lg.text;
        }).catch((e) => { logBox.textContent = e.message; });
      }
      put(clear(app), ...blocks);
      return t;
    }
    let t;
    async function render() { t = await load(); }
    try { await render(); } catch (e) { put(clear(app), errorBox(e)); return; }
    poll(async () => {
      if (t.state !== "RUNNING" && t.state !== "WAITING") return false;  // finished trials never change
      try { await render(); }
      catch (e) {
        if (e.status === 404) { showBanner("This trial no longer exists: its study was deleted."); app.prepend(banner); return false; }
        throw e;
      }
      return true;
    });
  }

  function describe(d) {
    if (!d) return "";
    if (d.type === "categorical") return "one of " + d.choices.map(value).join(", ");
    return d.type + " in [" + num(d.low) + ", " + num(d.high) + "]" + (d.log ? ", log" : "") + (d.step ? ", step " + num(d.step) : "");
  }

  const pages = { studies: studiesPage, study: studyPage, trial: trialPage };
  if (pages[PAGE]) pages[PAGE]().catch((e) => { put(clear(app), errorBox(e)); });
})();
