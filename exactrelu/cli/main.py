"""The ``exactrelu`` command line (SPEC §4).

Exit status: 0 success, 1 a check failed, 2 bad input or usage, 3 a limit reached.
Human-readable text by default; ``--json`` prints exactly one JSON document.

>>> main(["--version"])
exactrelu 0.1.0
0
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Sequence

from .. import __version__
from ..core.errors import InputError, LimitReached
from .commands import ORDER, Outcome


class _Formatter(argparse.HelpFormatter):
    """Keeps every command name on the same line as its help in ``exactrelu --help``."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action._get_subactions():
                width = len(sub.metavar or sub.dest) + self._current_indent + 4
                self._action_max_length = max(self._action_max_length, width)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: status 2, no traceback
        self.print_usage(sys.stderr)
        print(f"exactrelu: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="exactrelu",
        formatter_class=_Formatter,
        description="Exact analysis of small piecewise-linear (ReLU-family) networks: activation "
        "regions, Lipschitz constants, derivatives at kinks, and certificates a checker re-verifies. "
        "CASE is a .json case, or an .onnx, .nnet or .pt network file. Start with: "
        "exactrelu regions CASE; exactrelu lipschitz CASE --norm inf; exactrelu plot CASE -o regions.png.",
        epilog="Run 'exactrelu COMMAND --help' for a command's options. Exit status: 0 success, "
        "1 a check failed, 2 bad input, 3 a limit reached.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in ORDER:
        try:
            module = importlib.import_module(f"exactrelu.cli.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"exactrelu.cli.commands.{name}":
                continue
            raise
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        p.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON document on stdout"
        )
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"exactrelu {__version__}")
        return 0
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        outcome: Outcome = args._run(args)
    except InputError as e:
        return _fail(args, str(e), 2)
    except LimitReached as e:
        partial = e.partial if isinstance(e.partial, Outcome) else None
        if partial is not None:
            _emit(args, partial)
        print(f"exactrelu: limit reached: {e}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("exactrelu: interrupted", file=sys.stderr)
        return 130
    _emit(args, outcome)
    return outcome.status


def _emit(args: argparse.Namespace, outcome: Outcome) -> None:
    if args.json:
        json.dump(outcome.doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(outcome.text.rstrip("\n") + "\n")


def _fail(args: argparse.Namespace, message: str, status: int) -> int:
    if getattr(args, "json", False):
        json.dump({"error": message, "status": status}, sys.stdout)
        sys.stdout.write("\n")
    print(f"exactrelu: error: {message}", file=sys.stderr)
    return status


def run() -> None:
    """Console-script entry point."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 0
    raise SystemExit(status)


if __name__ == "__main__":
    run()
