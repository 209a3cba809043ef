// Cashier screen: keyboard/scanner first. The box holds the basket; this page only renders it.
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("messages").textContent);
  const $ = (id) => document.getElementById(id);
  const D = window.TillDialogs;
  // amounts travel as "1234.50"; people read them as the locale writes them (Babel's signs)
  const SIGNS = JSON.parse(document.getElementById("number-signs").textContent);
  function money(value) {
    const text = String(value == null ? "" : value);
    const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
    if (!m) return text;
    const whole = m[2].replace(/\B(?=(\d{3})+(?!\d))/g, SIGNS.group);
    return m[1] + whole + (m[3] !== undefined ? SIGNS.decimal + m[3] : "");
  }
  // what the cashier typed ("4,38" on a German till, "4.38" too) as a wire amount
  function parseAmount(typed) {
    let t = String(typed).replace(/\s/g, "");
    if (SIGNS.decimal !== "." && t.includes(SIGNS.decimal)) {
      t = t.split(SIGNS.group).join("").replace(SIGNS.decimal, ".");
    } else if (SIGNS.group === ",") {
      t = t.split(",").join("");
    }
    return t;
  }
  let basketTotal = "0.00";
  let payKey = null;
  let lastSaleId = null;
  let scans = null;

  function newKey() {
    const a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function api(method, path, body) {
    let res;
    try {
      res = await fetch("/api/v1" + path, {
        method, credentials: "same-origin",
        headers: body ? { "Content-Type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw { reason: "NETWORK", message: String(e) };
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = data.error || { reason: "INTERNAL", message: res.statusText };
      err.status = res.status;
      throw err;
    }
    return data;
  }

  // shown in the topmost open dialog, or on the page when none is open (dialogs.js); only a
  // lost session logs out (a supervisor's wrong PIN is a 401 too, but the cashier stays)
  const SESSION_LOST = ["AUTH_REQUIRED", "SESSION_EXPIRED", "TOKEN_REVOKED"];
  function showError(err) {
    if (err.status === 401 && SESSION_LOST.includes(err.reason)) {
      while (D.top()) D.close(D.top().id);
      D.showError(err);
      showLogin();
      return;
    }
    D.showError(err);
  }
  const clearError = D.clearError;

  function showLogin(keepTyped) {
    stopScans();
    $("till").hidden = true; $("login").hidden = false; $("logout").hidden = true;
    // at start-up keep digits typed while the session check was under way
    $("cashier").textContent = ""; if (!keepTyped) $("pin").value = ""; $("pin").focus();
  }
  function showTill(staff) {
    $("login").hidden = true; $("till").hidden = false; $("logout").hidden = false;
    $("cashier").textContent = T["ui.cashier"] + ": " + staff.name;
    focusScan();
    refreshBasket();
    refreshShift();
    listenForScans();
  }
  // where drawers are counted, say so before the first sale is refused without a shift
  async function refreshShift() {
    try {
      const r = await api("GET", "/shifts/current");
      $("notice").textContent = T["ui.no_shift"];
      $("notice").hidden = !(r.drawer_counting && !r.shift);
    } catch (e) { $("notice").hidden = true; }
  }

  // Scans from the box's attached scanner arrive as Server-Sent Events and are added
  // exactly as if typed; EventSource reconnects by itself (Last-Event-ID skips repeats).
  function listenForScans() {
    if (scans || typeof EventSource === "undefined") return;
    scans = new EventSource("/api/v1/scans/stream");
    scans.addEventListener("scan", (ev) => {
      if ($("till").hidden || $("pay").open || $("weigh").open || $("info").open) return;
      if ($("done").open) D.close("done");
      const code = JSON.parse(ev.data).code;
      const scanInto = D.top() && D.top().dataset.scanField;
      if (scanInto) {  // a dialog that takes scans (a loyalty card) gets it in its field
        const active = document.activeElement;  // the card field being filled, if any
        const field = active instanceof HTMLInputElement && D.top().contains(active) &&
          active.inputMode === "numeric" ? active : $(scanInto);
        if (field && code) { field.value = code; field.dispatchEvent(new Event("scanned")); }
        return;
      }
      if ($("op").open) {  // a receipt scanned for a refund fills the lookup field
        const field = document.getElementById("refund-code");
        if (field && code) { field.value = code; field.dispatchEvent(new Event("scanned")); }
        return;
      }
      if (code) addLine(code);
    });
    scans.addEventListener("open", () => { document.body.dataset.scans = "1"; });
  }
  function stopScans() {
    if (scans) { scans.close(); scans = null; }
    delete document.body.dataset.scans;
  }
  function focusScan() {
    if (!$("till").hidden && !D.top()) $("scan").focus();
  }

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }
  function render(b) {
    const tbody = $("lines");
    tbody.replaceChildren();
    for (const l of b.lines) {
      const tr = document.createElement("tr");
      const name = cell(l.name);
      // say why a line costs less: each promotion with its amount, as the receipt does
      for (const d of l.discounts || []) {
        const note = document.createElement("div");
        note.className = "discount";
        note.textContent = T["ui.promotion"] + " " + (d.name || d.policy_id) + " −" + money(d.amount);
        name.append(note);
      }
      if (l.return_of) {  // an exchange: the item comes back from an earlier receipt
        const note = document.createElement("div");
        note.className = "return-note";
        note.textContent = T["ui.returned_from"].replace("{no}", l.return_of.receipt_no);
        name.append(note);
        tr.className = "returned";
      }
      tr.append(cell(l.line_no), name, cell(l.qty, "num"), cell(money(l.unit_price), "num"),
        cell(money(l.line_total), "num"));
      const td = document.createElement("td");
      const btn = document.createElement("button");
      btn.className = "btn small"; btn.textContent = T["ui.void"];
      btn.addEventListener("click", () => voidLine(l.line_no));
      td.append(btn); tr.append(td); tbody.append(tr);
    }
    $("empty").hidden = b.lines.length > 0;
    $("count").textContent = b.item_count;
    $("tax").textContent = money(b.tax_total);
    $("total").textContent = money(b.total) + " " + (b.currency || "");
    basketTotal = b.total;
    document.dispatchEvent(new CustomEvent("basket", { detail: b }));  // loyalty panel
  }

  async function refreshBasket() {
    try { render(await api("GET", "/basket")); } catch (e) { showError(e); }
  }
  // qty counts items and is sent only when typed; a weighed item asks for its weight
  async function addLine(barcode) {
    const qty = parseInt($("qty").value, 10) || 1;
    $("qty").value = 1;
    await postLine(qty === 1 ? { barcode } : { barcode, qty });
  }
  async function postLine(body) {
    try {
      render(await api("POST", "/basket/lines", body));
      clearError();
      return true;
    } catch (e) {
      // a loyalty card scanned into the barcode field attaches its customer (customers.js)
      const tryCard = window.CashierScreen && window.CashierScreen.tryCard;
      if (e.reason === "UNKNOWN_BARCODE" && tryCard && await tryCard(body.barcode)) return true;
      if (e.reason === "AGE_CONFIRMATION_REQUIRED" && !body.age_confirmed &&
          window.confirm(T["ui.age_confirm"])) {
        return postLine(Object.assign({}, body, { age_confirmed: true }));
      }
      if (e.reason === "WEIGHT_REQUIRED" && !$("weigh").open) {
        openWeigh(body, e);
        return false;
      }
      if (e.reason === "WEIGHT_REQUIRED") scaleHint(e);
      showError(e);
      return false;
    }
  }

  // Weighed item by its plain barcode: type the weight (kg) or read the attached scale.
  let weighing = null;
  function scaleHint(err) {
    const code = err.details && err.details.scale;
    $("weigh-scale").textContent = code ? (T[code] || code) + " [" + code + "]" : "";
  }
  function openWeigh(body, err) {
    weighing = Object.assign({}, body);
    delete weighing.qty;
    delete weighing.weight;
    $("weigh-name").textContent = (err.details && err.details.name) || body.barcode;
    scaleHint(err);
    $("weight").value = "";
    D.open("weigh");
    $("weight").focus();
  }
  async function submitWeight(readScale) {
    if (!weighing) return;
    const kg = $("weight").value.trim().replace(",", ".");
    const body = readScale || !kg ? weighing : Object.assign({}, weighing, { weight: kg });
    if (await postLine(body)) D.close("weigh");
  }
  async function voidLine(no) {
    try { render(await api("DELETE", "/basket/lines/" + no)); clearError(); }
    catch (e) { showError(e); }
    focusScan();
  }

  function openPay(split) {
    if ($("pay").open) return;
    $("split").hidden = !split;
    $("card-amount").value = ""; $("card-ref").value = "";
    payKey = newKey();  // one key per payment attempt: retries and double clicks reuse it
    const due = window.CashierScreen.due ? window.CashierScreen.due() : null;  // after points
    const owed = due || basketTotal;
    $("pay-total").textContent = money(owed);
    // an exchange that gives money back (or nothing): the box pays out, nothing is tendered
    $("tendered").value = Number(owed) <= 0 ? money("0.00") : money(owed);
    D.open("pay");
    $("tendered").select();
  }
  function closePay() { D.close("pay"); }
  async function pay() {
    try {
      const card = $("split").hidden ? "" : parseAmount($("card-amount").value.trim());
      const cash = parseAmount($("tendered").value.trim());
      const body = card
        ? { tenders: [{ kind: "card", amount: card, reference: $("card-ref").value.trim() }]
            .concat(cash && Number(cash) > 0 ? [{ kind: "cash", amount: cash }] : []),
            idempotency_key: payKey }
        : { tendered: cash, idempotency_key: payKey };
      const sale = await api("POST", "/basket/pay", body);
      D.close("pay");
      $("change").textContent = Number(sale.payable) < 0
        ? T["ui.money_back"] + ": " + money(sale.payable.replace("-", "")) + " " + sale.currency
        : money(sale.change) + " " + sale.currency;
      $("receipt-no").textContent = T["ui.receipt"] + " #" + sale.receipt_no;
      lastSaleId = sale.sale_id;
      $("show-receipt").href = "/receipts/" + encodeURIComponent(sale.sale_id);
      $("device-warnings").hidden = true;
      D.open("done");
      setTimeout(() => checkSaleDevices(sale.sale_id), 1500);
      $("new-sale").focus();
      clearError();
      refreshBasket();
    } catch (e) { showError(e); }
  }

  function warn(list, text, code) {
    const li = document.createElement("li");
    li.textContent = text + ": " + (T[code] || code) + " ";
    const c = document.createElement("code");
    c.textContent = "[" + code + "]";
    li.appendChild(c);
    list.appendChild(li);
  }
  // After a sale: say so if the drawer did not open or the receipt is not printed yet.
  async function checkSaleDevices(saleId) {
    let d;
    try { d = await api("GET", "/sales/" + saleId + "/devices"); } catch (e) { return; }
    if (saleId !== lastSaleId) return;
    const list = $("device-warnings");
    list.replaceChildren();
    if (d.drawer && !d.drawer.ok) warn(list, T["ui.warn_drawer"], d.drawer.error || "DEVICE_ERROR");
    const job = (d.receipt || []).find((j) => j.copy_no === 0);
    if (job && job.state !== "done" && job.last_error) {
      warn(list, T["ui.warn_printer"], job.last_error.split(":")[0]);
    }
    list.hidden = list.children.length === 0;
  }
  async function reprint() {
    if (!lastSaleId) return;
    try { await api("POST", "/sales/" + lastSaleId + "/reprint"); clearError(); }
    catch (e) { showError(e); }
  }

  function showDevice(id, label, info, serviceUp) {
    const el = $(id);
    const state = !serviceUp ? "offline" : (info ? info.state : "unknown");
    el.dataset.state = state;
    el.textContent = label + ": " + (T["state." + state] || state);
    el.title = info && info.detail ? info.detail : (serviceUp ? "" : T["ui.service_down"]);
  }

  // what waits for the hub, as an owner reads it: sales, then every event if there are others
  function backlog(s) {
    const sales = s.queued_sales === undefined ? s.queued : s.queued_sales;
    let text = sales === 1 ? T["ui.sale_waiting"] : T["ui.sales_waiting"].replace("{n}", sales);
    if (s.queued !== sales) text += " (" + T["ui.events_waiting"].replace("{n}", s.queued) + ")";
    return text;
  }

  // the risk mode head office set (FR-701): a banner with its reason, expiry and what it means
  const RISK_TITLES = { WARN: "ui.risk_warn", READ_ONLY: "ui.risk_read_only", BLOCK: "ui.risk_blocked" };
  function showRisk(risk) {
    const el = $("risk");
    if (!risk) { el.hidden = true; el.dataset.mode = "NORMAL"; return; }
    el.dataset.mode = risk.mode;
    el.replaceChildren();
    const title = document.createElement("strong");
    title.textContent = T[RISK_TITLES[risk.mode]] || risk.mode;
    el.appendChild(title);
    let text = " " + (T["ui.risk_text_" + risk.mode] || "");
    if (risk.reason) text += " " + T["ui.risk_reason"] + ": " + risk.reason + ".";
    if (risk.expires_at) text += " " + T["ui.risk_until"] + " " + new Date(risk.expires_at).toLocaleString();
    if (!risk.enforced && risk.mode !== "WARN") text += " " + T["ui.risk_not_enforced"];
    el.appendChild(document.createTextNode(text));
    const code = document.createElement("code");
    code.textContent = " [" + (risk.reason_code || risk.mode) + "]";
    el.appendChild(code);
    el.hidden = false;
  }

  // events the hub knowingly refused and nobody settled yet: kept on the box, never
  // delivered; the owner must see them (the banner clears once head office resolves them or
  // a supervisor acknowledges them here: till_ops.js)
  let refusedEvents = [];
  function showRefused(s) {
    const n = s.refused || 0;
    refusedEvents = n ? (s.refused_events || []) : [];
    $("refused").hidden = n === 0;
    $("refused-ack").hidden = n === 0 || $("till").hidden;
    if (n === 0) return;
    let head = n === 1 ? T["ui.refused_one"] : T["ui.refused_many"].replace("{n}", n);
    const sales = s.refused_sales || 0;
    if (sales) head += " · " + (sales === 1 ? T["ui.refused_sale"]
      : T["ui.refused_sales"].replace("{n}", sales));
    const latest = refusedEvents[0] || {};
    const reason = latest.reason || "INGEST_FAILED";
    const text = (T[reason] || latest.message || reason) + " [" + reason + "]";
    $("refused-head").textContent = head;
    $("refused-hint").textContent = T["ui.refused_hint"].replace("{reason}", text);
  }

  async function pollStatus() {
    try {
      const s = await api("GET", "/status");
      const el = $("sync");
      el.className = "sync " + (s.online ? "online" : "offline");
      el.textContent = s.online ? T["ui.online"] : T["ui.offline"] + " · " + backlog(s);
      showRefused(s);
      const dev = s.devices || {};
      showDevice("dev-printer", T["ui.printer"], dev.printer, dev.service);
      showDevice("dev-drawer", T["ui.drawer"], dev.drawer, dev.service);
      showRisk(s.risk);
    } catch (e) {
      $("sync").className = "sync offline";
      $("sync").textContent = T["ui.offline"];
    }
  }

  $("pin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await api("POST", "/auth/pin", { pin: $("pin").value });
      clearError(); showTill(r.staff);
    } catch (e) { showError(e); $("pin").value = ""; $("pin").focus(); }
  });
  document.querySelectorAll("[data-digit]").forEach((b) =>
    b.addEventListener("click", () => { $("pin").value += b.dataset.digit; $("pin").focus(); }));
  $("pin-clear").addEventListener("click", () => { $("pin").value = ""; $("pin").focus(); });
  $("scan-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const code = $("scan").value.trim();
    $("scan").value = "";
    if (code) addLine(code);
  });
  $("pay-open").addEventListener("click", () => openPay(false));
  $("pay-form").addEventListener("submit", (ev) => { ev.preventDefault(); pay(); });
  $("pay-cancel").addEventListener("click", closePay);
  $("new-sale").addEventListener("click", () => D.close("done"));
  $("weigh-form").addEventListener("submit", (ev) => { ev.preventDefault(); submitWeight(false); });
  $("weigh-scale-read").addEventListener("click", () => submitWeight(true));
  $("weigh-cancel").addEventListener("click", () => D.close("weigh"));
  D.onClose("weigh", () => { weighing = null; });
  D.afterClose(() => setTimeout(focusScan, 0));  // after the dialog handed focus back
  $("reprint").addEventListener("click", reprint);
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/auth/logout"); } catch (e) { showError(e); }
    showLogin();
  });
  document.addEventListener("keydown", (ev) => {
    if ($("till").hidden) return;  // Escape: dialogs.js closes the topmost dialog
    if (D.top()) {  // no till shortcut over an open dialog, and no browser F-key either
      if (/^F\d+$/.test(ev.key)) ev.preventDefault();
      return;
    }
    if (ev.key === "F9") { ev.preventDefault(); openPay(false); }
    else if (ev.key === "F4") { ev.preventDefault(); openPay(true); }
  });
  // keep the barcode field focused so a keyboard-wedge scanner always lands there
  document.addEventListener("click", (ev) => {
    if (!(ev.target instanceof HTMLInputElement)) setTimeout(focusScan, 0);
  });

  // till operations (till_ops.js) reuse these
  window.CashierScreen = {
    api, showError, clearError, render, refreshBasket, refreshShift, focusScan, newKey, T, D, money,
    parseAmount, pollStatus, refused: () => refusedEvents,
  };

  api("GET", "/auth/me").then((r) => showTill(r.staff)).catch(() => showLogin(true))
    .finally(() => { document.body.dataset.ready = "1"; });
  pollStatus();
  setInterval(pollStatus, 2000);
})();
