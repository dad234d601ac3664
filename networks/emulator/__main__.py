"""`python -m networks.emulator [--host 127.0.0.1] [--port 8765] [--verbose]`.

Prints exactly one line, `EMULATOR LISTENING http://<host>:<port>`, once the socket
listens (`--port 0` picks a free port); request logs (with --verbose) go to stderr.
"""

from __future__ import annotations

from networks.emulator.server import command_line, serve


def main(argv: list[str] | None = None) -> None:
    command_line(argv, prog="python -m networks.emulator", port=8765, banner="EMULATOR", serve=serve)


if __name__ == "__main__":
    main()
