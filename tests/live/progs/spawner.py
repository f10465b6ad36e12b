"""Starts programs for a test while a capture follows it (its children are traced through
fork and exec). One JSON command per stdin line:

{"argv": [...], "env": {...}, "stdin": FIFO, "stdout": FILE} -> "pid N"
{"wait": N} -> "rc N" (the child's exit status)
"""

import json
import os
import subprocess
import sys


def main() -> None:
    children: dict[int, subprocess.Popen] = {}
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if "wait" in cmd:
            proc = children.pop(cmd["wait"])
            print(f"rc {proc.wait()}", flush=True)
            continue
        with open(cmd["stdin"], "rb") as stdin, open(cmd["stdout"], "wb") as stdout:
            proc = subprocess.Popen(cmd["argv"], stdin=stdin, stdout=stdout,
                                    env={**os.environ, **cmd.get("env", {})})
        children[proc.pid] = proc
        print(f"pid {proc.pid}", flush=True)


if __name__ == "__main__":
    main()
