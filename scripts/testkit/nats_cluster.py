"""A three-node nats-server cluster on loopback with JetStream and the MQTT 3.1.1 interface
(issue 15 item 3: prove the protocol on a real clustered broker). Each node has its own
client, route and MQTT port and its own JetStream folder; `kill(n)` SIGKILLs one node,
`start(n)` brings it back with the same folder.

MQTT state (sessions, QoS 1 messages, retained messages) lives in JetStream streams the
server creates at the first MQTT connection of the account: `stream_replicas: 3` keeps them
on all three nodes (a SIGKILLed node loses no session; two of three keep the quorum). A node
counts as started once an MQTT client gets its CONNACK there: under load the first connect
of a node times out creating or looking up those streams ("unable to connect: create
sessions stream ... timeout") and is closed without one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from scripts.demo import free_port, free_ports
from scripts.testkit.waiting import poll_until

NATS = shutil.which("nats-server") or "/usr/sbin/nats-server"


@dataclass
class NatsNode:
    """One node's ports and process."""

    name: str
    client: int = field(default_factory=free_port)
    route: int = field(default_factory=free_port)
    mqtt: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None


@dataclass
class NatsCluster:
    """Three nats-server nodes in one cluster; MQTT on every node."""

    folder: Path
    nodes: list[NatsNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.nodes:  # nine distinct ports (one free_port each could repeat one)
            ports = iter(free_ports(9))
            self.nodes = [
                NatsNode(f"n{i}", next(ports), next(ports), next(ports)) for i in range(3)
            ]

    def _conf(self, node: NatsNode) -> Path:
        routes = ", ".join(f"nats-route://127.0.0.1:{n.route}" for n in self.nodes)
        store = self.folder / node.name
        store.mkdir(parents=True, exist_ok=True)
        conf = self.folder / f"{node.name}.conf"
        conf.write_text(
            f"server_name: {node.name}\n"
            f"listen: 127.0.0.1:{node.client}\n"
            f'jetstream {{ store_dir: "{store}" }}\n'
            f"cluster {{ name: cfpos, listen: 127.0.0.1:{node.route}, routes: [{routes}] }}\n"
            f"mqtt {{ listen: 127.0.0.1:{node.mqtt}, stream_replicas: 3 }}\n"
        )
        return conf

    def start(self, n: int | None = None) -> None:
        """Start every node (or node n) and wait until its MQTT port accepts."""
        if not Path(NATS).exists():
            raise RuntimeError("nats-server is not installed")
        self.folder.mkdir(parents=True, exist_ok=True)
        for node in self.nodes if n is None else [self.nodes[n]]:
            with (self.folder / f"{node.name}.log").open("ab") as log:  # the child keeps a copy
                node.proc = subprocess.Popen(
                    [NATS, "-c", str(self._conf(node))], stdout=log, stderr=log
                )
        for node in self.nodes if n is None else [self.nodes[n]]:
            wait_port(node.mqtt, 30)
        for node in self.nodes if n is None else [self.nodes[n]]:
            wait_mqtt_session(node.mqtt, 120)

    def url(self, n: int) -> str:
        """The MQTT URL of node n (for CFPOS_MQTT_URL)."""
        return f"mqtt://127.0.0.1:{self.nodes[n].mqtt}"

    def failover_urls(self, n: int) -> str:
        """The MQTT URLs of every node but n, comma-separated (for CFPOS_MQTT_FAILOVER)."""
        return ",".join(self.url(m) for m in range(len(self.nodes)) if m != n)

    def kill(self, n: int) -> None:
        """SIGKILL node n (a power cut of that machine)."""
        proc = self.nodes[n].proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)

    def stop(self) -> None:
        """Stop every node (all told at once, then waited for)."""
        running = [n.proc for n in self.nodes if n.proc is not None and n.proc.poll() is None]
        for proc in running:
            proc.terminate()
        for proc in running:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def wait_mqtt_session(port: int, timeout: float) -> None:
    """Connect an MQTT client (clean session) until the broker answers with a CONNACK."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"cfpos-warmup-{uuid.uuid4().hex[:8]}",
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        try:
            client.connect("127.0.0.1", port, keepalive=30)
            client.loop_start()
            if poll_until(client.is_connected, 10):
                return
        except OSError:
            time.sleep(0.2)
        finally:
            client.disconnect()
            client.loop_stop()
    raise RuntimeError(f"nats-server on MQTT port {port} gave no CONNACK in {timeout:.0f}s")


def wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nats-server MQTT port {port} did not open")
