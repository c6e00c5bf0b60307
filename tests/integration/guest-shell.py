#!/usr/bin/env python3
"""Runs one command in a test guest's root shell on its serial console
(ttyS0, after "VMM-TEST: ready") and prints what it printed.

    guest-shell.py DOMAIN COMMAND [TIMEOUT_S]
    guest-shell.py --long DOMAIN COMMAND [TIMEOUT_S]

It attaches with `virsh console --force` through a pty (virsh wants a
terminal), types the command between two marker echos, reads until the
closing marker, and detaches (Ctrl-]). The markers are typed with a pair
of empty quotes inside, so the terminal's echo of the typed line never
matches them: only the shell's output does. Exit 0 with the output, 2 on
timeout (what was seen goes to stderr), 1 when virsh fails.
Used by tests/integration/guest-shell.mjs; shared by every suite.

--long is for a command that runs long or keeps the guest busy (a big
dd): typed in the foreground, a late answer is taken for a lost line and
the command is typed, and run, again and again. With --long the command
starts in the background (output to /tmp/VMMJOB<pid>-<n>.out, its exit status
to .rc when it ends), guarded by a .go file so that a retyped start line
never starts it twice; then short `cat` lines poll for the .rc file every
2 s until TIMEOUT_S. It prints the command's output and exits 3 when the
command itself failed.

Busybox asks the terminal where its cursor is (ESC [6n) with each prompt
and takes what comes next as the answer: every such question is answered,
whenever it comes, or the typed command is swallowed. A slow guest may
still lose a typed line (it was busy redrawing): when the opening marker
does not come back within a few seconds, the line is cleared (Ctrl-U) and
typed again with a new marker, so a late first try is never mistaken for
the second.
"""
import os
import pty
import select
import sys
import time

CURSOR_QUERY = b'\x1b[6n'
CURSOR_ANSWER = b'\x1b[1;3R'
RETYPE_AFTER_S = 8.0


class Console:
    def __init__(self, fd, deadline):
        self.fd, self.deadline = fd, deadline
        self.seen = bytearray()
        self.answered = 0   # offset up to which cursor queries were answered

    def pump(self, wait):
        ready, _, _ = select.select([self.fd], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        self.seen.extend(chunk)
        while True:
            at = self.seen.find(CURSOR_QUERY, self.answered)
            if at < 0:
                break
            os.write(self.fd, CURSOR_ANSWER)
            self.answered = at + len(CURSOR_QUERY)
        return True

    def read_until(self, pattern, start=0, within=None):
        """Offset of pattern at or after start; -1 at the deadline or EOF."""
        until = self.deadline if within is None else min(self.deadline, time.monotonic() + within)
        while True:
            at = self.seen.find(pattern, start)
            if at >= 0:
                return at
            left = until - time.monotonic()
            if left <= 0 or not self.pump(min(left, 0.5)):
                return -1

    def settle(self, quiet_s=0.3, within=3.0):
        """Reads until the guest has been quiet for quiet_s (prompt drawn)."""
        until = min(self.deadline, time.monotonic() + within)
        while time.monotonic() < until:
            before = len(self.seen)
            if not self.pump(quiet_s):
                return
            if len(self.seen) == before:
                return


def run(con, fd, command):
    """The command's output, or None at the deadline."""
    attempt = 0
    while time.monotonic() < con.deadline:
        attempt += 1
        tag = 'VMMSH%d%s' % (os.getpid(), chr(ord('a') + attempt % 26))
        begin, end = (tag + '-B').encode(), (tag + '-E').encode()
        mark = len(con.seen)
        os.write(fd, b'\x15\r')   # Ctrl-U clears a half-typed line; then a fresh prompt
        con.settle()
        half = len(tag) // 2
        typed = 'echo %s""%s-B; %s; echo %s""%s-E\r' % (
            tag[:half], tag[half:], command, tag[:half], tag[half:])
        os.write(fd, typed.encode())
        b = con.read_until(begin + b'\r\n', mark, within=RETYPE_AFTER_S)
        if b < 0:
            continue
        e = con.read_until(end, b + 1)
        if e < 0:
            return None
        out = bytes(con.seen[b + len(begin) + 2:e])
        return out.replace(b'\r\n', b'\n').decode('utf-8', 'replace')
    return None


POLL_EVERY_S = 2.0


def run_long(con, fd, command):
    """(exit status, output) of command run in the background, polled; None
    at the deadline."""
    f = '/tmp/VMMJOB%d-%d' % (os.getpid(), time.time_ns() % 1000000007)
    started = run(con, fd,
                  '[ -e {f}.go ] || {{ : >{f}.go; {{ ( {c} ) >{f}.out 2>&1 </dev/null; '
                  'echo $? >{f}.r; mv {f}.r {f}.rc; }} & }}'.format(f=f, c=command))
    if started is None:
        return None
    while True:
        rc = run(con, fd, 'cat %s.rc 2>/dev/null' % f)
        if rc is None:
            return None
        if rc.strip().isdigit():
            break
        con.settle(quiet_s=POLL_EVERY_S, within=POLL_EVERY_S)
    out = run(con, fd, 'cat {f}.out; rm -f {f}.go {f}.out {f}.rc'.format(f=f))
    return None if out is None else (int(rc.strip()), out)


def detach(pid, fd):
    """Ends virsh: Ctrl-] first, reading on meanwhile (a virsh blocked on
    a full terminal never sees it); killed if it is still there after 0.5 s."""
    try:
        os.write(fd, b'\x1d')
    except OSError:
        pass
    until = time.monotonic() + 0.5
    while time.monotonic() < until:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            os.close(fd)
            return
        try:
            if select.select([fd], [], [], 0.1)[0]:
                os.read(fd, 65536)
        except OSError:
            pass
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    os.close(fd)
    os.waitpid(pid, 0)


def main():
    args = sys.argv[1:]
    long_mode = args[:1] == ['--long']
    if long_mode:
        args = args[1:]
    domain, command = args[0], args[1]
    timeout = float(args[2]) if len(args) > 2 else 30.0
    uri = os.environ.get('LIBVIRT_DEFAULT_URI', 'qemu:///system')
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp('virsh', ['virsh', '-c', uri, 'console', '--force', domain])
    con = Console(fd, time.monotonic() + timeout)

    rc = 0
    if con.read_until(b'Escape character') < 0:
        rc = 1
    else:
        if long_mode:
            done = run_long(con, fd, command)
            status, out = done if done else (None, None)
        else:
            out = run(con, fd, command)
            status = 0
        if out is None:
            rc = 2
        else:
            sys.stdout.write(out)
            if status:
                rc = 3
    detach(pid, fd)
    if rc:
        sys.stderr.write(con.seen.decode('utf-8', 'replace')[-4000:])
    return rc


if __name__ == '__main__':
    sys.exit(main())
