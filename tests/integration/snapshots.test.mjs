// Snapshots on booted guests (qemu:///system, TCG, the demo template of
// tests/images): a snapshot with memory of a running guest, reverted,
// brings back what only its RAM held (a shell variable, read back over the
// serial console); a disk-only snapshot, reverted, brings back a file's
// earlier content; the tree, delete (children kept), merge, pins, quota,
// the guide's aliases and bad input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import {
  adminClient, assertError, createVmDone, dataOf, jobOf, sql, STATE, userClient, waitFor,
} from './lib.mjs';
import { onGuestDisk } from './guest-shell.mjs';

const BOOT_DEADLINE_MS = 120_000;
const JOB_DEADLINE_MS = 120_000;

function virsh(...args) {
  return execFileSync('virsh', ['-q', '-c', 'qemu:///system', ...args], { encoding: 'utf8' });
}
const domainOf = (vmId) => sql(`SELECT domain_name FROM vms WHERE id = ${Number(vmId)}`)[0][0];
function serialLog(domain) {
  const path = `${STATE}/pool/consoles/${domain}.log`;
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
// The guest's serial port is a pty: QEMU reads what is typed only while
// someone holds its other end open (it polls for that about once a
// second), and what the guest prints must be drained from it.
const ttys = new Map();
function tty(domain) {
  // A new QEMU process (a start) has a new pty, maybe of the same name.
  const path = `${virsh('domid', domain).trim()} ${virsh('dumpxml', domain).match(/<serial type='pty'>\s*<source path='([^']+)'/)[1]}`;
  let t = ttys.get(domain);
  if (t?.path !== path) {
    t?.stream.destroy();
    const fd = openSync(path.split(' ')[1], 'r+');
    const stream = new ReadStream(fd);
    stream.on('data', () => {});
    stream.on('error', () => {});
    t = { path, fd, stream, opened: Date.now() };
    ttys.set(domain, t);
  }
  return t;
}
/** Types a line into the guest's root shell on its serial port. */
function type(domain, line) {
  const t = tty(domain);
  if (Date.now() - t.opened > 1500) writeSync(t.fd, `${line}\n`);
}
/** Types line until the serial log shows what it prints (the shell may still be starting). */
async function shell(domain, line, expect) {
  await waitFor(() => {
    if (expect.test(serialLog(domain))) return true;
    type(domain, line);
    return false;
  }, 60_000, 2000);
}
async function jobDone(client, res) {
  const job = jobOf(res);
  assert.ok(job, `no meta.job: ${res.text.slice(0, 200)}`);
  const done = await waitFor(async () => {
    const j = dataOf(await client.api('GET', `/jobs/${job.id}`));
    return ['succeeded', 'failed', 'cancelled'].includes(j.state) ? j : null;
  }, JOB_DEADLINE_MS, 500);
  assert.equal(done.state, 'succeeded', done.message);
  return done;
}

let admin;
let templateId;
const cleanup = [];

before(async () => {
  admin = await adminClient();
  templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
});
after(async () => {
  for (const t of ttys.values()) t.stream.destroy();
  for (const id of cleanup) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
});

async function bootedVm(client, name) {
  const made = await createVmDone(client, {
    name, template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1,
  });
  assert.equal(made.status, 201, made.text);
  cleanup.push(dataOf(made.res).id);
  assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));
  const vm = made.vm;
  const domain = domainOf(vm.id);
  await waitFor(() => serialLog(domain).includes('VMM-TEST: ready'), BOOT_DEADLINE_MS, 500);
  return { vm, domain };
}

