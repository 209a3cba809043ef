"""A local mail catcher for the alerting demo: `python -m scripts.mail_catcher --port 2525`.

A real SMTP server on 127.0.0.1 (aiosmtpd, scripts/testkit/receivers.py) that prints the
subject of every mail it accepts until interrupted (or for `--seconds`).
"""

from __future__ import annotations

import argparse
import time

from scripts.testkit.receivers import MailCatcher


def main() -> None:
    """Serve until interrupted, printing each mail's subject."""
    parser = argparse.ArgumentParser(prog="python -m scripts.mail_catcher")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--seconds", type=float, default=24 * 3600, help="stop after this long")
    args = parser.parse_args()
    with MailCatcher(args.port) as catcher:
        print(f"mail catcher on 127.0.0.1:{catcher.port}", flush=True)
        seen, deadline = 0, time.monotonic() + args.seconds
        try:
            while time.monotonic() < deadline:
                for message in catcher.messages[seen:]:
                    print(f"mail to {message['To']}: {message['Subject']}", flush=True)
                seen = len(catcher.messages)
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
