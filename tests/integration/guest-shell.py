#!/usr/bin/env python3
"""Runs one command in a test guest's root shell on its serial console
(ttyS0, after "VMM-TEST: ready") and prints what it printed.

    guest-shell.py DOMAIN COMMAND [TIMEOUT_S]

It attaches with `virsh console --force` through a pty (virsh wants a
terminal), types the command between two marker echos, reads until the
closing marker, and detaches (Ctrl-]). The markers are typed with a pair
of empty quotes inside, so the terminal's echo of the typed line never
matches them: only the shell's output does. Exit 0 with the output, 2 on
timeout (what was seen goes to stderr), 1 when virsh fails.
Used by tests/integration/guest-shell.mjs; shared by every suite.
"""
import os
import pty
import select
import sys
import time


def main():
    domain, command = sys.argv[1], sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
    uri = os.environ.get('LIBVIRT_DEFAULT_URI', 'qemu:///system')
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp('virsh', ['virsh', '-c', uri, 'console', '--force', domain])
    tag = 'VMMSH%d' % os.getpid()
    begin, end = (tag + '-B').encode(), (tag + '-E').encode()
    deadline = time.monotonic() + timeout
    seen = bytearray()

    def read_until(pattern, start=0, within=None):
        until = deadline if within is None else min(deadline, time.monotonic() + within)
        while True:
            at = seen.find(pattern, start)
            if at >= 0:
                return at
            left = until - time.monotonic()
            if left <= 0:
                return -1
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return -1
                if not chunk:
                    return -1
                seen.extend(chunk)

    rc = 0
    if read_until(b'Escape character') < 0:
        rc = 1
    else:
        mark = len(seen)
        # A fresh prompt first (the shell may sit after old output). Busybox
        # asks the terminal where its cursor is (ESC [6n) with each prompt
        # and takes what comes next as the answer: answer it, or the typed
        # command is swallowed.
        # A prompt drawn before the fresh one (output the guest printed since
        # the last attach) asks too: answer each until no question comes.
        os.write(fd, b'\r')
        at, within = mark, 5
        while True:
            asked = read_until(b'\x1b[6n', at, within=within)
            if asked < 0:
                break
            os.write(fd, b'\x1b[1;3R')
            at, within = asked + 4, 0.7
        half = len(tag) // 2
        typed = 'echo %s""%s-B; %s; echo %s""%s-E\r' % (
            tag[:half], tag[half:], command, tag[:half], tag[half:])
        os.write(fd, typed.encode())
        b = read_until(begin + b'\r\n', mark)
        e = read_until(end, b + 1) if b >= 0 else -1
        if b < 0 or e < 0:
            rc = 2
        else:
            out = bytes(seen[b + len(begin) + 2:e])
            sys.stdout.write(out.replace(b'\r\n', b'\n').decode('utf-8', 'replace'))
    try:
        os.write(fd, b'\x1d')   # Ctrl-]: virsh detaches
    except OSError:
        pass
    time.sleep(0.1)
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    if rc:
        sys.stderr.write(seen.decode('utf-8', 'replace')[-4000:])
    return rc


if __name__ == '__main__':
    sys.exit(main())
