"""Driving the cashier screen in Chromium like a cashier (keyboard), and checking what they see:
text contrast (WCAG AA, computed colours) and touch targets (ui_guidelines.md, >= 44 px)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scripts.demo import Stack
from scripts.demo_smoke import BoxClient, login_of

VIEWPORT = {"width": 1280, "height": 900}
BANANAS = "2000001000014"  # the demo's loose bananas (1.49 / kg) by their plain GTIN
MIN_CONTRAST = 4.5
MIN_TARGET_PX = 44

# Every element with its own text: its colour over the backgrounds it sits on, composited.
CONTRAST_JS = """
(root) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a), a: 1 });
  const lum = (c) => {
    const ch = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
  };
  const background = (el) => {
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.unshift(e);
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (const e of chain) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) bg = over(c, bg);
    }
    return bg;
  };
  const out = [];
  const scope = root ? document.querySelector(root) : document.body;
  for (const el of scope.querySelectorAll("*")) {
    const own = Array.from(el.childNodes).some(
      (n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest("[hidden], .sr-only, script, style, title")) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === "hidden") continue;
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    out.push({ text: el.textContent.trim().slice(0, 40), tag: el.tagName, id: el.id,
               ratio: (hi + 0.05) / (lo + 0.05), color: style.color,
               background: `rgb(${Math.round(bg.r)}, ${Math.round(bg.g)}, ${Math.round(bg.b)})` });
  }
  return out;
}
"""

TARGETS_JS = """
(root) => {
  const scope = root ? document.querySelector(root) : document.body;
  return Array.from(scope.querySelectorAll("button, a[href], input, select, textarea"))
    .filter((el) => !el.closest("[hidden], .sr-only") && el.type !== "hidden")
    .map((el) => ({ el, box: el.getBoundingClientRect() }))
    .filter(({ box }) => box.width > 0 && box.height > 0)
    .map(({ el, box }) => ({ id: el.id, tag: el.tagName, text: (el.textContent || "").trim()
      .slice(0, 30), width: box.width, height: box.height }));
}
"""


def low_contrast(page: Any, root: str | None = None) -> list[dict[str, Any]]:
    """Texts below WCAG AA (4.5:1) on the page or inside `root`."""
    found: list[dict[str, Any]] = page.evaluate(CONTRAST_JS, root)
    return [t for t in found if t["ratio"] < MIN_CONTRAST]


def small_targets(page: Any, root: str | None = None) -> list[dict[str, Any]]:
    """Buttons, links and fields smaller than 44 x 44 px on the page or inside `root`."""
    found: list[dict[str, Any]] = page.evaluate(TARGETS_JS, root)
    return [t for t in found if t["width"] < MIN_TARGET_PX or t["height"] < MIN_TARGET_PX]


def check_view(page: Any, shots: Path, name: str, root: str | None = None) -> None:
    """Screenshot `name`, then assert its text contrast and touch targets."""
    page.screenshot(path=str(shots / f"{name}.png"))
    faint = low_contrast(page, root)
    assert not faint, f"{name}: text below 4.5:1: {faint}"
    small = small_targets(page, root)
    assert not small, f"{name}: touch targets below 44 px: {small}"


def cashier_api(stack: Stack, seed: dict[str, Any]) -> BoxClient:
    """The demo cashier over the API (same basket and shift as the page)."""
    box = BoxClient(stack.box_port)
    box.wait_for_master_data()
    box.login(login_of(seed, "CASHIER")["pin"])
    return box


def ready_till(stack: Stack, seed: dict[str, Any]) -> BoxClient:
    """The demo cashier over the API with the till's shift open and the basket empty."""
    box = cashier_api(stack, seed)
    box.ensure_shift()
    empty_basket(box)
    return box


def empty_basket(box: BoxClient) -> None:
    """Void whatever the cashier's basket holds (tests share the demo cashier)."""
    for line in box.call("GET", "/basket")["lines"]:
        if line["deposit_for_line"] is None:
            box.call("DELETE", f"/basket/lines/{line['line_no']}")


def close_shift(box: BoxClient) -> None:
    """Close the till's open shift, if any (blind, uncounted)."""
    if box.call("GET", "/shifts/current")["shift"]:
        box.call("POST", "/shifts/current/close", json={"counted": {}})


def open_till(browser: Any, stack: Stack, seed: dict[str, Any], role: str = "CASHIER") -> Any:
    """A new page with a demo login of `role` logged in by keyboard, the scan field focused."""
    page = browser.new_page(viewport=VIEWPORT)
    page.on("dialog", lambda d: d.accept())  # the age check's confirm()
    page.goto(f"http://127.0.0.1:{stack.box_port}/")
    page.wait_for_selector("body[data-ready='1']")
    page.keyboard.type(login_of(seed, role)["pin"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#till:not([hidden])")
    page.wait_for_function("document.activeElement.id === 'scan'")
    return page


def type_over(page: Any, text: str) -> None:
    """Replace what the focused field holds, by keyboard."""
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def scan(page: Any, code: str) -> None:
    """Type a barcode into the scan field and press Enter (what a wedge scanner does)."""
    page.wait_for_function("document.activeElement.id === 'scan'")
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def lines(page: Any, count: int) -> None:
    """Wait until the basket shows `count` lines."""
    page.wait_for_function(f"document.querySelectorAll('#lines tr').length === {count}")


def dialog_error(page: Any, dialog: str) -> str:
    """The error shown inside an open dialog (waits for it)."""
    box = f"#{dialog}[open] .dlg-error:not([hidden])"
    page.wait_for_selector(box)
    assert page.locator("#error").is_hidden(), "the error must not hide behind the dialog"
    return str(page.inner_text(box))


def closed_by_escape(page: Any, dialog: str) -> None:
    """Press Escape: the dialog closes and the scan field has the focus again."""
    page.keyboard.press("Escape")
    page.wait_for_selector(f"#{dialog}", state="hidden")
    page.wait_for_function("document.activeElement.id === 'scan'")
