// Customers and points at the till (FR-400, FR-401), keyboard first:
// F2 opens the customer dialog (scan or type a card + Enter; search by name/phone through the
// hub; enrol with the card handed out), F3 the points dialog (Enter redeems the points shown).
// The box answers every question; this page only shows what it says.
(function () {
  "use strict";
  const C = window.CashierScreen;
  const T = C.T, D = C.D;
  const $ = (id) => document.getElementById(id);
  let panel = null;

  const money = C.money;
  function text(key, n) { return (T[key] || key).replace("{n}", money(String(n))); }

  function show(p) {
    panel = p;
    const box = $("loyalty");
    const cust = p && p.customer;
    box.hidden = !cust;
    if (!cust) return;
    $("loy-name").textContent = T["ui.loy.customer"] + ": " + cust.name;
    $("loy-card").textContent = cust.card_tail ? T["ui.loy.card_tail"] + " …" + cust.card_tail : "";
    $("loy-tier").textContent = cust.tier ? T["ui.loy.tier"] + " " + cust.tier : "";
    $("loy-balance").textContent = text("ui.loy.pts", cust.balance);
    $("loy-earn-wrap").hidden = !p.enabled;
    $("loy-earn").textContent = text("ui.loy.pts", p.earn_preview || 0);
    $("loy-redeem-wrap").hidden = !p.redeem_points;
    $("loy-redeem").textContent = text("ui.loy.pts", p.redeem_points) + " (−" + money(p.redeem_value) + ")";
    const problem = p.redeem_problem;
    $("loy-problem").textContent = problem ? (T[problem] || problem) + " [" + problem + "]" : "";
  }
  async function refresh() {
    try { show(await C.api("GET", "/basket/loyalty")); } catch (e) { /* shown by the basket */ }
  }
  document.addEventListener("basket", refresh);
  // a card scanned (or typed) into the barcode field: attach its holder if the box knows it
  C.tryCard = async (code) => {
    if (!/^\d{8,20}$/.test(code)) return false;
    try {
      show(await C.api("POST", "/basket/customer/card", { card: code }));
      C.clearError();
      return true;
    } catch (e) { return false; }  // not a card either: the barcode error stands
  };
  C.due = () => (panel && panel.customer && panel.redeem_points ? panel.to_pay : null);

  // --- customer dialog -------------------------------------------------------------------
  function openCustomer() {
    if ($("till").hidden || D.top()) return;
    $("cust-card").value = ""; $("cust-query").value = "";
    $("enrol-card").value = ""; $("enrol-name").value = "";
    $("cust-results").replaceChildren();
    D.open("cust");
    $("cust-card").focus();
  }
  async function attached(p) {
    show(p);
    D.close("cust");
    C.clearError();
  }
  async function attachCard() {
    const card = $("cust-card").value.trim();
    if (!card) return;
    try { await attached(await C.api("POST", "/basket/customer/card", { card })); }
    catch (e) { C.showError(e); $("cust-card").select(); }
  }
  function result(item) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button"; b.className = "btn";
    b.textContent = item.display_name + (item.card ? "  …" + item.card.slice(-4) : "") +
      (item.tier ? "  " + item.tier : "") + "  · " + text("ui.loy.pts", item.balance);
    b.addEventListener("click", async () => {
      try {
        await attached(await C.api("POST", "/basket/customer/attach",
          { customer_id: item.customer_id }));
      } catch (e) { C.showError(e); }
    });
    li.append(b);
    return li;
  }
  async function search() {
    const query = $("cust-query").value.trim();
    const list = $("cust-results");
    list.replaceChildren();
    if (!query) return;
    try {
      const r = await C.api("POST", "/customers/search", { query });
      C.clearError();
      if (!r.items.length) {
        const li = document.createElement("li");
        li.textContent = T["ui.loy.none_found"];
        list.append(li);
        return;
      }
      r.items.forEach((i) => list.append(result(i)));
      list.querySelector("button").focus();  // Enter attaches the first, arrows/Tab move
    } catch (e) {
      C.showError(e);  // offline: HUB_REQUIRED says to scan or type the card instead
      if (e.reason === "HUB_REQUIRED") $("cust-card").focus();
    }
  }
  async function enrol() {
    const body = { card: $("enrol-card").value.trim(), display_name: $("enrol-name").value };
    try {
      const r = await C.api("POST", "/customers", body);
      await attached(r.panel);
      D.inform(T["ui.loy.enrolled"], r.customer.display_name + " · …" + r.customer.card.slice(-4));
    } catch (e) { C.showError(e); }
  }
  async function removeCustomer() {
    try { show(await C.api("DELETE", "/basket/customer")); D.close("cust"); }
    catch (e) { C.showError(e); }
  }

  // --- points dialog ---------------------------------------------------------------------
  function openRedeem() {
    if ($("till").hidden || D.top()) return;
    if (!panel || !panel.customer) { C.showError({ reason: "NO_CUSTOMER" }); return; }
    if (!panel.enabled) { C.showError({ reason: "LOYALTY_DISABLED" }); return; }
    $("redeem-facts").textContent =
      T["ui.loy.balance"] + ": " + text("ui.loy.pts", panel.customer.balance) + " · " +
      T["ui.loy.max"] + ": " + text("ui.loy.pts", panel.max_points) +
      (panel.offline ? " · " + T["ui.offline"] : "");
    $("redeem-points").value = panel.redeem_points || panel.max_points || "";
    D.open("redeem");
    $("redeem-points").select();
  }
  async function redeem(points) {
    if (!/^\d{1,9}$/.test(String(points))) { C.showError({ reason: "INVALID_POINTS" }); return; }
    try {
      show(await C.api("POST", "/basket/redeem", { points: Number(points) }));
      D.close("redeem");
      C.clearError();
    } catch (e) { C.showError(e); }
  }

  $("cust-open").addEventListener("click", openCustomer);
  $("redeem-open").addEventListener("click", openRedeem);
  $("cust-card-form").addEventListener("submit", (ev) => { ev.preventDefault(); attachCard(); });
  $("cust-card").addEventListener("scanned", attachCard);
  $("cust-search-form").addEventListener("submit", (ev) => { ev.preventDefault(); search(); });
  $("cust-enrol-form").addEventListener("submit", (ev) => { ev.preventDefault(); enrol(); });
  $("cust-remove").addEventListener("click", removeCustomer);
  $("cust-cancel").addEventListener("click", () => D.close("cust"));
  $("redeem-form").addEventListener("submit", (ev) => {
    ev.preventDefault(); redeem($("redeem-points").value.trim());
  });
  $("redeem-none").addEventListener("click", () => redeem(0));
  $("redeem-cancel").addEventListener("click", () => D.close("redeem"));
  document.addEventListener("keydown", (ev) => {
    if ($("till").hidden || D.top()) return;
    if (ev.key === "F2") { ev.preventDefault(); openCustomer(); }
    else if (ev.key === "F3") { ev.preventDefault(); openRedeem(); }
  });
})();
