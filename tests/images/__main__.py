"""``python -m tests.images build|serve|stop`` (see tests/images/__init__.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.images")
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build the test images from Debian packages")
    b.add_argument("--out", type=Path, default=None)
    b.add_argument("--force", action="store_true")
    s = sub.add_parser("serve", help="start docker-registry and push the test images")
    s.add_argument("--port", type=int, default=5000)
    s.add_argument("--dir", type=Path, default=None)
    s.add_argument("--out", type=Path, default=None, help="image cache dir (build output)")
    s.add_argument("--htpasswd", action="store_true", help="require basic auth (user/password)")
    t = sub.add_parser("stop", help="stop the registry started by serve")
    t.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.cmd == "build":
        from tests.images.build import build

        print(build(args.out, force=args.force))
        return 0
    from tests.images import registry

    if args.cmd == "serve":
        server = registry.serve(args.port, args.dir, cache=args.out, auth=args.htpasswd)
        print(server.pid)
        return 0
    registry.stop(args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
