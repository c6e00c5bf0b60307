#!/usr/bin/python3
"""Reads a kickstart file as Anaconda's parser (pykickstart) does: each
command line split by shlex in POSIX mode, sections %packages/%post up to
%end. Debian does not package pykickstart, so this checks what it would
check for the commands VMManager writes: every command is known, its
options are known and have values where they need them, and sections are
closed. Prints the parsed file as JSON: {"commands": {name: [[args...]]},
"sections": {name: [lines]}}; exits 1 with the reason on stderr."""
import json
import shlex
import sys

# command -> {option: takes_value}; "args": positional arguments allowed
COMMANDS = {
    "text": ({}, 0), "lang": ({}, 1), "keyboard": ({}, 1), "zerombr": ({}, 0),
    "timezone": ({"--utc": False}, 1),
    "network": ({"--bootproto": True, "--hostname": True, "--activate": False}, 0),
    "rootpw": ({"--lock": False, "--iscrypted": False}, 1),
    "user": ({"--name": True, "--groups": True, "--iscrypted": False, "--password": True}, 0),
    "sshkey": ({"--username": True}, 1),
    "clearpart": ({"--all": False, "--initlabel": False}, 0),
    "autopart": ({}, 0), "bootloader": ({}, 0), "firstboot": ({"--disabled": False}, 0),
    "poweroff": ({}, 0),
}
SECTIONS = {"%packages", "%post"}


def fail(why):
    print(why, file=sys.stderr)
    sys.exit(1)


def parse(text):
    out = {"commands": {}, "sections": {}}
    section = None
    for n, line in enumerate(text.splitlines(), 1):
        if section:
            if line.strip() == "%end":
                section = None
            else:
                out["sections"][section].append(line)
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = shlex.split(line, comments=True, posix=True)
        if words[0] in SECTIONS:
            section = words[0]
            out["sections"][section] = []
            continue
        if words[0] not in COMMANDS:
            fail(f"line {n}: unknown command {words[0]}")
        options, max_args = COMMANDS[words[0]]
        args = []
        for w in words[1:]:
            if w.startswith("--"):
                name, eq, value = w.partition("=")
                if name not in options:
                    fail(f"line {n}: {words[0]} has no option {name}")
                if options[name] != bool(eq):
                    fail(f"line {n}: {name} {'needs' if options[name] else 'takes no'} value")
                args.append([name, value])
            else:
                args.append(w)
        if sum(1 for a in args if isinstance(a, str)) > max_args:
            fail(f"line {n}: too many arguments to {words[0]}")
        out["commands"].setdefault(words[0], []).append(args)
    if section:
        fail(f"section {section} has no %end")
    return out


print(json.dumps(parse(open(sys.argv[1], encoding="utf-8").read())))
