"""The ``exactrelu`` command line (SPEC §4).

Exit status: 0 success, 1 a check failed, 2 bad input or usage, 3 a limit reached,
70 an internal error (a bug in exactrelu: never a verdict). Human-readable text by default;
``--json`` prints exactly one JSON document on stdout, whatever a solver prints meanwhile
(that goes to stderr).

Only the command being run is imported (``--version`` and ``--help`` import no analysis):
the other commands' one-line help is read from their module's source.

>>> main(["--version"])
exactrelu 0.1.0
0
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from .. import __version__
from ..core.errors import InputError, InputLimit, LimitReached
from ..core.limits import Limits, using
from .commands import ORDER, Outcome, positive_int

INTERNAL_ERROR = 70  # EX_SOFTWARE (sysexits.h): a bug, never "a check failed" (1)


class _Formatter(argparse.HelpFormatter):
    """Keeps every command name on the same line as its help in ``exactrelu --help``."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action._get_subactions():
                width = len(sub.metavar or sub.dest) + self._current_indent + 4
                self._action_max_length = max(self._action_max_length, width)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # a leading minus followed by a digit or a point is a number, not an option:
        # ``--at -1/2,0``, ``--window -1,1,-2,2`` (argparse alone takes only ``-1`` and ``-.5``)
        self._negative_number_matcher = re.compile(r"^-\.?[0-9]")

    def error(self, message: str) -> None:  # usage errors: status 2, no traceback
        self.print_usage(sys.stderr)
        print(f"exactrelu: error: {message}", file=sys.stderr)
        raise UsageError(message)


class UsageError(SystemExit):
    """A usage error (status 2); `main` also writes it as the JSON document under ``--json``."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message


_LIMIT_OPTIONS = (
    ("digits", "digits of one number in the input"),
    ("magnitude", "nonzero numbers in the input between 10^-N and 10^N in absolute value"),
    ("depth", "JSON nesting depth"),
    ("layers", "layers of a network"),
    ("neurons", "inputs plus the outputs of every layer"),
)


def _add_limit_options(p: argparse.ArgumentParser) -> None:
    """The engine readers' limits, on a command that does not read its input its own way
    (``check`` has the independent checker's reader and its own ``--max-digits``)."""
    if any(f"--max-{name}" in p._option_string_actions for name, _ in _LIMIT_OPTIONS):
        return
    group = p.add_argument_group("input limits (exit 3 when passed; see exactrelu.core.limits)")
    defaults = Limits()
    for name, what in _LIMIT_OPTIONS:
        group.add_argument(f"--max-{name}", dest=f"limit_{name}", type=positive_int, metavar="N", default=None,
                           help=f"{what} (default {getattr(defaults, name)})")


def _limits(args: argparse.Namespace) -> Limits:
    return Limits().with_(**{name: getattr(args, f"limit_{name}", None) for name, _ in _LIMIT_OPTIONS})


def describe(module: str) -> tuple[str, str]:
    """A command module's ``NAME`` and one-line ``HELP``, read from its source without
    importing it (its imports may be heavy); empty strings where not found.

    >>> describe("check_result")[0]
    'check-result'
    """
    path = Path(__file__).parent / "commands" / f"{module}.py"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except OSError:
        return "", ""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name) and t.id in ("NAME", "HELP"):
                    try:
                        found[t.id] = str(ast.literal_eval(node.value))
                    except ValueError:
                        pass
    return found.get("NAME", ""), found.get("HELP", "")


