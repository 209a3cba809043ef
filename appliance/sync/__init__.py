"""Box to hub: the identity/counter row, the outbox, the MQTT transport, sync agent and status."""
