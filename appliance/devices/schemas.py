"""Response bodies of the device API as documented in the OpenAPI document (the `@api` source).

The device store answers rows as dicts; the models name every key, so schemathesis and the
box tests check each answer against them (an undeclared key is drift too). Only a print job
row is open: a job just queued answers its whole row (scheduling columns included), a listed
one the columns the hardware page shows.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DrawerOut(_Out):
    """The outcome of a drawer kick (`error` is a device error code, empty when ok)."""

    ok: bool
    error: str


class DrawerResultOut(DrawerOut):
    """The recorded kick of a sale: outcome, why it was asked for, when."""

    reason: str
    at: str


class PrintJobRowOut(BaseModel):
    """A print job of the durable queue (without its document; open, see the module)."""

    model_config = ConfigDict(extra="allow")

    id: int
    ref: str
    copy_no: int
    kind: str
    state: str
    attempts: int
    last_error: str | None
    updated_at: str


class DeviceOut(_Out):
    """One device's latest report (all offline when the device service is not running)."""

    name: str
    kind: str
    path: str
    state: str
    online: bool
    detail: str
    last_error: str
    last_seen: str | None
    updated_at: str


class DevicesOut(_Out):
    """GET /devices: service alive, every device, the print queue depth, recent jobs."""

    service: bool
    devices: list[DeviceOut]
    print_queue: int
    jobs: list[PrintJobRowOut]


class QueuedJobOut(_Out):
    """A test page or receipt copy just queued."""

    job: PrintJobRowOut


class KickOut(_Out):
    """The drawer opened without a sale (a failed kick answers 503 with the device reason)."""

    drawer: DrawerOut


class SaleDevicesOut(_Out):
    """What happened to a sale's receipt (original and copies) and its drawer kick."""

    receipt: list[PrintJobRowOut]
    drawer: DrawerResultOut | None
