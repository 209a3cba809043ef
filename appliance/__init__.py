"""Store appliance ("the box"): Flask cashier API + SQLite/peewee + MQTT sync agent."""
