"""Messages (en, de) of sync: why the hub refused an event (`BatchAck.rejected`, issue 9)
and how the till shows refused events. Merged into `appliance.i18n.messages.MESSAGES`.

Every reason in `posdomain.errors.INGEST_REASONS` has a text here: the till's status bar
shows the latest refusal by its reason (tests/appliance/i18n/test_devices_i18n.py).
"""

from __future__ import annotations

SYNC_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "SEQ_CONFLICT": "Another event already used this event's number at the hub "
        "(possibly forged). The hub did not book it; head office must reconcile it.",
        "EVENT_ID_CONFLICT": "The hub holds a different event under this event's id. "
        "It was not booked; head office must reconcile it.",
        "SEQ_OUT_OF_RANGE": "The event's number is far beyond what the hub expects. "
        "It was not booked; call support.",
        "UNKNOWN_EVENT_TYPE": "The hub does not know this kind of event. Update the till software.",
        "DOCUMENT_ID_CONFLICT": "The hub already has another document with this id. "
        "It was not booked; head office must reconcile it.",
        "AUDIT_SEQ_CONFLICT": "The hub already has another audit entry with this number.",
        "INGEST_FAILED": "The hub could not apply this event. It is held for head office.",
        "LINE_ARITHMETIC": "A line's quantity times price does not give its amount. Not booked.",
        "TOTALS_MISMATCH": "The totals of this document do not add up. Not booked.",
        "TAX_MISMATCH": "The tax of this document does not match its rates. Not booked.",
        "TENDER_MISMATCH": "The payments do not match the total. Not booked.",
        "CURRENCY_MISMATCH": "The document is not in the store's currency. Not booked.",
        "TIMESTAMP_OUT_OF_RANGE": "The event's time is impossible (check the till's clock). "
        "Not booked.",
        "DUPLICATE_LINE_NO": "The document repeats a line number. Not booked.",
        "VOID_MISMATCH": "The void does not match the sale it cancels. Not booked.",
        "INVALID_TEXT": "A text contains a control character. Remove it and try again.",
        "OUT_OF_RANGE": "A number is outside its allowed range.",
        "TOKEN_EXPIRED": "The approval has expired. Ask again.",
        "SESSION_REVOKED": "Your session was ended (logout, or a PIN or account change from head office). Log in again.",
        "ui.refused_one": "1 event refused by the hub",
        "ui.refused_many": "{n} events refused by the hub",
        "ui.refused_sale": "1 sale not booked by the hub",
        "ui.refused_sales": "{n} sales not booked by the hub",
        "ui.refused_hint": "Kept on this till; head office reconciles them. Latest: {reason}",
        "ui.x.refused_sales": "Sales refused by the hub (not booked)",
        "ui.refused_ack": "Acknowledge…",
        "ui.refused_ack_title": "Acknowledge a refused event",
        "ui.refused_ack_hint": "Supervisors and managers only, when head office cannot be "
        "reached. The event stays on this till, not booked; head office still reconciles it.",
        "ui.refused_ack_pick": "Event",
        "ui.refused_ack_note": "Note (why, who was told)",
        "ui.refused_ack_ok": "Acknowledge (Enter)",
        "ui.refused_ack_done": "Acknowledged. The hub still holds it for head office.",
        "ui.refused_event": "#{seq} · {type} · {reason}",
    },
    "de": {
        "SEQ_CONFLICT": "Ein anderer Vorgang hat diese Nummer in der Zentrale schon belegt "
        "(möglicherweise gefälscht). Nicht gebucht; die Zentrale muss ihn abgleichen.",
        "EVENT_ID_CONFLICT": "Die Zentrale hat unter dieser Kennung einen anderen Vorgang. "
        "Nicht gebucht; die Zentrale muss ihn abgleichen.",
        "SEQ_OUT_OF_RANGE": "Die Vorgangsnummer liegt weit über dem Erwarteten. "
        "Nicht gebucht; Support rufen.",
        "UNKNOWN_EVENT_TYPE": "Die Zentrale kennt diese Vorgangsart nicht. Kassensoftware "
        "aktualisieren.",
        "DOCUMENT_ID_CONFLICT": "Die Zentrale hat schon einen anderen Beleg mit dieser Kennung. "
        "Nicht gebucht; die Zentrale muss ihn abgleichen.",
        "AUDIT_SEQ_CONFLICT": "Die Zentrale hat schon einen anderen Protokolleintrag mit "
        "dieser Nummer.",
        "INGEST_FAILED": "Die Zentrale konnte den Vorgang nicht verarbeiten. Er liegt dort zur "
        "Prüfung.",
        "LINE_ARITHMETIC": "Menge mal Preis einer Position ergibt nicht ihren Betrag. Nicht gebucht.",
        "TOTALS_MISMATCH": "Die Summen des Belegs gehen nicht auf. Nicht gebucht.",
        "TAX_MISMATCH": "Die Steuer des Belegs passt nicht zu den Sätzen. Nicht gebucht.",
        "TENDER_MISMATCH": "Die Zahlungen passen nicht zur Summe. Nicht gebucht.",
        "CURRENCY_MISMATCH": "Der Beleg ist nicht in der Währung der Filiale. Nicht gebucht.",
        "TIMESTAMP_OUT_OF_RANGE": "Die Zeit des Vorgangs ist unmöglich (Uhr der Kasse prüfen). "
        "Nicht gebucht.",
        "DUPLICATE_LINE_NO": "Der Beleg wiederholt eine Positionsnummer. Nicht gebucht.",
        "VOID_MISMATCH": "Das Storno passt nicht zum stornierten Verkauf. Nicht gebucht.",
        "INVALID_TEXT": "Ein Text enthält ein Steuerzeichen. Entfernen und erneut versuchen.",
        "OUT_OF_RANGE": "Eine Zahl liegt außerhalb des erlaubten Bereichs.",
        "TOKEN_EXPIRED": "Die Freigabe ist abgelaufen. Erneut anfragen.",
        "SESSION_REVOKED": "Ihre Sitzung wurde beendet (Abmeldung, oder PIN- bzw. Kontoänderung durch die Zentrale). Erneut anmelden.",
        "ui.refused_one": "1 Vorgang von der Zentrale abgelehnt",
        "ui.refused_many": "{n} Vorgänge von der Zentrale abgelehnt",
        "ui.refused_sale": "1 Verkauf von der Zentrale nicht gebucht",
        "ui.refused_sales": "{n} Verkäufe von der Zentrale nicht gebucht",
        "ui.refused_hint": "Auf dieser Kasse aufbewahrt; die Zentrale gleicht sie ab. "
        "Zuletzt: {reason}",
        "ui.x.refused_sales": "Von der Zentrale abgelehnte Verkäufe (nicht gebucht)",
        "ui.refused_ack": "Quittieren…",
        "ui.refused_ack_title": "Abgelehnten Vorgang quittieren",
        "ui.refused_ack_hint": "Nur Schichtleitung und Filialleitung, wenn die Zentrale nicht "
        "erreichbar ist. Der Vorgang bleibt auf dieser Kasse, nicht gebucht; die Zentrale "
        "gleicht ihn trotzdem ab.",
        "ui.refused_ack_pick": "Vorgang",
        "ui.refused_ack_note": "Notiz (warum, wer informiert ist)",
        "ui.refused_ack_ok": "Quittieren (Enter)",
        "ui.refused_ack_done": "Quittiert. Die Zentrale hält den Vorgang weiter zur Prüfung.",
        "ui.refused_event": "#{seq} · {type} · {reason}",
    },
}
