// Hive dashboard: asks for a token once, then draws one organization's charts (SVG rendered
// by the service), searches its payments with suggestions and shows correlation timelines.
"use strict";

(() => {
  const KEY = "hive.dashboard.token";
  const $ = (id) => document.getElementById(id);

  class Unauthorized extends Error {}

  const token = () => sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
  const forget = () => { sessionStorage.removeItem(KEY); localStorage.removeItem(KEY); };

  // Calls the service with the token; a 401 means the token must be entered again, any other
  // error carries the problem's detail.
  async function call(path, accept) {
    const bearer = token();
    if (!bearer) throw new Unauthorized("no token");
    const response = await fetch(path, {
      headers: { Authorization: `Bearer ${bearer}`, Accept: accept || "application/json" },
      cache: "no-store",
    });
    if (response.status === 401) throw new Unauthorized("token refused");
    if (!response.ok) {
      let detail = response.statusText;
      try {
        const problem = await response.json();
        detail = problem.detail || problem.title || detail;
      } catch (_) { /* not a problem body */ }
      throw new Error(`${response.status} ${detail}`);
    }
    return response;
  }

  function showLogin(message) {
    forget();
    $("dashboard").hidden = true;
    $("change-token").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    $("token").value = "";
    $("token").focus();
  }

  // Shows `error` in `target` (or the status line); a refused token asks for a new one.
  function fail(error, target) {
    if (error instanceof Unauthorized) {
      showLogin("The token was refused: enter a valid token.");
      return;
    }
    const node = target || $("status");
    node.textContent = `Could not load: ${error.message}`;
    node.classList.add("error");
  }

  const isoDay = (date) => date.toISOString().slice(0, 10);

  // `from`/`to` of the API from the two date inputs (`to` is inclusive in the form).
  function rangeParams() {
    const params = new URLSearchParams();
    const from = $("from").value;
    const to = $("to").value;
    if (from) params.set("from", `${from}T00:00:00Z`);
    if (to) {
      const end = new Date(`${to}T00:00:00Z`);
      end.setUTCDate(end.getUTCDate() + 1);
      params.set("to", end.toISOString().replace(".000Z", "Z"));
    }
    return params;
  }

  async function loadChart(container) {
    const params = rangeParams();
    const currency = $("currency").value;
    if (container.dataset.chart === "trends" && currency) params.set("currency", currency);
    container.dataset.state = "loading";
    try {
      const response = await call(`/dashboard/charts/${container.dataset.chart}.svg?${params}`, "image/svg+xml");
      const text = await response.text();
      const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
      if (svg.nodeName !== "svg") throw new Error("the chart is not SVG");
      const width = svg.getAttribute("width");
      const height = svg.getAttribute("height");
      svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
      svg.removeAttribute("width");
      svg.removeAttribute("height");
      container.replaceChildren(document.importNode(svg, true));
      container.classList.remove("error");
      container.dataset.state = "ready";
    } catch (error) {
      container.dataset.state = "error";
      fail(error, container);
    }
  }

  async function loadCurrencies() {
    const response = await call(`/payments/statistics?${rangeParams()}`);
    const statistics = await response.json();
    const codes = new Set();
    Object.values(statistics.byStatus || {}).forEach((byCurrency) => Object.keys(byCurrency).forEach((c) => codes.add(c)));
    const select = $("currency");
    const chosen = select.value;
    select.replaceChildren(new Option("busiest currency", ""));
    [...codes].sort().forEach((code) => select.add(new Option(code, code, false, code === chosen)));
  }

  async function refresh() {
    $("status").textContent = "";
    $("status").classList.remove("error");
    try {
      await loadCurrencies();
    } catch (error) {
      fail(error);
      if (error instanceof Unauthorized) return;
    }
    await Promise.all([...document.querySelectorAll(".chart")].map(loadChart));
  }

  // Search with suggestions.
  let typing;
  let lastQuery = "";

  function cell(text, className) {
    const td = document.createElement("td");
    if (className) {
      const span = document.createElement("span");
      span.className = className;
      span.textContent = text;
      td.append(span);
    } else {
      td.textContent = text;
    }
    return td;
  }

  async function suggest(prefix) {
    const list = $("suggestions");
    if (!prefix.trim()) { list.hidden = true; return; }
    try {
      const response = await call(`/payments/suggestions?${new URLSearchParams({ q: prefix, size: "8" })}`);
      const { items } = await response.json();
      if ($("search-box").value !== prefix) return;
      list.replaceChildren(...items.map((item) => {
        const li = document.createElement("li");
        li.setAttribute("role", "option");
        li.dataset.text = item.text;
        li.append(item.text);
        const count = document.createElement("small");
        count.textContent = `${item.score} payment${item.score === 1 ? "" : "s"}`;
        li.append(count);
        return li;
      }));
      list.hidden = items.length === 0;
    } catch (error) {
      list.hidden = true;
      fail(error, $("search-summary"));
    }
  }

  async function search(text) {
    lastQuery = text;
    const params = new URLSearchParams({ size: "10" });
    if (text.trim()) params.set("q", text);
    try {
      const response = await call(`/payments/search?${params}`);
      const page = await response.json();
      if (lastQuery !== text) return;
      $("search-summary").classList.remove("error");
      $("search-summary").textContent = `${page.total} payment${page.total === 1 ? "" : "s"} match` +
        (page.total > page.items.length ? ` (the first ${page.items.length} shown)` : "");
      const rows = page.items.map((p) => {
        const tr = document.createElement("tr");
        tr.dataset.paymentId = p.paymentId;
        tr.append(cell(p.paymentId), cell(p.status, `status ${p.status}`), cell(`${p.amount} ${p.currency}`),
          cell(p.description), cell(p.createdAt.replace("T", " ").slice(0, 16)));
        return tr;
      });
      $("results").tBodies[0].replaceChildren(...rows);
      $("results").hidden = rows.length === 0;
    } catch (error) {
      fail(error, $("search-summary"));
    }
  }

  // A payment's row opens the timeline of its first event's correlation id.
  async function openPayment(paymentId) {
    try {
      const response = await call(`/payments/${encodeURIComponent(paymentId)}/history`);
      const history = await response.json();
      if (history.items.length > 0) {
        $("correlation-id").value = history.items[0].correlationId;
        await timeline(history.items[0].correlationId);
      }
    } catch (error) {
      fail(error, $("timeline-summary"));
    }
  }

  async function timeline(correlationId) {
    const summary = $("timeline-summary");
    summary.classList.remove("error");
    try {
      const response = await call(`/events/timeline/${encodeURIComponent(correlationId)}`);
      const { items } = await response.json();
      summary.textContent = items.length
        ? `${items.length} event${items.length === 1 ? "" : "s"} with correlation id ${correlationId}`
        : `No event of your organization has correlation id ${correlationId}.`;
      $("timeline-events").replaceChildren(...items.map((event) => {
        const li = document.createElement("li");
        const time = document.createElement("time");
        time.dateTime = event.timestamp;
        time.textContent = event.timestamp.replace("T", " ").slice(0, 19);
        const name = document.createElement("strong");
        name.textContent = event.eventType;
        const meta = document.createElement("div");
        meta.className = "meta";
        const who = event.metadata || {};
        meta.textContent = `${event.aggregateId} v${event.version} · ${who.userId || "?"} via ${who.source || "?"}`;
        li.append(time, name, meta);
        return li;
      }));
    } catch (error) {
      $("timeline-events").replaceChildren();
      fail(error, summary);
    }
  }

  function showDashboard() {
    $("login").hidden = true;
    $("dashboard").hidden = false;
    $("change-token").hidden = false;
    refresh();
    search($("search-box").value);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const today = new Date();
    const monthAgo = new Date(today.getTime() - 29 * 24 * 3600 * 1000);
    $("from").value = isoDay(monthAgo);
    $("to").value = isoDay(today);

    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token").value.trim();
      if (!value) return;
      forget();
      ($("remember").checked ? localStorage : sessionStorage).setItem(KEY, value);
      showDashboard();
    });
    $("change-token").addEventListener("click", () => showLogin(""));
    $("filters").addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
    $("search-box").addEventListener("input", (event) => {
      const text = event.target.value;
      clearTimeout(typing);
      typing = setTimeout(() => { suggest(text); search(text); }, 150);
    });
    $("search-box").addEventListener("keydown", (event) => {
      if (event.key === "Escape") $("suggestions").hidden = true;
    });
    $("suggestions").addEventListener("click", (event) => {
      const li = event.target.closest("li");
      if (!li) return;
      $("search-box").value = li.dataset.text;
      $("suggestions").hidden = true;
      search(li.dataset.text);
    });
    $("results").addEventListener("click", (event) => {
      $("suggestions").hidden = true;
      const row = event.target.closest("tr[data-payment-id]");
      if (row) openPayment(row.dataset.paymentId);
    });
    $("timeline-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const id = $("correlation-id").value.trim();
      if (id) timeline(id);
    });

    if (token()) showDashboard(); else showLogin("");
  });
})();
