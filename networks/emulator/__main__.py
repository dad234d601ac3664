"""`python -m networks.emulator [--host 127.0.0.1] [--port 8765] [--verbose]`.

Prints exactly one line, `EMULATOR LISTENING http://<host>:<port>`, once the socket
listens (`--port 0` picks a free port); request logs (with --verbose) go to stderr.
"""

from __future__ import annotations

import argparse

from networks.emulator.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m networks.emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    serve(args.host, args.port, verbose=args.verbose, ready=lambda url: print(f"EMULATOR LISTENING {url}", flush=True))


if __name__ == "__main__":
    main()
