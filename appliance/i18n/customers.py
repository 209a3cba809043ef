"""Messages (en, de) of the customer, loyalty and staff-badge reason codes (posdomain.errors).

Merged into `appliance.i18n.messages.MESSAGES`; kept apart so the customers slice owns its
texts (the box half of that issue shows them at the till).
"""

from __future__ import annotations

CUSTOMER_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "UNKNOWN_CARD": "This loyalty card is not known. Check the number or enrol the customer.",
        "CARD_TAKEN": "This loyalty card already belongs to another customer.",
        "INVALID_CARD": "That is not a loyalty card number. Scan or type it again.",
        "INVALID_PHONE": "That phone number is not valid: 6 to 15 digits, + allowed in front.",
        "INVALID_EMAIL": "That e-mail address is not valid.",
        "UNKNOWN_CUSTOMER": "This customer is not known.",
        "LOYALTY_DISABLED": "Loyalty points are switched off for this store.",
        "LOYALTY_RULES_MISSING": "No loyalty rules are set up yet. Call head office.",
        "INVALID_POINTS": "Points must be a whole number in the allowed range.",
        "REDEMPTION_BELOW_MIN_BALANCE": "The customer needs more points before they can redeem.",
        "REDEMPTION_EXCEEDS_BALANCE": "That is more points than the customer has.",
        "REDEMPTION_EXCEEDS_SHARE": "Points may pay only part of this basket. Redeem fewer.",
        "REDEMPTION_NOT_WHOLE": "That number of points is not a whole amount of money.",
        "UNKNOWN_ADJUSTMENT_REASON": "Choose a reason for the points change.",
        "BADGE_TAKEN": "This badge already belongs to another staff member.",
        "INVALID_BADGE": "That is not a staff badge. Scan it again.",
        "HUB_REQUIRED": "Search by name or phone needs head office, and the till is offline. "
        "Scan or type the customer's card instead.",
        "HUB_TIMEOUT": "Head office did not answer the search in time. Try again, or scan the card.",
        "NO_CUSTOMER": "Attach the customer's card first.",
        "REDEMPTION_OFFLINE_CAP": "The till is offline: it may redeem only a few more points "
        "until it is back online.",
    },
    "de": {
        "UNKNOWN_CARD": "Diese Kundenkarte ist unbekannt. Nummer prüfen oder Kunde anmelden.",
        "CARD_TAKEN": "Diese Kundenkarte gehört schon einem anderen Kunden.",
        "INVALID_CARD": "Das ist keine Kundenkartennummer. Erneut scannen oder eingeben.",
        "INVALID_PHONE": "Ungültige Telefonnummer: 6 bis 15 Ziffern, vorne + erlaubt.",
        "INVALID_EMAIL": "Ungültige E-Mail-Adresse.",
        "UNKNOWN_CUSTOMER": "Dieser Kunde ist unbekannt.",
        "LOYALTY_DISABLED": "Treuepunkte sind für diesen Markt ausgeschaltet.",
        "LOYALTY_RULES_MISSING": "Es sind noch keine Treueregeln eingerichtet. Zentrale anrufen.",
        "INVALID_POINTS": "Punkte müssen eine ganze Zahl im erlaubten Bereich sein.",
        "REDEMPTION_BELOW_MIN_BALANCE": "Der Kunde braucht mehr Punkte, um einzulösen.",
        "REDEMPTION_EXCEEDS_BALANCE": "So viele Punkte hat der Kunde nicht.",
        "REDEMPTION_EXCEEDS_SHARE": "Punkte dürfen nur einen Teil des Einkaufs zahlen. Weniger einlösen.",
        "REDEMPTION_NOT_WHOLE": "Diese Punktzahl ergibt keinen ganzen Geldbetrag.",
        "UNKNOWN_ADJUSTMENT_REASON": "Einen Grund für die Punkteänderung wählen.",
        "BADGE_TAKEN": "Dieser Ausweis gehört schon einer anderen Person.",
        "INVALID_BADGE": "Das ist kein Mitarbeiterausweis. Erneut scannen.",
        "HUB_REQUIRED": "Suche nach Name oder Telefon braucht die Zentrale, die Kasse ist offline. "
        "Stattdessen die Kundenkarte scannen oder eintippen.",
        "HUB_TIMEOUT": "Die Zentrale hat nicht rechtzeitig geantwortet. Erneut suchen oder Karte "
        "scannen.",
        "NO_CUSTOMER": "Zuerst die Kundenkarte erfassen.",
        "REDEMPTION_OFFLINE_CAP": "Die Kasse ist offline: bis sie wieder online ist, können nur "
        "noch wenige Punkte eingelöst werden.",
    },
}
