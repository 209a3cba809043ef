#!/usr/bin/env bash
# Make sure the real PostgreSQL and Mosquitto the tests talk to are up.
# Installed but stopped: start them. Absent: say what to install and fail.
set -uo pipefail
PGHOST=${CFPOS_PG_HOST:-127.0.0.1}; PGPORT=${CFPOS_PG_PORT:-5432}
MQHOST=${CFPOS_MQTT_HOST:-127.0.0.1}; MQPORT=${CFPOS_MQTT_PORT:-1883}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
wait_port() { for _ in $(seq 1 50); do port_open "$1" "$2" && return 0; sleep 0.2; done; return 1; }

if ! port_open "$PGHOST" "$PGPORT"; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is installed but stopped: starting it" >&2
    for v in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
    done
    wait_port "$PGHOST" "$PGPORT" || { echo "error: PostgreSQL did not come up on $PGHOST:$PGPORT" >&2; exit 1; }
  else
    echo "error: PostgreSQL is not installed. Install it (Debian: apt-get install postgresql)" \
         "and allow trust auth for 127.0.0.1, or set CFPOS_PG_HOST/CFPOS_PG_PORT." >&2
    exit 1
  fi
fi

if ! port_open "$MQHOST" "$MQPORT"; then
  if command -v mosquitto >/dev/null 2>&1; then
    echo "Mosquitto is installed but stopped: starting it" >&2
    if [ -f /etc/mosquitto/mosquitto.conf ]; then
      mosquitto -d -c /etc/mosquitto/mosquitto.conf
    else
      mosquitto -d -p "$MQPORT"
    fi
    wait_port "$MQHOST" "$MQPORT" || { echo "error: Mosquitto did not come up on $MQHOST:$MQPORT" >&2; exit 1; }
  else
    echo "error: Mosquitto is not installed. Install it (Debian: apt-get install mosquitto mosquitto-clients)." >&2
    exit 1
  fi
fi
echo "services: PostgreSQL $PGHOST:$PGPORT and Mosquitto $MQHOST:$MQPORT are up" >&2
