"""The box's device service: durable receipt queue, drawer kicks, scans and device status.

It runs as its own process (`python -m appliance devices --config F`) that owns the
hardware; the web app talks to it only through the box database (print jobs, status,
scans) and, for drawer kicks that must happen now or never, a local control socket.
"""
