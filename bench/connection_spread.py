"""How 2 keep-alive connections land on the 2 web workers of `misinfo-risk serve --workers 2` (issue 12: is
service/balance.py still needed?).

    python -m bench.connection_spread [--rounds 30]

Three ways of accepting, each on a fresh server (`--pool-workers 0`, the shipped model):
- `balanced`: what serve runs (service/balance.py, least-connections accepting);
- `plain`: the same server with uvicorn's own accepting on uvloop (one accept queue shared by the workers);
- `plain + UV_TCP_SINGLE_ACCEPT=1`: libuv's switch to accept one connection per wake-up.
Per round: `wrk -t2 -c2 -d1s` (two connections opened at once), then two connections opened one after the
other (each after its first answer, as a client's pool does) that send a second request. The access log's
`pid` says which worker served each. Last, SO_REUSEPORT (one listening socket per worker, the kernel hashes
each connection to one): two sockets on one port, which socket each of 2 connections reaches, 500 times.
Needs `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import select
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.http_bench import bodies
from bench.http_server import LUA, Server

PLAIN = """
import sys
import misinfo_risk.service.__main__ as serve
if __name__ == "__main__":
    options = serve.uvicorn_options
    serve.uvicorn_options = lambda settings: options(settings) | {"loop": "uvloop"}
    sys.exit(serve.main())
"""
BODY = json.dumps({"text": "The council approved the budget on Tuesday, officials said."}).encode()


def _post(conn: socket.socket) -> None:
    conn.sendall(
        f"POST /v1/score HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {len(BODY)}\r\n\r\n".encode()
        + BODY
    )
    data = b""
    while b"}" not in data:
        data += conn.recv(65536)


def accepting(name: str, work: Path, rounds: int) -> str:
    options = ["--port", "0", "--workers", "2", "--pool-workers", "0", "--log-level", "info"]
    env = {"RISK_ACCESS_LOG": "true"} | ({"UV_TCP_SINGLE_ACCEPT": "1"} if "SINGLE" in name else {})
    if name == "balanced":
        argv = [sys.executable, "-m", "misinfo_risk", "serve", *options]
    else:
        (work / "plain_serve.py").write_text(PLAIN)
        argv = [sys.executable, str(work / "plain_serve.py"), *options]
    path, _ = bodies(work, 50)
    outcomes: dict[str, Counter[str]] = {"wrk -c2": Counter(), "2 sequential": Counter()}
    with Server(argv, workers=2, env=env) as server:

        def spread(since: int) -> str:
            log = Path(server.access.name).read_bytes().splitlines()[since:]
            pids = {json.loads(line)["pid"] for line in log if b'"/v1/score"' in line}
            return "split" if len(pids) == 2 else "one worker"

        for _ in range(rounds):
            mark = server.access_lines()
            wrk = ["wrk", "-t2", "-c2", "-d1s", "-s", str(LUA), server.url + "/v1/score", "--", str(path)]
            subprocess.run(wrk, capture_output=True, check=True)
            time.sleep(0.2)
            outcomes["wrk -c2"][spread(mark)] += 1
            mark = server.access_lines()
            conns = []
            for _ in range(2):
                conns.append(socket.create_connection(("127.0.0.1", server.port)))
                _post(conns[-1])
            for conn in conns:
                _post(conn)
                conn.close()
            time.sleep(0.2)
            outcomes["2 sequential"][spread(mark)] += 1
    return f"| {name} | " + " | ".join(f"{c['one worker']} of {rounds}" for c in outcomes.values()) + " |"


def reuseport(tries: int = 500) -> str:
    listeners: list[socket.socket] = []
    for _ in range(2):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", listeners[0].getsockname()[1] if listeners else 0))
        sock.listen(64)
        sock.setblocking(False)
        listeners.append(sock)
    same = 0
    for _ in range(tries):
        clients = [socket.create_connection(listeners[0].getsockname()) for _ in range(2)]
        reached: list[socket.socket] = []
        while len(reached) < 2:
            for sock in select.select(listeners, [], [], 1)[0]:
                try:
                    sock.accept()[0].close()
                    reached.append(sock)
                except BlockingIOError:
                    pass
        same += reached[0] is reached[1]
        for client in clients:
            client.close()
    return f"| SO_REUSEPORT (kernel only, no server) | {same} of {tries} | |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    print("| accepting | wrk -c2: both on one worker | 2 sequential connections: both on one worker |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for name in ("balanced", "plain", "plain + UV_TCP_SINGLE_ACCEPT=1"):
            print(accepting(name, Path(work), args.rounds), flush=True)
    print(reuseport())


if __name__ == "__main__":
    main()
