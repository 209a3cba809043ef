"""Run the product: hub (web + ingest) + one demo store box (web + sync agent) + broker.

Uses the real PostgreSQL and Mosquitto when configured or reachable on localhost;
otherwise falls back to embedded defaults (hub on SQLite, amqtt broker) with a
loud warning, so a fresh machine can still see a sale go from till to head office.
CFPOS_DEMO_EMBEDDED=1 forces the embedded defaults even where the real services run.

    python -m scripts.demo            # run until Ctrl-C
    python -m scripts.demo --smoke    # start, ring one sale, see it on the hub, stop
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BANNER = "=" * 72


def port_open(host: str, port: int) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    """An ephemeral TCP port that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(n: int) -> list[int]:
    """`n` distinct ephemeral TCP ports free right now (held open together while picked:
    two calls of `free_port` can give back the same port, the kernel reuses it at once)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Stack:
    """The processes of a running demo and where they listen."""

    var: Path
    hub_port: int
    box_port: int
    env: dict[str, str]
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    argvs: dict[str, list[str]] = field(default_factory=dict)
    envs: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    locale: str = "en"  # the till's language (box.json)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        """Start one process with its output in var/<name>.log (`env`: instead of the
        stack's environment, e.g. one ingest worker's own client id)."""
        with (self.var / f"{name}.log").open("ab") as log:  # the child keeps its own copy
            proc = subprocess.Popen(argv, cwd=ROOT, env=env or self.env, stdout=log, stderr=log)
        self.procs.append((name, proc))
        self.argvs[name] = argv
        self.envs[name] = env or self.env

    def kill(self, name: str) -> None:
        """SIGKILL one process (as a power cut or OOM kill would) and forget it."""
        for entry in list(self.procs):
            if entry[0] == name:
                entry[1].kill()
                entry[1].wait()
                self.procs.remove(entry)

    def restart(self, name: str) -> None:
        """Start a killed process again with its original command line."""
        self.start(name, self.argvs[name], self.envs.get(name))

    def check_alive(self) -> None:
        """Raise if any process died."""
        for name, proc in self.procs:
            if proc.poll() is not None:
                tail = (self.var / f"{name}.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"{name} exited with {proc.returncode}; last log lines:\n{tail}")

    def stop(self) -> None:
        """Stop every process, politely first."""
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _, proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)  # reaped: no "subprocess is still running" at garbage collection


def run(argv: list[str], env: dict[str, str]) -> str:
    """Run a setup command, fail with its output if it fails, return stdout."""
    res = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"setup step failed: {' '.join(argv)}\n{res.stdout}\n{res.stderr}")
    return res.stdout


def choose_database(env: dict[str, str], db_name: str, var: Path, notes: list[str]) -> None:
    """Real PostgreSQL when configured or on localhost, else the embedded SQLite hub."""
    if env.get("CFPOS_HUB_DATABASE_URL"):
        env.setdefault("CFPOS_HUB_ADMIN_DATABASE_URL", env["CFPOS_HUB_DATABASE_URL"])
        notes.append(f"hub database: {env['CFPOS_HUB_DATABASE_URL']} (configured)")
        return
    if port_open("127.0.0.1", 5432) and not env.get("CFPOS_DEMO_EMBEDDED"):
        import psycopg2  # only the launcher creates the demo database

        conn = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db_name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{db_name}"')
        conn.close()
        env["CFPOS_HUB_ADMIN_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{db_name}"
        env["CFPOS_HUB_DATABASE_URL"] = f"postgresql://cfpos_app@127.0.0.1:5432/{db_name}"
        notes.append(f"hub database: PostgreSQL 127.0.0.1:5432/{db_name} with row-level security")
        return
    path = var / "hub.sqlite3"
    env["CFPOS_HUB_DATABASE_URL"] = env["CFPOS_HUB_ADMIN_DATABASE_URL"] = f"sqlite:///{path}"
    notes.append(
        "WARNING: no PostgreSQL configured or reachable: hub runs on SQLite "
        f"({path}) with APP-LEVEL ISOLATION ONLY (no row-level security). "
        "Set CFPOS_HUB_DATABASE_URL or start PostgreSQL for the real thing."
    )


def choose_broker(stack: Stack) -> tuple[str, int]:
    """Real Mosquitto when configured or on localhost:1883, else an embedded amqtt broker."""
    env = stack.env
    if env.get("CFPOS_MQTT_URL"):
        url = urlparse(env["CFPOS_MQTT_URL"])
        stack.notes.append(f"broker: {env['CFPOS_MQTT_URL']} (configured)")
        return url.hostname or "127.0.0.1", url.port or 1883
    if port_open("127.0.0.1", 1883) and not env.get("CFPOS_DEMO_EMBEDDED"):
        env["CFPOS_MQTT_URL"] = "mqtt://127.0.0.1:1883"
        stack.notes.append("broker: Mosquitto on 127.0.0.1:1883")
        return "127.0.0.1", 1883
    port = free_port()
    cfg = stack.var / "amqtt.yaml"
    cfg.write_text(
        "listeners:\n  default:\n    type: tcp\n"
        f"    bind: 127.0.0.1:{port}\n"
        "plugins:\n  amqtt.plugins.authentication.AnonymousAuthPlugin:\n"
        "    allow_anonymous: true\n"
    )
    stack.start("broker", [str(Path(PY).parent / "amqtt"), "-c", str(cfg)])
    wait_for(lambda: port_open("127.0.0.1", port), "embedded broker", stack)
    env["CFPOS_MQTT_URL"] = f"mqtt://127.0.0.1:{port}"
    stack.notes.append(
        f"WARNING: no MQTT broker configured or reachable: started embedded amqtt on :{port} "
        "(demo only; production uses Mosquitto with per-box ACLs)"
    )
    return "127.0.0.1", port


def wait_for(check: object, what: str, stack: Stack, timeout: float = 120.0) -> None:
    """Poll `check()` until true, failing with the logs if a process dies or time runs out
    (a dead process fails at once; the generous limit only matters on a loaded machine, where
    the hub's first start — migrations, seeding — took over 40 s beside other work;
    CFPOS_DEMO_BOOT_TIMEOUT, seconds, stretches it further for benchmarks)."""
    timeout = max(timeout, float(os.environ.get("CFPOS_DEMO_BOOT_TIMEOUT") or 0))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        try:
            if check():  # type: ignore[operator]
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} did not come up within {timeout:.0f}s (logs in {stack.var})")


def write_box_config(
    stack: Stack, seed: dict[str, Any], mqtt: tuple[str, int], locale: str = "en"
) -> Path:
    """The demo box's firmware config (what provisioning writes on a real box); `locale` is
    the till's language (en, de)."""
    cfg = {
        "box_id": seed["box_id"],
        "tenant_id": seed["tenant_id"],
        "branch_id": seed["box_branch_id"],
        "till_name": "Till 1",
        "hub_url": f"http://127.0.0.1:{stack.hub_port}",
        "mqtt": {"host": mqtt[0], "port": mqtt[1]},
        "database_path": str(stack.var / "box.sqlite3"),
        "bind": f"0.0.0.0:{stack.box_port}",
        "locale": locale,
        "timezone": "Europe/Berlin",
        "devices": {
            "printer": {"kind": "fake"},
            "drawer": {"kind": "fake"},
            # the fake scanner "scans" every line appended to this file (demo + e2e hook)
            "scanner": {"kind": "fake", "options": {"feed_file": str(scanner_feed(stack))}},
            # what this file holds lies on the fake scale's platter ("0.750", "motion", ...)
            "scale": {"kind": "fake", "options": {"weight_file": str(scale_platter(stack))}},
        },
    }
    path = stack.var / "box.json"
    path.write_text(json.dumps(cfg, indent=2))
    return path