describe('snapshots of a real guest', () => {
  test('a snapshot with memory, reverted, continues where the guest was', async () => {
    const { client } = await userClient(admin);
    const { vm, domain } = await bootedVm(client, 'snap-memory');
    await shell(domain, 'x=before; echo "M1-$x"', /M1-before/);

    // Disk-only of a running machine: libvirt 9.0 cannot; said so first.
    assertError(await client.api('POST', `/vms/${vm.id}/snapshots`, { name: 'disk' }), 409, 'wrong_state');

    let res = await client.api('POST', `/vms/${vm.id}/snapshots`,
      { name: 'mem', description: 'x is before', include_memory: true });
    assert.equal(res.status, 202, res.text);
    const snap = dataOf(res);
    assert.equal(snap.name, 'mem');
    await jobDone(client, res);
    assert.equal(virsh('domstate', domain).trim(), 'running');
    let list = dataOf(await client.api('GET', `/vms/${vm.id}/snapshots`));
    assert.equal(list.length, 1);
    assert.deepEqual([list[0].id, list[0].status, list[0].include_memory, list[0].vm_state, list[0].current],
      [snap.id, 'ready', true, 'running', true]);
    assert.ok(list[0].size_bytes >= 128 << 20, 'the memory state counts in its size');

    // The shell moves on; the revert brings the variable back.
    await shell(domain, 'x=after; echo "M2-$x"', /M2-after/);
    res = await client.api('POST', `/vms/${vm.id}/snapshots/${snap.id}/revert`);
    assert.equal(res.status, 202, res.text);
    await jobDone(client, res);
    assert.equal(virsh('domstate', domain).trim(), 'running');
    assert.equal(dataOf(await client.api('GET', `/vms/${vm.id}`)).state, 'running');
    await shell(domain, 'echo "M3-$x"', /M3-(before|after)/);
    assert.match(serialLog(domain), /M3-before/);
    assert.doesNotMatch(serialLog(domain), /M3-after/);

    // Another user may not revert it: the VM is not theirs (404).
    const other = await userClient(admin);
    assertError(await other.client.api('POST', `/vms/${vm.id}/snapshots/${snap.id}/revert`), 404, 'not_found');
    assertError(await other.client.api('GET', `/vms/${vm.id}/snapshots`), 404, 'not_found');

    // The guide's shape: includeMemory, includeDisk, atomic; .../restore.
    res = await client.api('POST', `/vms/${vm.id}/snapshots`,
      { name: 'guide', includeMemory: true, includeDisk: true, atomic: true });
    assert.equal(res.status, 202, res.text);
    await jobDone(client, res);
    const guide = dataOf(res);
    list = dataOf(await client.api('GET', `/vms/${vm.id}/snapshots`));
    assert.deepEqual(list.map((s) => [s.name, s.depth, s.current]), [['mem', 0, false], ['guide', 1, true]]);
    assertError(await client.api('POST', `/vms/${vm.id}/snapshots`, { name: 'g2', includeDisk: false }), 422, 'unsupported');
    res = await client.api('POST', `/vms/${vm.id}/snapshots/${snap.id}/restore`);
    assert.equal(res.status, 202, res.text);
    assert.equal(res.headers.get('deprecation'), 'true');
    await jobDone(client, res);
    list = dataOf(await client.api('GET', `/vms/${vm.id}/snapshots`));
    assert.equal(list.find((s) => s.current).id, snap.id);

    // Delete keeps the children: "guide" becomes a root.
    res = await client.api('DELETE', `/vms/${vm.id}/snapshots/${snap.id}`);
    assert.equal(res.status, 200, res.text);
    list = dataOf(await client.api('GET', `/vms/${vm.id}/snapshots`));
    assert.deepEqual(list.map((s) => [s.id, s.parent_id]), [[guide.id, null]]);
    assert.doesNotMatch(virsh('snapshot-list', domain, '--name'), new RegExp(`vmm-s${snap.id}\\b`));
  });

  test('a disk-only snapshot, reverted, brings back a file; merge, pins, quota, bad input', async () => {
    const { client, user } = await userClient(admin);
    const { vm, domain } = await bootedVm(client, 'snap-disk');
    await shell(domain, onGuestDisk('echo one > /mnt/f.txt', 'D1-$((1+1))'), /D1-2/);
    let res = await client.api('POST', `/vms/${vm.id}/stop`, { timeout: 60 });
    assert.equal(dataOf(res).state, 'stopped', res.text);
    assertError(await client.api('POST', `/vms/${vm.id}/snapshots`, { name: 'm', include_memory: true }), 409, 'wrong_state');

    res = await client.api('POST', `/vms/${vm.id}/snapshots`, { name: 'one', description: 'f.txt says one' });
    assert.equal(res.status, 201, res.text);
    const one = dataOf(res);
    assert.deepEqual([one.status, one.include_memory, one.vm_state], ['ready', false, 'stopped']);
    // Names: unique per VM, at most 64 characters.
    assertError(await client.api('POST', `/vms/${vm.id}/snapshots`, { name: 'one' }), 409, 'name_taken');
    assertError(await client.api('POST', `/vms/${vm.id}/snapshots`, { name: 'x'.repeat(65) }), 400, 'invalid_length');
    assertError(await client.api('POST', `/vms/${vm.id}/snapshots`, {}), 400, 'missing_field');

    // Change the file, then revert (and start) from stopped.
    dataOf(await client.api('POST', `/vms/${vm.id}/start`));
    await waitFor(() => serialLog(domain).includes('VMM-TEST: ready'), BOOT_DEADLINE_MS, 500);
    await shell(domain, onGuestDisk('echo two > /mnt/f.txt', 'D2-$((2+1))'), /D2-3/);
    // Reverting a disk-only snapshot would pull the power: refused while running.
    assertError(await client.api('POST', `/vms/${vm.id}/snapshots/${one.id}/revert`), 409, 'wrong_state');
    dataOf(await client.api('POST', `/vms/${vm.id}/stop`, { timeout: 60 }));
    res = await client.api('POST', `/vms/${vm.id}/snapshots/${one.id}/revert`, { start: true });
    assert.equal(res.status, 200, res.text);
    await waitFor(() => serialLog(domain).includes('VMM-TEST: ready'), BOOT_DEADLINE_MS, 500);
    await shell(domain, onGuestDisk('echo "F-$(cat /mnt/f.txt)"', 'D3-$((3+1))'), /F-(one|two)/);
    assert.match(serialLog(domain), /F-one/);
    assert.doesNotMatch(serialLog(domain), /F-two/);
    dataOf(await client.api('POST', `/vms/${vm.id}/stop`, { force: true }));

    // A chain one -> two -> three; merge one..three leaves three, its data whole.
    const two = dataOf(await client.api('POST', `/vms/${vm.id}/snapshots`, { name: 'two' }));
    const three = dataOf(await client.api('POST', `/vms/${vm.id}/snapshots`, { name: 'three' }));
    let list = dataOf(await client.api('GET', `/vms/${vm.id}/snapshots`));
    assert.deepEqual(list.map((s) => [s.name, s.depth]), [['one', 0], ['two', 1], ['three', 2]]);
    assertError(await client.api('POST', `/vms/${vm.id}/snapshots/merge`, { source: three.id, target: one.id }), 422, 'not_a_chain');
    // A pinned point stops the merge (and a delete) before anything goes.
    dataOf(await client.api('PATCH', `/vms/${vm.id}/snapshots/${two.id}`, { pinned: true }));
    assertError(await client.api('POST', `/vms/${vm.id}/snapshots/merge`, { source: one.id, target: three.id }), 409, 'snapshot_pinned');
    assertError(await client.api('DELETE', `/vms/${vm.id}/snapshots/${two.id}`), 409, 'snapshot_pinned');
    assert.equal(dataOf(await client.api('GET', `/vms/${vm.id}/snapshots`)).length, 3);
    dataOf(await client.api('PATCH', `/vms/${vm.id}/snapshots/${two.id}`, { pinned: false }));
    res = await client.api('POST', `/vms/${vm.id}/snapshots/merge`, { source: one.id, target: three.id });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(dataOf(res).merged.sort(), [one.id, two.id].sort());
    list = dataOf(await client.api('GET', `/vms/${vm.id}/snapshots`));
    assert.deepEqual(list.map((s) => [s.name, s.parent_id]), [['three', null]]);
    execFileSync('qemu-img', ['check', '-U', `${STATE}/pool/disks/${domain}.qcow2`]);

    // Snapshot space counts in the disk quota: 1 GiB is the VM's disk already.
    const quota = dataOf(await client.api('GET', '/me/quota'));
    assert.ok(quota.usage.disk_gb >= 2, `snapshots reserve space: ${JSON.stringify(quota.usage)}`);
    dataOf(await admin.api('PUT', `/users/${user.id}/quota`,
      { max_vms: 10, max_vcpus: 16, max_memory_mb: 32768, max_disk_gb: 1 }));
    assertError(await client.api('POST', `/vms/${vm.id}/snapshots`, { name: 'over' }), 409, 'quota_exceeded');
    assert.equal(sql(`SELECT COUNT(*) FROM snapshots WHERE vm_id = ${vm.id}`)[0][0], '1');

    // The page lists them, with the forms.
    const page = await client.request('GET', `/vms/${vm.id}/snapshots`);
    assert.equal(page.status, 200);
    assert.match(page.text, /id="snapshot-tree"/);
    assert.match(page.text, /three/);
  });
});
