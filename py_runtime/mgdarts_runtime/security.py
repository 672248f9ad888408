"""Who may talk to the runtime: ipc and loopback binds serve local users; any other bind needs ZeroMQ CURVE keys,
and then only clients whose public key is in the key directory are served (the runtime reads files and imports
code on request, so an open port would be remote code execution)."""
from __future__ import annotations

import ipaddress
import logging
from pathlib import Path

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

log = logging.getLogger(__name__)

SERVER_SECRET = "server.key_secret"
CLIENTS_DIR = "clients"  # public certificates of the clients allowed in
KEYGEN_HINT = "make keys with `mgdarts runtime keygen --dir <dir>` and start the runtime with --keys <dir>"


class InsecureBind(ValueError):
    pass


def is_loopback(endpoint: str) -> bool:
    """ipc, inproc, and tcp on 127.0.0.0/8, ::1 or localhost."""
    if endpoint.startswith(("ipc://", "inproc://")):
        return True
    if not endpoint.startswith("tcp://"):
        return False
    host = endpoint[len("tcp://"):].rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # "*", an interface name or a host name: may be reachable from elsewhere


def check_bind(endpoint: str, keys_dir: str | None) -> None:
    if keys_dir is None and not is_loopback(endpoint):
        raise InsecureBind(
            f"refusing to bind {endpoint} without CURVE keys: anyone who reaches it could run code here; {KEYGEN_HINT}, "
            "or bind ipc:// or tcp://127.0.0.1"
        )


def secure(context: zmq.Context, socket: zmq.Socket, keys_dir: str) -> ThreadAuthenticator:
    """Make `socket` a CURVE server that serves only the clients whose certificates are in keys_dir/clients."""
    root = Path(keys_dir)
    secret, clients = root / SERVER_SECRET, root / CLIENTS_DIR
    if not secret.is_file() or not clients.is_dir():
        raise InsecureBind(f"{keys_dir}: needs {SERVER_SECRET} and a {CLIENTS_DIR}/ directory; {KEYGEN_HINT}")
    public, secret_key = zmq.auth.load_certificate(str(secret))
    if secret_key is None:
        raise InsecureBind(f"{secret}: holds no secret key; {KEYGEN_HINT}")
    auth = ThreadAuthenticator(context)
    auth.start()
    auth.configure_curve(domain="*", location=str(clients))
    socket.curve_secretkey = secret_key
    socket.curve_publickey = public
    socket.curve_server = True
    log.info("CURVE on: serving the clients in %s", clients)
    return auth