def scanner_feed(stack: Stack) -> Path:
    """The demo box's fake-scanner feed: append a barcode line to scan it."""
    return stack.var / "scanner-feed.txt"


def scale_platter(stack: Stack) -> Path:
    """The demo box's fake-scale platter: write a weight in kg (or "motion") into it."""
    return stack.var / "scale-weight.txt"


def boot(args: argparse.Namespace) -> tuple[Stack, dict[str, Any]]:
    """Set up storage, broker, seed data, and start every process."""
    var = (ROOT / args.var).resolve()
    var.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("CFPOS_HUB_SECRET_KEY", uuid.uuid4().hex)
    env["PYTHONUNBUFFERED"] = "1"
    stack = Stack(var=var, hub_port=args.hub_port, box_port=args.box_port, env=env)
    try:
        seed = _boot_into(stack, args, env, var)
    except BaseException:
        # a step failed or a process died on the way up: stop what was started, so no hub,
        # box or embedded broker outlives the failed boot (a test would leak them otherwise)
        stack.stop()
        raise
    return stack, seed


def _boot_into(
    stack: Stack, args: argparse.Namespace, env: dict[str, str], var: Path
) -> dict[str, Any]:
    choose_database(env, args.db_name, var, stack.notes)
    mqtt = choose_broker(stack)
    run([PY, "-m", "hub", "migrate"], env)
    seed: dict[str, Any] = json.loads(run([PY, "-m", "hub", "seed-demo"], env))
    stack.locale = getattr(args, "locale", "en")
    box_cfg = write_box_config(stack, seed, mqtt, stack.locale)
    run([PY, "-m", "appliance", "migrate", "--config", str(box_cfg)], env)
    stack.start(
        "hub-web",
        [
            str(Path(PY).parent / "gunicorn"),
            "--workers",
            "2",
            "--timeout",  # a 100 000-product catalog import on a loaded machine outlasts 30 s
            os.environ.get("CFPOS_DEMO_WEB_TIMEOUT") or "120",
            "--bind",
            f"0.0.0.0:{stack.hub_port}",
            "hub.app:create_app()",
        ],
    )
    stack.start("hub-ingest", [PY, "-m", "hub", "ingest"])
    stack.start("box-web", [PY, "-m", "appliance", "serve", "--config", str(box_cfg)])
    stack.start("box-sync", [PY, "-m", "appliance", "sync", "--config", str(box_cfg)])
    stack.start("box-devices", [PY, "-m", "appliance", "devices", "--config", str(box_cfg)])
    hub = f"http://127.0.0.1:{stack.hub_port}"
    box = f"http://127.0.0.1:{stack.box_port}"
    wait_for(lambda: requests.get(f"{hub}/healthz", timeout=2).ok, "hub web", stack)
    wait_for(lambda: requests.get(f"{box}/healthz", timeout=2).ok, "box web", stack)
    run([PY, "-m", "hub", "publish-down"], env)
    return seed


