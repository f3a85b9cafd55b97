"""ExaBGP API process for the interop lab (run by exabgp, not imported).

argv[1] is the run directory. Commands written to <dir>/cmd.fifo (one per line) are passed to
exabgp on stdout; every line exabgp writes to our stdin (JSON events, "done" acks) is appended
to <dir>/events.jsonl, flushed per line.
"""

import os
import sys
import threading

rundir = sys.argv[1]
fifo = os.path.join(rundir, "cmd.fifo")


def pump_commands() -> None:
    while True:
        with open(fifo) as f:  # blocks until a writer opens it; EOF when it closes
            for line in f:
                sys.stdout.write(line if line.endswith("\n") else line + "\n")
                sys.stdout.flush()


def main() -> None:
    threading.Thread(target=pump_commands, daemon=True).start()
    with open(os.path.join(rundir, "events.jsonl"), "a") as out:
        out.write('{"type": "api-started"}\n')
        out.flush()
        for line in sys.stdin:
            out.write(line)
            out.flush()


if __name__ == "__main__":
    main()
