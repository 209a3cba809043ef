"""Messages (en, de) of the risk modes at the till (FR-701): refusals and the banner.

Merged into `appliance.i18n.messages.MESSAGES`. The refusal texts name what still works, so
a cashier in READ_ONLY knows the shift can be closed and sales looked up.
"""

from __future__ import annotations

RISK_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "RISK_WARN": "Head office has put this store under a risk warning.",
        "RISK_READ_ONLY": (
            "This till is read-only by order of head office: no sales, refunds or stock "
            "changes. You can look up sales, print the X report and close the shift."
        ),
        "RISK_BLOCKED": (
            "Sales are blocked on this till by order of head office. Call your manager."
        ),
        "ui.risk_warn": "Risk warning",
        "ui.risk_read_only": "Read-only",
        "ui.risk_blocked": "Sales blocked",
        "ui.risk_reason": "Reason",
        "ui.risk_until": "until",
        "ui.risk_not_enforced": "(not enforced)",
        "ui.risk_text_WARN": "Sell as usual; head office is watching this store.",
        "ui.risk_text_READ_ONLY": (
            "No sales, refunds or stock changes. Sales look-up, the X report and closing the "
            "shift still work."
        ),
        "ui.risk_text_BLOCK": "No sales, refunds or drawer opens on this till.",
    },
    "de": {
        "RISK_WARN": "Die Zentrale hat für diese Filiale eine Risikowarnung gesetzt.",
        "RISK_READ_ONLY": (
            "Diese Kasse ist auf Anweisung der Zentrale schreibgeschützt: keine Verkäufe, "
            "Erstattungen oder Bestandsänderungen. Belege suchen, X-Bericht drucken und die "
            "Schicht schließen geht weiter."
        ),
        "RISK_BLOCKED": (
            "Verkäufe sind an dieser Kasse auf Anweisung der Zentrale gesperrt. "
            "Bitte die Marktleitung rufen."
        ),
        "ui.risk_warn": "Risikowarnung",
        "ui.risk_read_only": "Schreibgeschützt",
        "ui.risk_blocked": "Verkauf gesperrt",
        "ui.risk_reason": "Grund",
        "ui.risk_until": "bis",
        "ui.risk_not_enforced": "(nicht durchgesetzt)",
        "ui.risk_text_WARN": "Normal weiter verkaufen; die Zentrale beobachtet diese Filiale.",
        "ui.risk_text_READ_ONLY": (
            "Keine Verkäufe, Erstattungen oder Bestandsänderungen. Belege suchen, X-Bericht "
            "und Schicht schließen gehen weiter."
        ),
        "ui.risk_text_BLOCK": "Keine Verkäufe, Erstattungen oder Ladenöffnungen an dieser Kasse.",
    },
}