def print_banner(stack: Stack, seed: dict[str, Any]) -> None:
    """Tell the newcomer where to click and how to log in."""
    host = socket.gethostname()
    print(BANNER)
    print("Cosmic Forge Grocery POS demo is running")
    for note in stack.notes:
        print(f"  {note}")
    print(
        f"  Cashier screen : http://127.0.0.1:{stack.box_port}/   (store LAN: http://{host}:{stack.box_port}/)"
    )
    print(f"  Hub portal     : http://127.0.0.1:{stack.hub_port}/")
    print(
        f"  API docs       : http://127.0.0.1:{stack.hub_port}/api/openapi.json and "
        f"http://127.0.0.1:{stack.box_port}/api/openapi.json"
    )
    print("  Demo logins:")
    for login in seed.get("logins", []):
        where = ", ".join(login.get("branch_ids") or []) or login.get("tenant_id") or "platform"
        pin = f"  till PIN {login['pin']}" if login.get("pin") else ""
        print(
            f"    {login['role']:<18} {login['username']:<13} / {login['password']:<18}"
            f" ({where}){pin}"
        )
    print(f"  Hardware page  : http://127.0.0.1:{stack.box_port}/hardware")
    print(
        f"  Languages      : till {stack.locale} (--lang de); portal: your browser's language,"
        " or English / Deutsch in its header"
    )
    print(f"  Fake scanner   : echo 4000000000013 >> {scanner_feed(stack)}")
    print(f"  Fake scale     : echo 0.750 > {scale_platter(stack)}   (then scan Bananas)")
    print("  First sale     : log in with the PIN, press F10, Enter to open the shift")
    print(f"  Logs: {stack.var}/*.log     Stop: Ctrl-C")
    print(BANNER, flush=True)


def smoke(stack: Stack, seed: dict[str, Any]) -> None:
    """Ring one sale on the box and wait until the hub portal's API lists it."""
    from scripts.demo_smoke import ring_and_verify

    ring_and_verify(stack.box_port, stack.hub_port, seed)


def reset(args: argparse.Namespace) -> None:
    """Drop the demo's PostgreSQL database and its var/ folder (box database, logs)."""
    import shutil

    shutil.rmtree(ROOT / args.var, ignore_errors=True)
    embedded = os.environ.get("CFPOS_HUB_DATABASE_URL") or os.environ.get("CFPOS_DEMO_EMBEDDED")
    if not embedded and port_open("127.0.0.1", 5432):
        drop_database(args.db_name)


def drop_database(db_name: str) -> None:
    """Drop a database on the local PostgreSQL (demo reset, test clean-up)."""
    import psycopg2

    conn = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    conn.close()


def main() -> int:
    """Entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--hub-port", type=int, default=int(os.environ.get("CFPOS_HUB_PORT", 8000)))
    ap.add_argument("--box-port", type=int, default=int(os.environ.get("CFPOS_BOX_PORT", 8100)))
    ap.add_argument("--db-name", default="cfpos_demo")
    ap.add_argument("--var", default="var/demo")
    ap.add_argument("--smoke", action="store_true", help="ring one sale end to end, then stop")
    ap.add_argument(
        "--lang",
        "--locale",
        dest="locale",
        default=os.environ.get("CFPOS_DEMO_LANG", "en"),
        choices=("en", "de"),
        help="the till's language (default: $CFPOS_DEMO_LANG, else en); the portal follows "
        "each browser's language or the switch in its header",
    )
    ap.add_argument(
        "--reset", action="store_true", help="start from scratch: drop the demo database and var/"
    )
    args = ap.parse_args()
    if args.reset:
        reset(args)
    stack, seed = boot(args)
    try:
        print_banner(stack, seed)
        if args.smoke:
            smoke(stack, seed)
            print("smoke: sale rang on the box and arrived at the hub", flush=True)
            return 0
        while True:
            stack.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