def build_parser(full: Iterable[str] = ORDER) -> argparse.ArgumentParser:
    """The argument parser; the commands whose modules are in ``full`` with all their options
    (those modules imported), the others by name and help only."""
    full = set(full)
    parser = _Parser(
        prog="exactrelu",
        formatter_class=_Formatter,
        description="Exact analysis of small piecewise-linear (ReLU-family) networks: activation "
        "regions, Lipschitz constants, derivatives at kinks, and certificates a checker re-verifies. "
        "CASE is a .json case, or an .onnx, .nnet or .pt network file. Start with: "
        "exactrelu regions CASE; exactrelu lipschitz CASE --norm inf; exactrelu plot CASE -o regions.png.",
        epilog="Run 'exactrelu COMMAND --help' for a command's options. Exit status: 0 success, "
        "1 a check failed, 2 bad input, 3 a limit reached (what was found so far is reported), "
        f"{INTERNAL_ERROR} an internal error (a bug in exactrelu, never a verdict).",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in ORDER:
        if name not in full:
            command, help_text = describe(name)
            if command:
                sub.add_parser(command, help=help_text)
            continue
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
        _add_limit_options(p)
        p.set_defaults(_run=module.run)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The module of the command named in ``argv`` (its first token that is not an option)."""
    for token in argv:
        if not token.startswith("-"):
            module = token.replace("-", "_")
            return module if module in ORDER else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:
        print(f"exactrelu {__version__}")
        return 0
    command = _command_in(argv)
    parser = build_parser(() if command is None else (command,))
    try:
        args = parser.parse_args(argv)  # --help raises SystemExit(0)
    except UsageError as e:  # status 2 as SystemExit, as argparse's own; under --json its document too
        if "--json" in argv:
            _json_error(e.message, 2)
        raise
    if args.version:
        print(f"exactrelu {__version__}")
        return 0
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        if args.json:
            _json_error("expected a command", 2)
        return 2
    try:
        with _solvers_to_stderr(), using(_limits(args)):
            outcome: Outcome = args._run(args)
    except InputLimit as e:
        return _fail(args, f"limit reached: {e}", 3)
    except InputError as e:
        return _fail(args, str(e), 2)
    except LimitReached as e:
        partial = e.partial if isinstance(e.partial, Outcome) else None
        if partial is not None:
            _emit(args, partial)
            print(f"exactrelu: limit reached: {e}", file=sys.stderr)
            return 3
        return _fail(args, f"limit reached: {e}", 3)
    except KeyboardInterrupt:
        print("exactrelu: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        return _fail(args, "limit reached: out of memory (try a smaller --max-nodes, --max-regions or --time-limit)", 3)
    except OverflowError as e:
        return _fail(args, f"limit reached: a number beyond the range of binary64 floats met a float step ({e}); "
                           "the inputs' magnitudes are too far apart for the float proposals", 3)
    except Exception as e:  # a bug: say so plainly, never as a verdict (status 1)
        if os.environ.get("EXACTRELU_TRACEBACK"):
            import traceback

            traceback.print_exc()
        where = _innermost_frame(e)
        return _fail(args, f"internal error (a bug in exactrelu, please report it): {type(e).__name__}: {e}"
                           f"{where}; set EXACTRELU_TRACEBACK=1 for the traceback", INTERNAL_ERROR)
    _emit(args, outcome)
    return outcome.status


def _innermost_frame(e: BaseException) -> str:
    tb = e.__traceback__
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"


@contextlib.contextmanager
def _solvers_to_stderr() -> Iterator[None]:
    """While a command runs, whatever writes to stdout (a solver's banner from C, a stray
    print) goes to stderr: stdout carries the command's output alone."""
    with contextlib.redirect_stdout(sys.stderr):
        try:
            sys.__stdout__.flush() if sys.__stdout__ else None
            saved = os.dup(1)
        except (OSError, ValueError, AttributeError):
            yield
            return
        try:
            os.dup2(2, 1)
            yield
        finally:
            try:
                sys.stderr.flush()
            finally:
                os.dup2(saved, 1)
                os.close(saved)


def _emit(args: argparse.Namespace, outcome: Outcome) -> None:
    if args.json:
        json.dump(outcome.doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(outcome.text.rstrip("\n") + "\n")


def _json_error(message: str, status: int) -> None:
    json.dump({"error": message, "status": status}, sys.stdout)
    sys.stdout.write("\n")


def _fail(args: argparse.Namespace, message: str, status: int) -> int:
    if getattr(args, "json", False):
        _json_error(message, status)
    print(f"exactrelu: error: {message}" if status != 3 else f"exactrelu: {message}", file=sys.stderr)
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
