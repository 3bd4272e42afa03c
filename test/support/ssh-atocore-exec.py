"""`docker exec atocore …` in miniature, for the tests: AtoCore's validator runs as the owner of
the snapshots (on Dalidou: inside the AtoCore container), while the SSH user only reads.

    python3 ssh-atocore-exec.py serve SOCKET          # as the owner, with ATOCORE_* and PYTHONPATH set
    python3 ssh-atocore-exec.py exec SOCKET validate STAMP   # as the SSH user: prints the answer, exits with its code

The server runs exactly one command, `python3 -m atocore.ops.backup validate STAMP`, for a
stamp that matches ^\\d{8}T\\d{6}Z$ (as a daemon that runs commands for another user must).
AtoCore's validator opens the snapshot read-write, so it needs the owner's rights.
"""

from __future__ import annotations

import json
import os
import re
import socket
import socketserver
import subprocess
import sys

STAMP = re.compile(r"\A\d{8}T\d{6}Z\Z")


class Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        request = json.loads(self.rfile.readline() or b"{}")
        argv = request.get("argv")
        if not (isinstance(argv, list) and len(argv) == 2 and argv[0] == "validate" and isinstance(argv[1], str) and STAMP.match(argv[1])):
            answer = {"exit": 2, "stdout": "", "stderr": f"refused: {argv!r}\n"}
        else:
            done = subprocess.run(
                [sys.executable, "-m", "atocore.ops.backup", "validate", argv[1]],
                capture_output=True,
                text=True,
                timeout=120,
            )
            answer = {"exit": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
        self.wfile.write(json.dumps(answer).encode() + b"\n")


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def serve(path: str) -> int:
    if os.path.exists(path):
        os.unlink(path)
    with Server(path, Handler) as server:
        os.chmod(path, 0o666)
        print("ready", flush=True)
        server.serve_forever()
    return 0


def execute(path: str, argv: list[str]) -> int:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(150)
        client.connect(path)
        client.sendall(json.dumps({"argv": argv}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = client.recv(65536)
            if not chunk:
                break
            data += chunk
    answer = json.loads(data)
    sys.stdout.write(answer["stdout"])
    sys.stderr.write(answer["stderr"])
    return int(answer["exit"])


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        raise SystemExit(serve(sys.argv[2]))
    if len(sys.argv) >= 3 and sys.argv[1] == "exec":
        raise SystemExit(execute(sys.argv[2], sys.argv[3:]))
    print(__doc__, file=sys.stderr)
    raise SystemExit(2)
