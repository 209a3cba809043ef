"""What a page in one language must not show (NFR-007): words of the other language, raw
constants, ISO timestamps, amounts written with the wrong decimal sign.

`visible_text(page)` is what a reader sees and hears: the rendered text, the page title, the
labels screen readers read (aria-label, title, placeholder, alt) -- without what is marked
`translate="no"` (data: product and people's names, free-text reasons, alert summaries) and
without `<code>` (commands and examples). `leftovers(text, lang)` lists what gives the other
language away; a test fails on any.
"""

from __future__ import annotations

import re
from typing import Any

# English words of the interfaces (portal and till) that are no German words: none may show
# on a German page. Whole words, case-sensitive (German nouns are capitalised, so "Sales",
# "Total" or "Receipt" stand out; codes like NOT_FOUND are upper case and never match).
# "Online"/"Offline" are German too, and "Till" names a till in the demo data: not listed.
ENGLISH = [
    "Overview",
    "Sales",
    "Reports",
    "Products",
    "Inventory",
    "Customers",
    "Staff",
    "Boxes",
    "Reconciliation",
    "Promotions",
    "Fleet",
    "Alerts",
    "Incidents",
    "Risk",
    "Backups",
    "Releases",
    "Integrations",
    "Today",
    "Refunds",
    "Refunded",
    "Receipt",
    "Cashier",
    "Completed",
    "Branch",
    "Branches",
    "Previous",
    "Next",
    "Search",
    "Save",
    "Create",
    "Sign",
    "Username",
    "Password",
    "Total",
    "Tax",
    "Qty",
    "Price",
    "Share",
    "Points",
    "Tier",
    "Phone",
    "Card",
    "Role",
    "State",
    "Severity",
    "Reason",
    "Found",
    "Resolve",
    "Resolution",
    "Acknowledge",
    "Opened",
    "Expires",
    "Created",
    "Approved",
    "Kept",
    "Snapshot",
    "Chain",
    "Entries",
    "Scope",
    "Score",
    "Rules",
    "Events",
    "Attempts",
    "Replay",
    "Revoke",
    "Cash",
    "Change",
    "Tender",
    "Pay",
    "Cancel",
    "Scan",
    "Items",
    "Item",
    "Void",
    "Refund",
    "Customer",
    "Shift",
    "Drawer",
    "Printer",
    "Scanner",
    "Scale",
    "Back",
    "Print",
    "Done",
    "Expected",
    "Counted",
    "Difference",
    "Park",
    "Resume",
    "Enrol",
    "Supervisor",
    "Opening",
    "Closed",
    "Paid",
    "Drops",
    "Rounding",
    "Activity",
    "Count",
    "Amount",
    "Gross",
    "Running",
    "Grand",
    "Post-voids",
    "Week",
    "Hour",
    "Last",
    "Never",
    "Lines",
    "Line",
    "Log",
    "actions",
    "never",
    "queued",
    "waiting",
    "sales",
    "items",
    "page",
    "pages",
    "of",
    "the",
    "and",
    "with",
    "for",
    "from",
    "yet",
    "none",
    "active",
    "inactive",
    "cash",
    "card",
    "tender",
    "change",
    "receipt",
    "total",
    "today",
    "yes",
]
# German words the interfaces use: none may show on an English page.
GERMAN = [
    "Übersicht",
    "Verkäufe",
    "Berichte",
    "Artikel",
    "Bestand",
    "Kunden",
    "Personal",
    "Kassen",
    "Abgleich",
    "Aktionen",
    "Alarme",
    "Vorfälle",
    "Sicherungen",
    "Versionen",
    "Anbindungen",
    "Heute",
    "Erstattungen",
    "Erstattung",
    "Beleg",
    "Filiale",
    "Filialen",
    "Zurück",
    "Weiter",
    "Suchen",
    "Filtern",
    "Speichern",
    "Anlegen",
    "Anmelden",
    "Abmelden",
    "Benutzername",
    "Passwort",
    "Summe",
    "Steuer",
    "Menge",
    "Preis",
    "Anteil",
    "Punkte",
    "Stufe",
    "Karte",
    "Rolle",
    "Zustand",
    "Grund",
    "Bar",
    "Wechselgeld",
    "Rückgeld",
    "Zahlungsart",
    "Bezahlen",
    "Abbrechen",
    "Kasse",
    "Kassierer",
    "Schicht",
    "Lade",
    "Drucker",
    "Waage",
    "Verbunden",
    "Getrennt",
    "Fertig",
    "Gezählt",
    "Differenz",
    "Parken",
    "Fortsetzen",
    "Aufsicht",
    "Geöffnet",
    "Abgeschlossen",
    "Netto",
    "Brutto",
    "Vorgänge",
    "Stunde",
    "Zeilen",
    "Zeile",
    "nie",
    "keine",
    "aktiv",
    "inaktiv",
    "heute",
    "und",
    "der",
    "die",
    "das",
    "mit",
    "für",
    "von",
    "nicht",
    "noch",
    "Seite",
]
ISO_STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
RAW_CONSTANT = re.compile(r"(?<![\[\w])[A-Z]{2,}(?:_[A-Z]+)+(?![\]\w])")  # not in [CODE] form
POINT_AMOUNT = re.compile(r"(?<![\d.,])\d+\.\d\d(?![\d.])")  # 4.38: not how German writes it
COMMA_AMOUNT = re.compile(r"(?<![\d.,])\d+,\d\d(?![\d,])")  # 4,38: not how English writes it

