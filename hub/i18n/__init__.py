"""The portal's languages (NFR-007): gettext catalogs (hub/i18n/translations/<lang>/LC_MESSAGES/
messages.po, read with Babel), the language a request is shown in, Babel formatting filters
for templates, and the per-locale texts of reason codes (the codes themselves never change)."""
