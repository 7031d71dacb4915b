// The review page: scores one article or a file of articles through this service's own API
// (/v1/score, /v1/score/batch) and shows the results. No framework, no build step, no other origin.
// Untrusted text only ever goes into the page as text nodes (never innerHTML).
"use strict";

(function () {
  const body = document.body;
  const API_ROOT = body.dataset.apiRoot || "";
  const MAX_BATCH = parseInt(body.dataset.maxBatchItems, 10) || 1000;
  const KEY_STORE = "misinfo-risk.api-key";
  const ARTICLE_FIELDS = ["text", "title", "url", "source", "published_at", "language", "id"];
  // Fixed colours per signal (classes sig-0 ... sig-13 in review.css); a new signal gets one by its name.
  const SIGNAL_COLOURS = [
    "unnamed_sources", "absent_official_comment", "inflated_figures", "sensational_terms", "conspiracy_framing",
    "hedging", "absolutist_language", "call_to_share", "clickbait_headline", "shouting_caps", "exclamation_marks",
    "unanswered_accusation", "sought_comment", "on_record_statement",
  ];
  const LEVEL_NAMES = { high: "High risk", medium: "Medium risk", low: "Low risk" };
  const FILTER_NAMES = { high: "High", medium: "Medium", low: "Low", not_assessed: "Not assessed", error: "Error" };
  const TOP_SENTENCES = 3;

  const $ = (id) => document.getElementById(id);
  let batch = null; // {rows: [...], name}
  let tipCounter = 0;

  // ---------- small helpers ----------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function signed(x, digits) {
    const text = Math.abs(x).toFixed(digits === undefined ? 2 : digits);
    return (x < 0 ? "\u2212" : "+") + text;
  }

  function colourClass(name) {
    let index = SIGNAL_COLOURS.indexOf(name);
    if (index < 0) {
      index = 0;
      for (const ch of name) index = (index * 31 + ch.charCodeAt(0)) % SIGNAL_COLOURS.length;
    }
    return "sig-" + index;
  }

  function languageName(code) {
    try {
      const name = new Intl.DisplayNames(["en"], { type: "language" }).of(code);
      return name && name !== code ? name : code;
    } catch (_) {
      return code;
    }
  }

  function showAlert(message) {
    const box = $("alert");
    box.textContent = message;
    box.hidden = !message;
  }

  // ---------- API key (sessionStorage: this tab only) ----------

  function apiKey() {
    try {
      return sessionStorage.getItem(KEY_STORE) || "";
    } catch (_) {
      return "";
    }
  }

  function showKeyStatus() {
    const stored = apiKey() !== "";
    const required = body.dataset.keyRequired === "true";
    $("key-status").textContent = stored
      ? "A key is set for this tab; it is sent with every request and forgotten when the tab closes."
      : required
        ? "This service requires an API key: enter it to score articles."
        : "No key set. This service does not ask for one.";
  }

  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("api-key").value.trim();
    if (value) sessionStorage.setItem(KEY_STORE, value);
    else sessionStorage.removeItem(KEY_STORE);
    $("api-key").value = "";
    showKeyStatus();
  });
  $("forget-key").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORE);
    $("api-key").value = "";
    showKeyStatus();
  });

  class ApiError extends Error {
    constructor(status, problem) {
      const detail = problem && problem.detail ? problem.detail : "The service answered " + status + ".";
      super(status === 401 ? detail + " Enter a valid API key above." : detail);
      this.status = status;
    }
  }

  async function postJson(path, payload) {
    const headers = { "content-type": "application/json", accept: "application/json" };
    const key = apiKey();
    if (key) headers.authorization = "Bearer " + key;
    let response;
    try {
      response = await fetch(API_ROOT + path, { method: "POST", headers, body: JSON.stringify(payload) });
    } catch (_) {
      throw new ApiError(0, { detail: "The service could not be reached. Is it running?" });
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  function reportError(error, statusId) {
    showAlert(error.message);
    $(statusId).textContent = "";
    if (error.status === 401) $("api-key").focus();
  }

  // ---------- views ----------

  function showView(name) {
    const article = name === "article";
    $("article-view").hidden = !article;
    $("batch-view").hidden = article;
    $("show-article").setAttribute("aria-pressed", String(article));
    $("show-batch").setAttribute("aria-pressed", String(!article));
    showAlert("");
  }
  $("show-article").addEventListener("click", () => showView("article"));
  $("show-batch").addEventListener("click", () => showView("batch"));

  // ---------- one article ----------

  function readFile(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.onerror = () => reject(new Error("Could not read " + file.name + "."));
      reader.readAsText(file, "utf-8");
    });
  }

  async function loadArticleFile(file) {
    showAlert("");
    try {
      const content = await readFile(file);
      let fields = { text: content };
      if (/\.json$/i.test(file.name) || file.type === "application/json") {
        let parsed;
        try {
          parsed = JSON.parse(content);
        } catch (error) {
          throw new Error(file.name + " is not valid JSON: " + error.message);
        }
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed) || typeof parsed.text !== "string") {
          throw new Error(file.name + ' must hold one JSON object with a "text" string.');
        }
        fields = parsed;
      }
      $("title").value = typeof fields.title === "string" ? fields.title : "";
      $("text").value = fields.text;
      $("url").value = typeof fields.url === "string" ? fields.url : "";
      $("article-status").textContent = "Loaded " + file.name + ". Press Score article.";
    } catch (error) {
      showAlert(error.message);
    }
  }

  $("article-file").addEventListener("change", (event) => {
    const file = event.target.files && event.target.files[0];
    if (file) loadArticleFile(file);
  });
  const form = $("article-form");
  form.addEventListener("dragover", (event) => {
    event.preventDefault();
    $("drop-zone").classList.add("dragging");
  });
  form.addEventListener("dragleave", () => $("drop-zone").classList.remove("dragging"));
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    $("drop-zone").classList.remove("dragging");
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) loadArticleFile(file);
  });

  $("clear-button").addEventListener("click", () => {
    for (const id of ["title", "text", "url", "article-file"]) $(id).value = "";
    $("result").hidden = true;
    $("article-status").textContent = "";
    showAlert("");
    $("text").focus();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showAlert("");
    const article = { text: $("text").value };
    if ($("title").value.trim()) article.title = $("title").value;
    if ($("url").value.trim()) article.url = $("url").value.trim();
    if (!article.text.trim()) {
      showAlert("Enter the article's text (or load a file) before scoring.");
      $("text").focus();
      return;
    }
    const button = $("score-button");
    button.disabled = true;
    $("article-status").textContent = "Scoring\u2026";
    try {
      const result = await postJson("/v1/score", article);
      $("article-status").textContent = "Scored.";
      showResult(article, result, null);
    } catch (error) {
      reportError(error, "article-status");
    } finally {
      button.disabled = false;
    }
  });

  function showResult(article, result, origin) {
    const section = $("result");
    section.hidden = false;
    $("result-heading").textContent = origin ? "Result (" + origin + ")" : "Result";
    const badge = $("level-badge");
    if (result.assessed) {
      badge.className = "badge level-" + result.level;
      badge.textContent = LEVEL_NAMES[result.level] || result.level;
    } else {
      badge.className = "badge level-none";
      badge.textContent = "Not assessed";
    }
    renderFacts(result);
    const reason = $("reason");
    reason.hidden = result.assessed;
    reason.textContent = result.assessed ? "" : "Not assessed (" + result.reason + "): " + (result.reason_detail || "");
    const warnings = result.warnings || [];
    $("warnings-box").hidden = warnings.length === 0;
    $("warnings").replaceChildren(...warnings.map((w) => el("li", {}, el("strong", {}, w.code), ": " + w.message)));
    renderSignals(result.signals || []);
    renderArticle(article, result);
    renderSentences(article, result);
    const terms = result.top_terms || [];
    $("terms-box").hidden = terms.length === 0;
    $("terms").replaceChildren(
      ...terms.map((t) => el("li", {}, el("span", { class: "contribution" }, signed(t.contribution, 3)), "\u201c" + t.term + "\u201d")),
    );
    section.focus();
  }

  function renderFacts(result) {
    const rows = [];
    if (result.assessed) {
      let score = result.score.toFixed(2);
      if (result.base_rate !== null && result.score_calibrated !== result.score) {
        score += " at a base rate of " + result.base_rate + " (" + result.score_calibrated.toFixed(2) + " as calibrated)";
      }
      rows.push(["Score", score + " (0 to 1)"]);
    }
    rows.push(["Model", result.model_version]);
    if (result.language) {
      const lang = result.language;
      let text = languageName(lang.detected) + " (" + lang.detected + ", " + Number(lang.confidence).toFixed(2) + ")";
      if (lang.declared) text += "; declared: " + lang.declared;
      rows.push(["Language", text]);
    }
    if (result.genre) rows.push(["Genre", result.genre.label.replace("_", " ") + ": " + result.genre.explanation]);
    if (result.id) rows.push(["ID", result.id]);
    $("facts").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  }

  function renderSignals(signals) {
    $("signals-box").hidden = signals.length === 0;
    $("signals").replaceChildren(
      ...signals.map((s) =>
        el(
          "li",
          {},
          el("span", { class: "swatch " + colourClass(s.name), "aria-hidden": "true" }),
          el("span", { class: "name" }, s.name),
          el("span", { class: "contribution" }, signed(s.contribution), el("span", { class: "visually-hidden" }, " log-odds")),
          el("span", { class: "description" }, "\u00d7" + s.count + " \u2014 " + s.description),
        ),
      ),
    );
  }

  // Python indices count code points; JavaScript strings count UTF-16 units. offsets[i] is where code point i starts.
  function codePointOffsets(text) {
    const offsets = [0];
    let at = 0;
    for (const ch of text) {
      at += ch.length;
      offsets.push(at);
    }
    return offsets;
  }

  function riskySentences(result) {
    return (result.sentences || [])
      .filter((s) => s.contribution > 0)
      .sort((a, b) => b.contribution - a.contribution)
      .slice(0, TOP_SENTENCES)
      .map((s, i) => Object.assign({ rank: i + 1 }, s));
  }

  function renderArticle(article, result) {
    const spans = [];
    for (const signal of result.signals || []) {
      for (const ev of signal.evidence) spans.push({ section: ev.section, start: ev.start, end: ev.end, signal });
    }
    const sentences = riskySentences(result);
    const count = spans.length;
    $("evidence-note").textContent = count ? " \u2014 " + count + " highlighted passage" + (count === 1 ? "" : "s") : "";
    fillSection($("shown-title"), "title", article.title || "", spans, sentences);
    fillSection($("shown-text"), "text", article.text || "", spans, sentences);
  }

  function fillSection(container, section, text, allSpans, allSentences) {
    const spans = allSpans.filter((s) => s.section === section);
    const sentences = allSentences.filter((s) => s.section === section);
    const offsets = codePointOffsets(text);
    const length = offsets.length - 1;
    const cuts = new Set([0, length]);
    for (const s of spans.concat(sentences)) {
      cuts.add(Math.min(Math.max(s.start, 0), length));
      cuts.add(Math.min(Math.max(s.end, 0), length));
    }
    const points = Array.from(cuts).sort((a, b) => a - b);
    const nodes = [];
    for (let k = 0; k + 1 < points.length; k++) {
      const start = points[k];
      const end = points[k + 1];
      const piece = text.slice(offsets[start], offsets[end]);
      const active = spans.filter((s) => s.start <= start && s.end >= end);
      const sentence = sentences.find((s) => s.start <= start && s.end >= end);
      if (sentence && sentence.start === start) nodes.push(rankMarker(sentence));
      let node = active.length ? evidenceMark(piece, section, start, end, active) : document.createTextNode(piece);
      if (sentence) node = el("span", { class: "hot", "data-sentence": sentence.rank }, node);
      nodes.push(node);
    }
    container.replaceChildren(...nodes);
  }

  function rankMarker(sentence) {
    return el(
      "span",
      { class: "rank", "data-rank": sentence.rank },
      el("span", { "aria-hidden": "true" }, String(sentence.rank)),
      el("span", { class: "visually-hidden" }, "Riskiest sentence " + sentence.rank + " (" + signed(sentence.contribution) + "): "),
    );
  }

  function evidenceMark(piece, section, start, end, active) {
    // strongest signal first: its colour is the highlight's
    active.sort((a, b) => b.signal.contribution - a.signal.contribution);
    const names = active.map((s) => s.signal.name);
    const tipId = "tip-" + ++tipCounter;
    const mark = el(
      "mark",
      {
        class: "ev " + colourClass(names[0]),
        tabindex: "0",
        "data-section": section,
        "data-start": start,
        "data-end": end,
        "data-signals": names.join(" "),
        "aria-describedby": tipId,
      },
      piece,
    );
    const lines = active.map(
      (s) => s.signal.name + " (" + signed(s.signal.contribution) + " log-odds, \u00d7" + s.signal.count + "): " + s.signal.description,
    );
    const tip = el("span", { class: "tip", id: tipId, role: "tooltip" }, lines.join(" \u2022 "));
    return el("span", { class: "ev-wrap" }, mark, tip);
  }

  function renderSentences(article, result) {
    const sentences = riskySentences(result);
    $("sentences-box").hidden = sentences.length === 0;
    $("sentences").replaceChildren(
      ...sentences.map((s) => {
        const source = s.section === "title" ? article.title || "" : article.text || "";
        const offsets = codePointOffsets(source);
        const quote = source.slice(offsets[s.start], offsets[Math.min(s.end, offsets.length - 1)]);
        return el("li", {}, el("span", { class: "contribution" }, signed(s.contribution)), "\u201c" + quote + "\u201d");
      }),
    );
  }

  // Keep a shown tooltip inside the window (moved through the CSSOM, which the page's CSP allows).
  function placeTip(event) {
    const mark = event.target.closest && event.target.closest("mark.ev");
    if (!mark) return;
    const tip = mark.nextElementSibling;
    tip.style.left = "0px";
    requestAnimationFrame(() => {
      const rect = tip.getBoundingClientRect();
      const room = document.documentElement.clientWidth - 8;
      if (rect.right > room) tip.style.left = Math.max(8 - rect.left, room - rect.right) + "px";
    });
  }
  $("article-text").addEventListener("focusin", placeTip);
  $("article-text").addEventListener("mouseover", placeTip);

  // ---------- batch ----------

  function parseCsv(text) {
    // RFC 4180: quoted fields may hold commas, quotes ("") and line breaks.
    const rows = [];
    let row = [];
    let field = "";
    let quoted = false;
    let i = 0;
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else quoted = false;
        } else field += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ",") {
        row.push(field);
        field = "";
      } else if (ch === "\n" || ch === "\r") {
        if (ch === "\r" && text[i + 1] === "\n") i++;
        row.push(field);
        rows.push(row);
        row = [];
        field = "";
      } else field += ch;
    }
    if (quoted) throw new Error("the file ends inside a quoted field");
    if (field !== "" || row.length) {
      row.push(field);
      rows.push(row);
    }
    return rows.filter((r) => !(r.length === 1 && r[0].trim() === ""));
  }

  // Each entry: {line, item} for an article object to send, or {line, error} for a line that cannot be read.
  function readBatch(name, content) {
    if (/\.csv$/i.test(name)) {
      const rows = parseCsv(content);
      if (rows.length === 0) throw new Error(name + " is empty.");
      const header = rows[0].map((h) => h.trim());
      if (!header.includes("text")) throw new Error(name + ' has no "text" column (the header row is: ' + header.join(", ") + ").");
      return rows.slice(1).map((cells, n) => {
        const item = {};
        header.forEach((column, j) => {
          if (ARTICLE_FIELDS.includes(column) && cells[j] !== undefined && (column === "text" || cells[j] !== "")) item[column] = cells[j];
        });
        return { line: n + 2, item };
      });
    }
    if (/^\s*\[/.test(content)) {
      // a JSON array of articles (what POST /v1/score/batch takes) rather than JSON Lines
      let items;
      try {
        items = JSON.parse(content);
      } catch (error) {
        throw new Error(name + " starts like a JSON array but is not valid JSON: " + error.message);
      }
      return items.map((item, n) => ({ line: n + 1, item }));
    }
    const entries = [];
    content.split(/\r?\n/).forEach((raw, n) => {
      if (!raw.trim()) return;
      try {
        entries.push({ line: n + 1, item: JSON.parse(raw) });
      } catch (error) {
        entries.push({ line: n + 1, error: "line " + (n + 1) + " is not valid JSON: " + error.message });
      }
    });
    return entries;
  }

  $("batch-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    showAlert("");
    const file = $("batch-file").files[0];
    if (!file) {
      showAlert("Choose a JSON Lines or CSV file first.");
      $("batch-file").focus();
      return;
    }
    const button = $("batch-button");
    button.disabled = true;
    try {
      const entries = readBatch(file.name, await readFile(file));
      if (entries.length === 0) throw new Error(file.name + " holds no articles.");
      if (entries.length > MAX_BATCH) {
        throw new Error(
          file.name + " holds " + entries.length + " articles; this page sends at most " + MAX_BATCH +
            " at once (the service's batch limit). Split the file, or use the batch command or the NDJSON API for more.",
        );
      }
      const toSend = entries.filter((e) => e.error === undefined);
      $("batch-status").textContent = "Scoring " + toSend.length + " articles\u2026";
      const response = toSend.length ? await postJson("/v1/score/batch", toSend.map((e) => e.item)) : { results: [] };
      toSend.forEach((entry, i) => (entry.result = response.results[i]));
      batch = { name: file.name, rows: entries.map((entry, index) => makeRow(entry, index)) };
      $("batch-status").textContent = "Scored " + file.name + ".";
      showBatch();
    } catch (error) {
      if (error instanceof ApiError) reportError(error, "batch-status");
      else {
        showAlert(error.message);
        $("batch-status").textContent = "";
      }
    } finally {
      button.disabled = false;
    }
  });

  function makeRow(entry, index) {
    const item = entry.item && typeof entry.item === "object" && !Array.isArray(entry.item) ? entry.item : {};
    let result = entry.result;
    if (entry.error !== undefined) {
      result = { index, id: null, error: { title: "Malformed JSON", status: 422, detail: entry.error } };
    } else if (result && result.error) {
      result = Object.assign({}, result, { index });
    }
    const kind = result.error ? "error" : result.assessed ? result.level : "not_assessed";
    return { index, line: entry.line, article: item, result, kind };
  }

  function riskOrder(a, b) {
    const rank = (row) => (row.kind === "error" ? 2 : row.kind === "not_assessed" ? 1 : 0);
    return rank(a) - rank(b) || (b.result.score || 0) - (a.result.score || 0) || a.index - b.index;
  }

  function showBatch() {
    const rows = batch.rows.slice().sort(riskOrder);
    const counts = { high: 0, medium: 0, low: 0, not_assessed: 0, error: 0 };
    for (const row of rows) counts[row.kind] += 1;
    for (const [kind, n] of Object.entries(counts)) document.querySelector('[data-count="' + kind + '"]').textContent = "(" + n + ")";
    $("batch-summary").textContent =
      batch.name + ": " + rows.length + " articles \u2014 " + counts.high + " high, " + counts.medium + " medium, " + counts.low +
      " low, " + counts.not_assessed + " not assessed, " + counts.error + " with errors.";
    $("batch-rows").replaceChildren(...rows.map((row, position) => tableRow(row, position)));
    $("batch-results").hidden = false;
    applyFilters();
  }

  function tableRow(row, position) {
    const r = row.result;
    const label = row.kind === "error" ? "Error" : row.kind === "not_assessed" ? "Not assessed" : FILTER_NAMES[row.kind];
    const title = row.article.title || "";
    const text = typeof row.article.text === "string" ? row.article.text : "";
    const snippet = text.length > 100 ? text.slice(0, 100) + "\u2026" : text;
    let what;
    if (r.error) what = r.error.detail;
    else if (!r.assessed) what = r.reason_detail || r.reason;
    else what = (r.signals || []).slice(0, 3).map((s) => s.name + " " + signed(s.contribution)).join(", ") || "none";
    const name = title || (r.id ? "ID " + r.id : "row " + (row.index + 1));
    const open = el("button", { type: "button", "data-index": row.index, "aria-label": "Open " + name + " in the article view" }, "Open");
    if (r.error) open.disabled = true;
    open.addEventListener("click", () => openRow(row));
    return el(
      "tr",
      { "data-kind": row.kind, "data-index": row.index },
      el("td", { class: "num col-rank" }, String(position + 1)),
      el("td", {}, el("span", { class: "badge level-" + (row.kind === "error" || row.kind === "not_assessed" ? "none" : row.kind) }, label)),
      el("td", { class: "num" }, r.score === null || r.score === undefined ? "\u2014" : r.score.toFixed(2)),
      el("td", { class: "article" }, title ? el("strong", {}, title) : null, r.id ? el("span", { class: "snippet" }, "ID " + r.id) : null, el("span", { class: "snippet text-start" }, snippet)),
      el("td", { class: "col-signals" }, what),
      el("td", {}, open),
    );
  }

  function applyFilters() {
    const shown = new Set(Array.from(document.querySelectorAll(".level-filter")).filter((c) => c.checked).map((c) => c.value));
    for (const tr of $("batch-rows").children) tr.hidden = !shown.has(tr.dataset.kind);
  }
  for (const box of document.querySelectorAll(".level-filter")) box.addEventListener("change", applyFilters);

  function openRow(row) {
    const article = row.article;
    $("title").value = typeof article.title === "string" ? article.title : "";
    $("text").value = typeof article.text === "string" ? article.text : "";
    $("url").value = typeof article.url === "string" ? article.url : "";
    showView("article");
    $("article-status").textContent = "";
    showResult(article, row.result, "from " + batch.name + ", item " + (row.index + 1));
  }

  // ---------- downloads ----------

  function csvCell(value) {
    let text = value === null || value === undefined ? "" : String(value);
    // a cell starting with = + - @ would run as a formula in a spreadsheet
    if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = "'" + text;
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  const CSV_COLUMNS = [
    "index", "id", "title", "assessed", "level", "score", "score_calibrated", "base_rate", "model_version", "language",
    "genre", "reason", "warnings", "signals", "error",
  ];

  function csvRecord(row) {
    const r = row.result;
    if (r.error) return { index: row.index, id: r.id, title: row.article.title, error: r.error.detail };
    return {
      index: row.index,
      id: r.id,
      title: row.article.title,
      assessed: r.assessed,
      level: r.level,
      score: r.score,
      score_calibrated: r.score_calibrated,
      base_rate: r.base_rate,
      model_version: r.model_version,
      language: r.language ? r.language.detected : null,
      genre: r.genre ? r.genre.label : null,
      reason: r.reason,
      warnings: (r.warnings || []).map((w) => w.code).join(";"),
      signals: (r.signals || []).map((s) => s.name + "=" + s.contribution.toFixed(4)).join(";"),
    };
  }

  function download(name, type, content) {
    const url = URL.createObjectURL(new Blob([content], { type }));
    const link = el("a", { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function baseName() {
    return batch.name.replace(/\.[^.]*$/, "") + "-scores";
  }

  $("download-csv").addEventListener("click", () => {
    const lines = [CSV_COLUMNS.join(",")];
    for (const row of batch.rows) {
      const record = csvRecord(row);
      lines.push(CSV_COLUMNS.map((c) => csvCell(record[c])).join(","));
    }
    download(baseName() + ".csv", "text/csv", lines.join("\r\n") + "\r\n");
  });
  $("download-jsonl").addEventListener("click", () => {
    download(baseName() + ".jsonl", "application/x-ndjson", batch.rows.map((row) => JSON.stringify(row.result)).join("\n") + "\n");
  });

  $("batch-limit").textContent = String(MAX_BATCH);
  showKeyStatus();
})();
