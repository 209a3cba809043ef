"""Messages (en, de) of the till-operation reason codes and UI strings (shifts, refunds, tenders).

Merged into `appliance.i18n.MESSAGES`; kept apart so the till-operations slice owns its texts.
"""

from __future__ import annotations

TILL_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "OVERRIDE_REQUIRED": "A supervisor must approve this. Ask a supervisor for their PIN.",
        "OVERRIDE_INVALID": "That approval is used up or expired. Ask the supervisor again.",
        "SHIFT_NOT_OPEN": "No shift is open on this till. Open a shift with the float first.",
        "SHIFT_ALREADY_OPEN": "A shift is already open on this till. Close it first.",
        "SALE_NOT_VOIDABLE": "Only the last sale of this shift, not yet refunded, can be voided.",
        "CARD_EXCEEDS_REMAINING": "The card amount is more than what is left to pay.",
        "ui.refund": "Refund (F6)",
        "ui.suspend": "Park sale (F7)",
        "ui.resume": "Resume sale (F8)",
        "ui.shift": "Shift (F10)",
        "ui.x_report": "X report (F11)",
        "ui.split_tender": "Card + cash (F4)",
    },
    "de": {
        "OVERRIDE_REQUIRED": "Das muss eine Aufsicht freigeben. Bitte Aufsicht um ihre PIN bitten.",
        "OVERRIDE_INVALID": "Diese Freigabe ist verbraucht oder abgelaufen. Erneut freigeben lassen.",
        "SHIFT_NOT_OPEN": "Auf dieser Kasse ist keine Schicht offen. Zuerst mit Wechselgeld öffnen.",
        "SHIFT_ALREADY_OPEN": "Auf dieser Kasse ist schon eine Schicht offen. Zuerst abschließen.",
        "SALE_NOT_VOIDABLE": "Nur der letzte, nicht erstattete Verkauf dieser Schicht ist stornierbar.",
        "CARD_EXCEEDS_REMAINING": "Der Kartenbetrag ist höher als der offene Betrag.",
        "ui.refund": "Erstattung (F6)",
        "ui.suspend": "Verkauf parken (F7)",
        "ui.resume": "Verkauf fortsetzen (F8)",
        "ui.shift": "Schicht (F10)",
        "ui.x_report": "X-Bericht (F11)",
        "ui.split_tender": "Karte + Bar (F4)",
    },
}
