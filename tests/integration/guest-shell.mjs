// The test guest's root shell on its serial console (ttyS0, after
// "VMM-TEST: ready"; see tests/images/README.md), for any suite that must
// look inside a guest: guestShell(domain, 'ls /sys/block') answers what
// the command printed. One command per attach (guest-shell.py does it
// through a pty with `virsh console`); a console already attached
// elsewhere is taken over (--force).
import { execFile } from 'node:child_process';

const SCRIPT = new URL('./guest-shell.py', import.meta.url).pathname;

// uri: the libvirt host the guest runs on (default qemu:///system).
export function guestShell(domain, command, timeoutS = 30, uri = undefined) {
  const env = uri ? { ...process.env, LIBVIRT_DEFAULT_URI: uri } : process.env;
  return new Promise((resolve, reject) => {
    execFile('python3', [SCRIPT, domain, command, String(timeoutS)],
      { encoding: 'utf8', timeout: (timeoutS + 10) * 1000, env }, (err, stdout, stderr) => {
        if (err) reject(new Error(`guest shell "${command}" on ${domain}: ${err.message}\n${stderr}`));
        else resolve(stdout);
      });
  });
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
