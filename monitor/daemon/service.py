"""Running under systemd: the notify protocol and the unit file.

The protocol is one datagram per message to the Unix socket named by $NOTIFY_SOCKET
(`READY=1`, `RELOADING=1`, `STOPPING=1`, `WATCHDOG=1`, `STATUS=…`); an address starting
with "@" is in the abstract namespace. Without the variable every call does nothing, so
the daemon behaves the same in a terminal.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Final

UNIT_NAME = "diplomatic-signal-monitor.service"
STATE_DIR = "/var/lib/diplomatic-signal-monitor"
CONFIG_PATH = "/etc/diplomatic-signal-monitor/monitor.toml"


def notify(message: str, env: Mapping[str, str] | None = None) -> bool:
    """Send one notify message; False when there is no supervisor to tell."""
    address = (env if env is not None else os.environ).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode("utf-8", "replace"))
    except OSError:
        return False
    return True


def reloading_message() -> str:
    """RELOADING=1 with the monotonic time systemd asks for (Type=notify-reload)."""
    return f"RELOADING=1\nMONOTONIC_USEC={time.monotonic_ns() // 1000}"


def watchdog_seconds(env: Mapping[str, str] | None = None) -> float | None:
    """How often systemd expects `WATCHDOG=1` (half its WatchdogSec), or None when off."""
    env = env if env is not None else os.environ
    usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) <= 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1_000_000 / 2


# The sandbox: the monitor needs its state folder, its configuration and the network.
_HARDENING: Final = """\
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
CapabilityBoundingSet=

[Install]
WantedBy=multi-user.target
"""


def unit_file(executable: Path, config: str = CONFIG_PATH) -> str:
    """The systemd unit: Type=notify, watchdog, restart on failure, hardened."""
    return (
        f"""\
# {UNIT_NAME}: the diplomatic-signal monitor as a system service.
# Install: copy to /etc/systemd/system/, put the configuration at {config}
# with  [storage] path = "{STATE_DIR}/monitor.db", then
#   systemctl daemon-reload && systemctl enable --now {UNIT_NAME}
# Secrets: LoadCredential=NAME:/path below, and NAME_credential = "NAME" in [alerts].
[Unit]
Description=Diplomatic-signal monitor (official press feeds, US-Russia summit signals)
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart={executable} --config {config} --log-format logfmt run
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=10s
WatchdogSec=5min
TimeoutStopSec=30s
DynamicUser=yes
StateDirectory=diplomatic-signal-monitor
StateDirectoryMode=0700
ConfigurationDirectory=diplomatic-signal-monitor
UMask=0077
#LoadCredential=smtp-password:/etc/diplomatic-signal-monitor/smtp-password
#LoadCredential=webhook-secret:/etc/diplomatic-signal-monitor/webhook-secret

"""
        + _HARDENING
    )