TEXT_JS = """
() => {
  const root = document.body.cloneNode(true);
  root.querySelectorAll('[translate="no"], code, script, style, template, [hidden]')
    .forEach((n) => n.remove());
  // a select shows one option, but every option is read out and can be chosen
  const options = Array.from(root.querySelectorAll("option")).map((o) => o.textContent);
  const labels = Array.from(root.querySelectorAll("[aria-label], [title], [placeholder], [alt]"))
    .flatMap((n) => ["aria-label", "title", "placeholder", "alt"].map((a) => n.getAttribute(a)))
    .filter(Boolean);
  document.body.appendChild(root);
  root.style.position = "absolute"; root.style.left = "-99999px";
  const text = root.innerText;
  root.remove();
  return [document.title, text, ...options, ...labels].join("\\n");
}
"""


def visible_text(page: Any) -> str:
    """What a reader of the page sees or hears (data marked translate="no" left out)."""
    return str(page.evaluate(TEXT_JS))


def leftovers(text: str, lang: str, *, constants: bool = True, amounts: bool = True) -> list[str]:
    """What in `text` does not belong on a page in `lang` ("de" or "en")."""
    words = set(re.findall(r"[\wÄÖÜäöüß-]+", text))
    found = sorted(words & set(ENGLISH if lang == "de" else GERMAN))
    found += [f"ISO time {m}" for m in ISO_STAMP.findall(text)]
    if amounts:
        amount = POINT_AMOUNT if lang == "de" else COMMA_AMOUNT
        found += [f"amount {m}" for m in amount.findall(text)]
    if constants:
        found += [f"raw constant {m}" for m in RAW_CONSTANT.findall(text)]
    return found


def assert_language(
    page: Any, lang: str, where: str, *, constants: bool = True, amounts: bool = True
) -> None:
    """Fail with what `page` shows of the other language (and that <html lang> is `lang`)."""
    html_lang = page.evaluate("document.documentElement.lang")
    assert html_lang.split("-")[0] == lang, f"{where}: <html lang={html_lang!r}>"
    text = visible_text(page)
    bad = leftovers(text, lang, constants=constants, amounts=amounts)
    assert not bad, f"{where} ({lang}) shows {bad}: {_context(text, bad)}"


def _context(text: str, bad: list[str]) -> list[str]:
    """Where each finding sits in the text (a few words around it), to find its source."""
    out = []
    for item in bad:
        needle = item.split(" ", 2)[-1] if " " in item else item
        at = text.find(needle)
        if at >= 0:
            out.append(" ".join(text[max(0, at - 40) : at + 40].split()))
    return out
