// Dialogs of the cashier screen: one stack, one Escape handler, errors inside the dialog.
// Escape closes the topmost open dialog, whichever it is (pay, weigh, change, refund, park,
// resume, shift, X report, no-sale, info); an error raised while a dialog is open is shown in
// that dialog's own error box (with its reason code), never behind it on the page.
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("messages").textContent);
  const $ = (id) => document.getElementById(id);
  const stack = [];  // ids of open dialogs, the topmost last
  const closers = {};  // dialog id -> what closing it must also do (reset state, refocus)
  let afterClose = () => {};

  function top() {
    for (let i = stack.length - 1; i >= 0; i -= 1) {
      const dlg = $(stack[i]);
      if (dlg && dlg.open) return dlg;
    }
    return null;
  }
  function forget(id) {
    const at = stack.lastIndexOf(id);
    if (at >= 0) stack.splice(at, 1);
  }
  function open(id) {
    const dlg = $(id);
    if (dlg.open) return;
    dlg.querySelectorAll(".dlg-error").forEach((b) => { b.hidden = true; });
    dlg.showModal();
    forget(id);
    stack.push(id);
  }
  function close(id) {
    const dlg = $(id);
    if (dlg.open) dlg.close();
    forget(id);
    if (closers[id]) closers[id]();
    const next = top();
    if (next) {
      const field = next.querySelector("input, select, button");
      if (field) field.focus();
    } else {
      afterClose();
    }
  }
  function onClose(id, fn) { closers[id] = fn; }

  function errorBox() {
    const dlg = top();
    return (dlg && dlg.querySelector(".dlg-error")) || $("error");
  }
  function showError(err) {
    const box = errorBox();
    const reason = err.reason || "INTERNAL";
    box.textContent = (T[reason] || err.message || reason) + " ";
    const code = document.createElement("code");
    code.textContent = "[" + reason + "]";
    box.appendChild(code);
    box.hidden = false;
  }
  function clearError() {
    document.querySelectorAll(".error").forEach((b) => { b.hidden = true; });
  }

  function inform(title, text) {
    $("info-title").textContent = title;
    $("info-text").textContent = text;
    open("info");
    $("info-ok").focus();
  }

  document.querySelectorAll("dialog").forEach((dlg) => {
    // the browser's own cancel (e.g. a close request) goes the same way as Escape
    dlg.addEventListener("cancel", (ev) => { ev.preventDefault(); close(dlg.id); });
  });
  $("info-ok").addEventListener("click", () => close("info"));
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape") return;
    ev.preventDefault();
    const dlg = top();
    if (dlg) close(dlg.id);
    else clearError();
  });

  window.TillDialogs = {
    top, open, close, onClose, showError, clearError, inform,
    afterClose: (fn) => { afterClose = fn; },
  };
})();
