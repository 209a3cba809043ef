// Till operations on the cashier screen: refund (receipt lookup), exchange (items of a receipt
// back into the basket), park/resume, shift open/close, X report, no-sale, bank deposit - each
// in one dialog, keyboard first (F6 Shift+F6 F7 F8 F10 F11 F12 Shift+F12; Esc cancels,
// dialogs.js). Errors show inside the dialog that raised them, with their reason code.
(function () {
  "use strict";
  const C = window.CashierScreen;
  if (!C) return;
  const T = C.T;
  const D = C.D;
  const $ = (id) => document.getElementById(id);
  const REASONS = ["CUSTOMER_CHANGED_MIND", "DEFECTIVE", "DAMAGED_GOODS", "WRONG_ITEM",
    "PRICE_MATCH", "CUSTOMER_SATISFACTION", "CASHIER_ERROR", "CHANGE_REQUEST", "TILL_CHECK",
    "BANK_DEPOSIT", "OTHER"];
  const CASH_ROWS = ["opening_float", "cash_sales", "cash_refunds", "change_given", "paid_outs",
    "drops", "deposits", "cash_rounding", "expected"];
  let submit = null;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function field(id, label, attrs) {
    return [el("label", { for: id }, label), el("input", Object.assign({ id, class: "scan" }, attrs))];
  }
  function row(...cells) {
    const tr = el("tr");
    tr.append(...cells);
    return tr;
  }
  const fmt = (key, values) =>
    Object.entries(values).reduce((s, [k, v]) => s.replace("{" + k + "}", v), T[key] || key);

  function open(title, okLabel, nodes, approval, onSubmit) {
    if (D.top()) return;
    $("op-title").textContent = title;
    $("op-ok").textContent = okLabel;
    $("op-body").replaceChildren(...nodes);
    $("op-approve").hidden = !approval;
    $("op-pin").value = "";
    $("op-reason").replaceChildren(...REASONS.map((r) =>
      el("option", { value: r }, T["ui.reason." + r] || r)));
    submit = onSubmit;
    D.open("op");
    const first = $("op-body").querySelector("input, select, button") ||
      (approval ? $("op-pin") : $("op-ok"));
    first.focus();
  }
  function close() { D.close("op"); }
  D.onClose("op", () => { submit = null; });

  // A supervisor's PIN gives a single-use token; without a PIN the reason is sent as is
  // (supervisors and managers approve their own actions).
  async function approval(action) {
    const pin = $("op-pin").value.trim();
    const reason = $("op-reason").value;
    if (!pin) return { reason_code: reason };
    const grant = await C.api("POST", "/overrides", { action, reason_code: reason, pin });
    return { override_token: grant.token };
  }

  function refundLines(sale) {
    const table = el("table");
    table.append(row(el("th", {}, "#"), el("th", {}, T["ui.item"]),
      el("th", {}, T["ui.line_total"]), el("th", {}, T["ui.qty"])));
    for (const line of sale.lines) {
      const qty = el("input", { "data-line": line.line_no, value: "0", inputmode: "decimal",
        max: line.refundable_qty, "aria-label": T["ui.qty"] + " " + line.name });
      const cell = el("td");
      cell.append(qty);
      table.append(row(el("td", {}, line.line_no), el("td", {}, line.name),
        el("td", {}, C.money(line.line_total)), cell));
    }
    return table;
  }

  function openRefund() {
    const out = el("div", { id: "refund-lines" });
    const code = field("refund-code", T["ui.receipt_code"], { maxlength: "64" });
    const find = el("button", { type: "button", class: "btn", id: "refund-find" }, T["ui.lookup"]);
    const noReceipt = field("refund-product", T["ui.no_receipt"] + " - " + T["ui.product_id"], {});
    const tender = el("select", { id: "refund-tender" });
    tender.append(el("option", { value: "cash" }, T["ui.tender.cash"]),
      el("option", { value: "card" }, T["ui.tender.card"]));
    const cardRef = field("refund-card-ref", T["ui.card_ref"], { maxlength: "64" });
    code[1].addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") { ev.preventDefault(); find.click(); }
    });
    code[1].addEventListener("scanned", () => find.click());
    find.addEventListener("click", async () => {
      try {
        const sale = await C.api("GET", "/refunds/lookup?code=" +
          encodeURIComponent($("refund-code").value.trim()));
        out.replaceChildren(refundLines(sale));
        C.clearError();
        const first = out.querySelector("input");
        if (first) first.select();
      } catch (e) { out.replaceChildren(); C.showError(e); }
    });
    open(T["ui.refund"], T["ui.refund_confirm"],
      [...code, find, out, ...noReceipt, el("label", { for: "refund-tender" }, T["ui.tender"]),
        tender, ...cardRef], true, doRefund);
  }
  async function doRefund() {
    const receipt = $("refund-code").value.trim();
    const lines = Array.from(document.querySelectorAll("#refund-lines input"))
      .filter((i) => Number(i.value) > 0)
      .map((i) => ({ line_no: Number(i.dataset.line), qty: i.value.trim() }));
    const product = $("refund-product").value.trim();
    const body = receipt
      ? { receipt, lines }
      : { products: [{ product_id: product, qty: "1" }] };
    const tender = $("refund-tender").value;
    Object.assign(body, { tender, idempotency_key: C.newKey() },
      await approval(receipt ? "refund" : "refund_no_receipt"));
    if (tender === "card") body.card_reference = $("refund-card-ref").value.trim();
    const doc = await C.api("POST", "/refunds", body);
    close();
    const back = doc.loyalty && doc.loyalty.points_returned;  // redeemed points come back
    D.inform(T["ui.refund"], fmt("ui.refund_done",
      { no: doc.receipt_no, amount: C.money(doc.payable), currency: doc.currency }) +
      (back ? " " + T["ui.loy.points_back"].replace("{n}", C.money(String(back))) : ""));
  }

  // Exchange: items of an earlier receipt come back into the open basket (approved like a
  // refund); the cashier then scans what the customer takes instead and pays the net (F9).
  function openExchange() {
    const out = el("div", { id: "exchange-lines" });
    const code = field("exchange-code", T["ui.receipt_code"], { maxlength: "64" });
    const find = el("button", { type: "button", class: "btn", id: "exchange-find" }, T["ui.lookup"]);
    const lookup = async () => {
      try {
        const sale = await C.api("GET", "/refunds/lookup?code=" +
          encodeURIComponent($("exchange-code").value.trim()));
        out.replaceChildren(refundLines(sale));
        C.clearError();
        const first = out.querySelector("input");
        if (first) first.select();
      } catch (e) { out.replaceChildren(); C.showError(e); }
    };
    code[1].addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") { ev.preventDefault(); lookup(); }
    });
    code[1].addEventListener("scanned", lookup);
    find.addEventListener("click", lookup);
    open(T["ui.exchange"], T["ui.exchange_confirm"], [...code, find, out], true, async () => {
      const lines = Array.from(document.querySelectorAll("#exchange-lines input"))
        .filter((i) => Number(i.value) > 0)
        .map((i) => ({ line_no: Number(i.dataset.line), qty: i.value.trim() }));
      const body = Object.assign({ receipt: $("exchange-code").value.trim(), lines },
        await approval("refund"));
      C.render(await C.api("POST", "/basket/returns", body));
      close();
    });
  }

  function openSuspend() {
    open(T["ui.suspend"], T["ui.suspend"], field("park-label", T["ui.label"], { maxlength: "60" }),
      false, async () => {
        await C.api("POST", "/basket/suspend", { label: $("park-label").value.trim() });
        close(); C.refreshBasket();
      });
  }

  async function openResume() {
    let list;
    try { list = (await C.api("GET", "/basket/suspended")).suspended; } catch (e) { C.showError(e); return; }
    const buttons = list.map((p) => {
      const b = el("button", { type: "button", class: "btn big" },
        p.label + " (" + p.lines + ") " + p.suspended_at.slice(11, 16));
      b.addEventListener("click", async () => {
        try { await C.api("POST", "/basket/suspended/" + p.id + "/resume"); close(); C.refreshBasket(); }
        catch (e) { C.showError(e); }
      });
      return b;
    });
    open(T["ui.resume"], T["ui.close"], buttons.length ? buttons : [el("p", {}, T["ui.parked_none"])],
      false, async () => close());
  }

  async function openShift() {
    let shift;
    try { shift = (await C.api("GET", "/shifts/current")).shift; } catch (e) { C.showError(e); return; }
    if (!shift) {
      open(T["ui.shift"], T["ui.open_shift"],
        field("shift-float", T["ui.opening_float"],
          { inputmode: "decimal", value: C.money("0.00") }), false,
        async () => {
          await C.api("POST", "/shifts",
            { opening_float: C.parseAmount($("shift-float").value.trim()) });
          close(); C.refreshShift();
        });
      return;
    }
    open(T["ui.shift"], T["ui.close_shift"],
      [...field("count-cash", T["ui.counted_cash"], { inputmode: "decimal" }),
        ...field("count-card", T["ui.counted_card"], { inputmode: "decimal", value: C.money("0.00") })],
      false, async () => {
        const z = await C.api("POST", "/shifts/current/close", { counted: {
          cash: C.parseAmount($("count-cash").value.trim()) || "0",
          card: C.parseAmount($("count-card").value.trim()) || "0" } });
        close(); C.refreshShift();
        D.inform(T["ui.shift"], T["ui.z_closed"] + " #" + z.z_no);
      });
  }

  // The X report as the API returns it, every figure under its label (no raw keys).
  function xTable(caption, rows) {
    const table = el("table", { class: "report" });
    table.append(el("caption", {}, caption), ...rows);
    return table;
  }
  const money = (v) => el("td", { class: "num" }, C.money(v));  // the locale's signs
  function xReport(x) {
    const cash = CASH_ROWS.filter((k) => k in x.cash)
      .map((k) => row(el("th", { scope: "row" }, T["ui.x." + k]), money(x.cash[k])));
    const tenders = x.tenders.map((t) =>
      row(el("th", { scope: "row" }, T["ui.tender." + t.kind] || t.kind), money(t.expected)));
    const activity = ["sales", "refunds", "voids"].map((k) => row(el("th", { scope: "row" },
      T["ui.x." + k]), el("td", { class: "num" }, String(x[k].count)), money(x[k].total)));
    activity.push(row(el("th", { scope: "row" }, T["ui.x.no_sale_opens"]),
      el("td", { class: "num" }, String(x.no_sale_opens)), el("td")));
    activity.push(row(el("th", { scope: "row" }, T["ui.x.overrides"]),
      el("td", { class: "num" }, String(x.overrides)), el("td")));
    // sales the hub refused (kept on the box, not booked at head office): always shown
    const refused = row(el("th", { scope: "row" }, T["ui.x.refused_sales"]),
      el("td", { class: "num" }, String(x.refused_sales || 0)), el("td"));
    if (x.refused_sales) refused.classList.add("alert");
    activity.push(refused);
    activity.push(row(el("th", { scope: "row" }, T["ui.x.net_total"]), el("td"),
      money(x.net_total)));
    const percent = (rate) => String(Math.round(Number(rate) * 10000) / 100) + " %";
    const tax = x.tax.map((t) => row(el("th", { scope: "row" }, t.tax_class + " " + percent(t.rate)),
      money(t.net), money(t.tax), money(t.gross)));
    tax.unshift(row(el("th", {}, T["ui.x.tax_class"]), el("th", {}, T["ui.x.net"]),
      el("th", {}, T["ui.x.tax_amount"]), el("th", {}, T["ui.x.gross"])));
    const nodes = [xTable(T["ui.x.drawer"], cash), xTable(T["ui.x.tenders"], tenders),
      xTable(T["ui.x.activity"], activity), xTable(T["ui.x.tax"], tax)];
    if (x.shift_kind === "day") nodes.unshift(el("p", { class: "hint" }, T["ui.x.day_shift"]));
    return nodes;
  }

  async function openX() {
    let x;
    try { x = await C.api("GET", "/shifts/current/x"); } catch (e) { C.showError(e); return; }
    const body = el("div", { id: "x-report", class: "x-report" });
    body.append(...xReport(x));
    open(T["ui.x_report"], T["ui.print"], [body], false, async () => {
      await C.api("POST", "/shifts/current/x/print"); close();
    });
  }

  function openNoSale() {
    open(T["ui.no_sale"], T["ui.no_sale"], [], true, async () => {
      await C.api("POST", "/drawer/no-sale", await approval("no_sale"));
      close();
    });
  }

  // Bank deposit: cash from the drawer (or, with no shift open, the safe) to the bank with its
  // slip / bag number; a cashier needs a supervisor's PIN (the reason is preset)
  function openDeposit() {
    open(T["ui.deposit.title"], T["ui.deposit.ok"],
      [...field("deposit-amount", T["ui.deposit.amount"], { inputmode: "decimal" }),
        ...field("deposit-slip", T["ui.deposit.slip"], { maxlength: "32" }),
        ...field("deposit-note", T["ui.deposit.note"], { maxlength: "200" })],
      true, async () => {
        const body = Object.assign({
          amount: C.parseAmount($("deposit-amount").value.trim()),
          slip_no: $("deposit-slip").value.trim(),
          note: $("deposit-note").value.trim(),
        }, await approval("bank_deposit"));
        const done = await C.api("POST", "/drawer/bank-deposits", body);
        close();
        D.inform(T["ui.deposit.title"], fmt("ui.deposit.done",
          { amount: C.money(done.amount), currency: done.currency, slip: done.slip_no }));
      });
    $("op-reason").value = "BANK_DEPOSIT";
  }

  // A refused event acknowledged here by a supervisor/manager (the box refuses anyone else:
  // FORBIDDEN_ROLE, shown in the dialog); kept on the box, never delivered
  function openRefusedAck() {
    const events = C.refused();
    if (!events.length) return;
    const pick = el("select", { id: "refused-pick" });
    pick.append(...events.map((e) => el("option", { value: String(e.seq) }, fmt("ui.refused_event",
      { seq: e.seq, type: e.type, reason: e.reason }))));
    open(T["ui.refused_ack_title"], T["ui.refused_ack_ok"],
      [el("p", { class: "hint" }, T["ui.refused_ack_hint"]),
        el("label", { for: "refused-pick" }, T["ui.refused_ack_pick"]), pick,
        ...field("refused-note", T["ui.refused_ack_note"], { maxlength: "200" })],
      false, async () => {
        await C.api("POST", "/sync/refused/" + pick.value + "/acknowledge",
          { note: $("refused-note").value.trim() });
        close();
        await C.pollStatus();
        D.inform(T["ui.refused_ack_title"], T["ui.refused_ack_done"]);
      });
  }
  $("refused-ack").addEventListener("click", openRefusedAck);

  const OPS = { refund: openRefund, exchange: openExchange, suspend: openSuspend, resume: openResume, shift: openShift,
    x: openX, nosale: openNoSale, deposit: openDeposit };
  const KEYS = { F6: "refund", F7: "suspend", F8: "resume", F10: "shift", F11: "x", F12: "nosale" };
  document.querySelectorAll("[data-op]").forEach((b) =>
    b.addEventListener("click", () => OPS[b.dataset.op]()));
  $("op-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!submit) return;
    try { await submit(); C.clearError(); } catch (e) { C.showError(e); }
  });
  $("op-cancel").addEventListener("click", close);
  document.addEventListener("keydown", (ev) => {
    const SHIFTED = { F6: "exchange", F12: "deposit" };
    const op = ev.shiftKey ? SHIFTED[ev.key] : KEYS[ev.key];
    if ($("till").hidden || !op) return;
    ev.preventDefault();
    if (!D.top()) OPS[op]();
  });
})();
