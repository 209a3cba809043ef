// Hardware page: live device table, test print and no-sale drawer (supervisor/manager).
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("messages").textContent);
  const $ = (id) => document.getElementById(id);

  async function api(method, path) {
    let res;
    try {
      res = await fetch("/api/v1" + path, { method, credentials: "same-origin" });
    } catch (e) {
      throw { reason: "NETWORK", message: String(e) };
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw data.error || { reason: "INTERNAL", message: res.statusText };
    return data;
  }

  function showError(err) {
    const box = $("error");
    const reason = err.reason || "INTERNAL";
    box.textContent = (T[reason] || err.message || reason) + " ";
    const code = document.createElement("code");
    code.textContent = "[" + reason + "]";
    box.appendChild(code);
    box.hidden = false;
  }

  // a device's last contact as the box's locale writes it, in the branch's zone (NFR-007;
  // the same pattern as the server's Babel "medium": 01.12.2026, 14:30:10)
  const clock = new Intl.DateTimeFormat(document.documentElement.lang || "en", {
    dateStyle: "medium", timeStyle: "medium",
    timeZone: document.querySelector("table.devices").dataset.zone || "UTC" });
  const when = (stamp) => (stamp ? clock.format(new Date(stamp)) : "");

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : text;
    if (cls) td.className = cls;
    return td;
  }
  function render(report) {
    const rows = report.devices.map((d) => {
      const tr = document.createElement("tr");
      tr.dataset.name = d.name; tr.dataset.state = d.state;
      const state = (T["state." + d.state] || d.state) + (d.detail ? " (" + d.detail + ")" : "");
      const path = document.createElement("td");
      const code = document.createElement("code"); code.textContent = d.path; path.append(code);
      tr.append(cell(T["ui." + d.name] || d.name), cell(d.kind), path, cell(state, "state"),
        cell(d.last_error), cell(when(d.last_seen)));
      return tr;
    });
    $("devices").replaceChildren(...rows);
    $("queue").textContent = report.print_queue;
    const svc = $("service");
    svc.dataset.state = report.service ? "online" : "offline";
    svc.textContent = report.service ? "" : T["ui.service_down"];
    svc.hidden = report.service;
  }
  async function refresh() {
    try { render(await api("GET", "/devices")); $("error").hidden = true; }
    catch (e) { showError(e); }
  }
  async function act(path, okText) {
    try { await api("POST", path); $("result").textContent = okText; $("error").hidden = true; }
    catch (e) { showError(e); $("result").textContent = ""; }
    refresh();
  }
  $("test-print").addEventListener("click", () => act("/devices/printer/test", T["ui.receipt_printing"]));
  $("kick").addEventListener("click", () => act("/devices/drawer/kick", T["ui.done"]));
  refresh();
  setInterval(refresh, 2000);
})();
