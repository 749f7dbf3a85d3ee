"""supervisord event listener: when a program's main process dies, kill what it left behind.

supervisord starts each program in its own process group and restarts the
main process when it exits, but a main process killed outright (SIGKILL, the
OOM killer) leaves its children running as orphans: granian's workers keep
serving old code, holding memory and the port. systemd does this itself
(KillMode); supervisord has no such option for unexpected exits, so this
listener SIGKILLs the dead process's group (its pid) on every EXITED event.
"""

from __future__ import annotations

import os
import signal
import sys

from supervisor import childutils


def main() -> None:
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        if headers["eventname"] == "PROCESS_STATE_EXITED":
            fields, _ = childutils.eventdata(payload + "\n")
            pid = int(fields["pid"])
            try:
                os.killpg(pid, signal.SIGKILL)
                print(f"reaper: killed what {fields['processname']} (pid {pid}) left behind", file=sys.stderr)
            except ProcessLookupError:
                pass  # it left nothing
            except PermissionError as exc:
                print(f"reaper: cannot kill group {pid}: {exc}", file=sys.stderr)
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
