// The test guest's root shell on its serial console (ttyS0, after
// "VMM-TEST: ready"; see tests/images/README.md), for any suite that must
// look inside a guest: guestShell(domain, 'ls /sys/block') answers what
// the command printed. One command per attach (guest-shell.py does it
// through a pty with `virsh console`); a console already attached
// elsewhere is taken over (--force).
import { execFile } from 'node:child_process';

const SCRIPT = new URL('./guest-shell.py', import.meta.url).pathname;

function shell(flags, domain, command, timeoutS, uri) {
  const env = uri ? { ...process.env, LIBVIRT_DEFAULT_URI: uri } : process.env;
  return new Promise((resolve, reject) => {
    execFile('python3', [SCRIPT, ...flags, domain, command, String(timeoutS)],
      { encoding: 'utf8', timeout: (timeoutS + 10) * 1000, env }, (err, stdout, stderr) => {
        if (err) reject(new Error(`guest shell "${command}" on ${domain}: ${err.message}\n${stderr}`));
        else resolve(stdout);
      });
  });
}

// uri: the libvirt host the guest runs on (default qemu:///system).
export function guestShell(domain, command, timeoutS = 30, uri = undefined) {
  return shell([], domain, command, timeoutS, uri);
}

// For a command that runs long or keeps the guest busy (a big dd, a sync
// of many MiB): started in the background, its end polled for (a marker
// file) until timeoutS, then its output. Typed in the foreground, such a
// command would be taken for a lost line and typed (and run) again.
// Rejects when it failed (non-zero exit) or did not end in time.
export function guestShellLong(domain, command, timeoutS = 600, uri = undefined) {
  return shell(['--long'], domain, command, timeoutS, uri);
}

// Runs command until check(output) holds or the deadline passes; the last
// output either way (a guest that reacts to hotplug takes a moment). A
// console that did not answer in time is tried again until the deadline.
export async function guestShellUntil(domain, command, check, deadlineMs = 30_000) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    let out;
    try {
      out = await guestShell(domain, command);
    } catch (err) {
      if (Date.now() > end) throw err;
      continue;
    }
    if (check(out) || Date.now() > end) return out;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// Runs command once the guest's shell answers (it may still be booting, or
// its console not yet up) until expect matches what it printed, within
// deadlineMs (a TCG guest on a loaded 2-core host takes minutes to boot); the output.
export async function guestShellWhenUp(domain, command, expect, deadlineMs = 360_000) {
  const end = Date.now() + deadlineMs;
  let out = '';
  for (;;) {
    try {
      out = await guestShellUntil(domain, command, (o) => expect.test(o), 20_000);
    } catch (e) {
      out = e.message;   // the console is not up yet
    }
    if (expect.test(out)) return out;
    if (Date.now() > end) throw new Error(`guest shell "${command}" on ${domain}: no ${expect} in time:\n${out}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// A shell line that runs body with the guest's data disk (/dev/vda, vfat)
// mounted at /mnt, then prints done (write it so the typed line never
// matches, e.g. 'W-$((6*7))') when body succeeded. A slow console can make
// the line run twice (its answer was lost and it is typed again), so body
// must be idempotent (rm -f, >), whatever a run before left mounted is
// unmounted first, and the disk is unmounted whatever body did.
export function onGuestDisk(body, done) {
  return `umount /mnt 2>/dev/null; r=no; mount -t vfat /dev/vda /mnt && { ${body}; } && r=ok; umount /mnt; sync; [ $r = ok ] && echo ${done}`;
}
