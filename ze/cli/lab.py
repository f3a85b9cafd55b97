"""`ze lab up|down|status|watch|run`: a live lab in network namespaces (see ze.lab.lab).

`ze lab run` (what `make run` does) = up, a live view until Ctrl-C, then down.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

from ze.cli import output


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lab", help="a live lab in network namespaces: BIRD upstream, ze, traffic (root)")
    lsub = p.add_subparsers(dest="lab_command", metavar="ACTION")
    p.set_defaults(func=lambda a: (p.print_help(), 1)[1])

    def common(s: argparse.ArgumentParser) -> None:
        s.add_argument("--name", default="ze-lab", help="the lab's name (namespaces NAME-tx, NAME-ze, ...)")
        s.add_argument("--json", action="store_true", help='JSON output: {"status":"ok","data":...}')

    def sizing(s: argparse.ArgumentParser) -> None:
        s.add_argument("--prefixes", type=int, default=2000, help="routes BIRD announces (default 2000)")
        s.add_argument("--length", type=int, default=26, help="their prefix length (default 26)")
        s.add_argument("--pps", type=int, default=200, help="sender packets per second (default 200)")
        s.add_argument("--seconds", type=int, default=3600, help="sender stops after this (default 3600)")

    s = lsub.add_parser("up", help="make the lab and start BIRD, ze and the sender; returns")
    common(s)
    sizing(s)
    s.set_defaults(func=cmd_up)
    s = lsub.add_parser("down", help="stop the lab's processes, delete its namespaces, pins and files")
    common(s)
    s.set_defaults(func=cmd_down)
    s = lsub.add_parser("status", help="one snapshot: ze's views, BIRD, kernel routes, traffic")
    common(s)
    s.set_defaults(func=cmd_status)
    s = lsub.add_parser("watch", help="the snapshot refreshed live until Ctrl-C (the lab stays up)")
    common(s)
    s.add_argument("--interval", type=float, default=1.0)
    s.set_defaults(func=cmd_watch)
    s = lsub.add_parser("run", help="up, watch live, and down on Ctrl-C (make run)")
    common(s)
    sizing(s)
    s.add_argument("--interval", type=float, default=1.0)
    s.set_defaults(func=cmd_run)


def _say(msg: str) -> None:
    print(f"ze lab: {msg}", file=sys.stderr, flush=True)


def _up(args: argparse.Namespace) -> int:
    from ze.lab import lab

    try:
        st = lab.up(args.name, prefixes=args.prefixes, plen=args.length, pps=args.pps, seconds=args.seconds,
                    say=_say if not args.json else lambda m: None)  # fmt: skip
    except lab.LabError as e:
        return output.error(str(e), args.json)
    if args.json:
        return output.ok(st.to_dict(), True)
    _say(f"up: `ze lab status --name {st.name}`, ze's socket {st.socket}, `ze lab down --name {st.name}`")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    return _up(args)


def cmd_down(args: argparse.Namespace) -> int:
    from ze.lab import lab

    if not args.json:
        try:
            lab.check_can_run()
        except lab.LabError as e:
            return output.error(str(e), False)
    done = lab.down(args.name, say=_say if not args.json else lambda m: None)
    left = lab.leftovers(args.name)
    if left:
        return output.error(f"left behind: {', '.join(left)}", args.json, data=done)
    if args.json:
        return output.ok(done, True)
    if not any(done.values()):
        _say(f"no lab named {args.name} was up")
    return 0


def _state(args: argparse.Namespace):
    from ze.lab import lab

    st = lab.load_state(args.name)
    if st is None:
        output.error(f"no lab named {args.name} is up (ze lab up --name {args.name})", args.json)
    return st


def cmd_status(args: argparse.Namespace) -> int:
    from ze.lab import view

    st = _state(args)
    if st is None:
        return 1
    snap = view.snapshot(st)
    if args.json:
        return output.ok(snap, True)
    from rich.console import Console

    Console().print(view.render(snap))
    return 0


def _watch(st, interval: float) -> None:
    from rich.console import Console
    from rich.live import Live

    from ze.lab import view

    console = Console()
    if not console.is_terminal:  # a pipe or a log: one snapshot after another
        while True:
            console.print(view.render(view.snapshot(st)))
            console.print()
            console.file.flush()
            time.sleep(max(0.2, interval))
    with Live(view.render(view.snapshot(st)), console=console, refresh_per_second=4, screen=False) as live:
        while True:
            time.sleep(max(0.2, interval))
            live.update(view.render(view.snapshot(st)))


def cmd_watch(args: argparse.Namespace) -> int:
    st = _state(args)
    if st is None:
        return 1
    try:
        _watch(st, args.interval)
    except KeyboardInterrupt:
        pass
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from ze.lab import lab

    # SIGTERM (and SIGHUP: the terminal closed) end the view the way Ctrl-C does, so down() runs.
    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    # Ctrl-C too, even when started with SIGINT ignored (a background job of a script inherits that)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    code = 0
    try:
        code = _up(args)
        if code:
            return code
        st = lab.load_state(args.name)
        if st is not None:
            _watch(st, args.interval)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the teardown short
        if lab.load_state(args.name) is not None:
            _say("tearing down")
            lab.down(args.name, say=_say)
            left = lab.leftovers(args.name)
            if left:
                _say(f"left behind: {', '.join(left)}")
                code = 1
            else:
                _say("nothing left behind")
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return code
