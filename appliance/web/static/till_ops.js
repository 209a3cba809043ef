// Till operations on the cashier screen: refund (receipt lookup), park/resume, shift open/close,
// X report, no-sale - each in one dialog, keyboard first (F6 F7 F8 F10 F11 F12, Esc cancels).
(function () {
  "use strict";
  const C = window.CashierScreen;
  if (!C) return;
  const T = C.T;
  const $ = (id) => document.getElementById(id);
  const REASONS = ["CUSTOMER_CHANGED_MIND", "DEFECTIVE", "DAMAGED_GOODS", "WRONG_ITEM",
    "PRICE_MATCH", "CUSTOMER_SATISFACTION", "CASHIER_ERROR", "CHANGE_REQUEST", "TILL_CHECK",
    "OTHER"];
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

  function open(title, okLabel, nodes, approval, onSubmit) {
    if ($("op").open || $("pay").open) return;
    $("op-title").textContent = title;
    $("op-ok").textContent = okLabel;
    $("op-body").replaceChildren(...nodes);
    $("op-approve").hidden = !approval;
    $("op-pin").value = "";
    $("op-reason").replaceChildren(...REASONS.map((r) => el("option", { value: r }, r)));
    submit = onSubmit;
    $("op").showModal();
    const first = $("op-body").querySelector("input") || $("op-ok");
    first.focus();
  }
  function close() {
    if ($("op").open) $("op").close();
    submit = null;
    setTimeout(C.focusScan, 0);  // after the dialog has handed focus back
  }

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
    table.append(el("tr")).append(el("th", {}, "#"), el("th", {}, T["ui.item"]),
      el("th", {}, T["ui.line_total"]), el("th", {}, T["ui.qty"]));
    for (const line of sale.lines) {
      const row = table.appendChild(el("tr"));
      const qty = el("input", { "data-line": line.line_no, value: "0", inputmode: "decimal",
        max: line.refundable_qty, "aria-label": T["ui.qty"] + " " + line.name });
      row.append(el("td", {}, line.line_no), el("td", {}, line.name),
        el("td", {}, line.line_total), el("td")).lastChild.append(qty);
    }
    return table;
  }

  function openRefund() {
    const out = el("div", { id: "refund-lines" });
    const code = field("refund-code", T["ui.receipt_code"], { maxlength: "64" });
    const find = el("button", { type: "button", class: "btn" }, T["ui.lookup"]);
    const noReceipt = field("refund-product", T["ui.no_receipt"] + " - " + T["ui.product_id"], {});
    const tender = el("select", { id: "refund-tender" });
    tender.append(el("option", { value: "cash" }, "cash"), el("option", { value: "card" }, "card"));
    const cardRef = field("refund-card-ref", T["ui.card_ref"], { maxlength: "64" });
    const lookup = () => find.click();
    code[1].addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") { ev.preventDefault(); lookup(); }
    });
    code[1].addEventListener("scanned", lookup);
    find.addEventListener("click", async () => {
      try {
        out.replaceChildren(refundLines(await C.api("GET", "/refunds/lookup?code=" +
          encodeURIComponent($("refund-code").value.trim()))));
        C.clearError();
      } catch (e) { C.showError(e); }
    });
    open(T["ui.refund"], T["ui.refund_confirm"],
      [...code, find, out, ...noReceipt, el("label", { for: "refund-tender" }, "Tender"), tender,
        ...cardRef], true, doRefund);
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
    window.alert(T["ui.refund"] + " #" + doc.receipt_no + ": " + doc.payable + " " + doc.currency);
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
    open(T["ui.resume"], T["ui.close"], buttons.length ? buttons : [el("p", {}, "-")], false,
      async () => close());
  }

  async function openShift() {
    let shift;
    try { shift = (await C.api("GET", "/shifts/current")).shift; } catch (e) { C.showError(e); return; }
    if (!shift) {
      open(T["ui.shift"], T["ui.open_shift"],
        field("shift-float", T["ui.opening_float"], { inputmode: "decimal", value: "0.00" }), false,
        async () => {
          await C.api("POST", "/shifts", { opening_float: $("shift-float").value.trim() });
          close();
        });
      return;
    }
    open(T["ui.shift"], T["ui.close_shift"],
      [...field("count-cash", T["ui.counted_cash"], { inputmode: "decimal" }),
        ...field("count-card", T["ui.counted_card"], { inputmode: "decimal", value: "0.00" })],
      false, async () => {
        const z = await C.api("POST", "/shifts/current/close", { counted: {
          cash: $("count-cash").value.trim() || "0", card: $("count-card").value.trim() || "0" } });
        close();
        window.alert(T["ui.z_closed"] + " #" + z.z_no);
      });
  }

  async function openX() {
    let x;
    try { x = await C.api("GET", "/shifts/current/x"); } catch (e) { C.showError(e); return; }
    const table = el("table");
    for (const [k, v] of Object.entries(x.cash)) {
      table.appendChild(el("tr")).append(el("th", {}, k.replace(/_/g, " ")), el("td", {}, v));
    }
    for (const t of x.tenders) {
      table.appendChild(el("tr")).append(el("th", {}, t.kind + " " + T["ui.expected"]),
        el("td", {}, t.expected));
    }
    open(T["ui.x_report"], T["ui.print"], [table], false, async () => {
      await C.api("POST", "/shifts/current/x/print"); close();
    });
  }

  function openNoSale() {
    open(T["ui.no_sale"], T["ui.no_sale"], [], true, async () => {
      await C.api("POST", "/drawer/no-sale", await approval("no_sale"));
      close();
    });
  }

  const OPS = { refund: openRefund, suspend: openSuspend, resume: openResume, shift: openShift,
    x: openX, nosale: openNoSale };
  const KEYS = { F6: "refund", F7: "suspend", F8: "resume", F10: "shift", F11: "x", F12: "nosale" };
  document.querySelectorAll("[data-op]").forEach((b) =>
    b.addEventListener("click", () => OPS[b.dataset.op]()));
  $("op-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!submit) return;
    try { await submit(); C.clearError(); } catch (e) { C.showError(e); }
  });
  $("op-cancel").addEventListener("click", close);
  $("op").addEventListener("cancel", (ev) => { ev.preventDefault(); close(); });
  document.addEventListener("keydown", (ev) => {
    if ($("till").hidden || !KEYS[ev.key]) return;
    ev.preventDefault();
    OPS[KEYS[ev.key]]();
  });
})();
