// Backups on a booted guest (qemu:///system, TCG, the demo template):
// a marker file written in the guest, a full backup, the marker changed
// and more data written, an incremental (which holds only the change),
// the marker deleted; restoring the incremental brings the changed marker
// back, restoring the full one the first; a backup of a stopped machine;
// the chain after a restore; bad input and other users' backups.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  adminClient, assertError, createVmDone, dataOf, domainOf, jobEnded, jobOf, sql, STATE, stopVmForced, userClient, waitFor,
} from './lib.mjs';
import { guestShellLong, guestShellWhenUp, onGuestDisk } from './guest-shell.mjs';

const JOB_DEADLINE_MS = 240_000;

const domState = (domain) => execFileSync('virsh', ['-q', '-c', 'qemu:///system', 'domstate', domain],
  { encoding: 'utf8' }).trim();

let admin;
let owner;
let other;
let templateId;
const cleanup = [];

before(async () => {
  admin = await adminClient();
  owner = await userClient(admin);
  other = await userClient(admin);
  templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
});
after(async () => {
  for (const id of cleanup) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
});

/** Waits for the job of res (a 202) and asserts it succeeded. */
async function jobSucceeded(client, res) {
  assert.equal(res.status, 202, res.text);
  const job = await jobEnded(client, jobOf(res).id, JOB_DEADLINE_MS);
  assert.equal(job.state, 'succeeded', JSON.stringify(job));
  return job;
}

const inGuest = (domain, line, expect) => guestShellWhenUp(domain, line, expect);
const marker = (domain) =>
  inGuest(domain, onGuestDisk('echo "M=$(cat /mnt/marker.txt 2>/dev/null || echo none) B=$(ls /mnt | grep -c big.bin)"', 'R-$((4+1))'), /M=\S+ B=\d\s+R-5/)
    .then((out) => out.match(/M=(\S+) B=(\d)/).slice(1));

async function power(c, vmId, action) {
  if (action === 'stop') return stopVmForced(c, vmId);
  const res = await c.api('POST', `/vms/${vmId}/start`, {});
  assert.ok([200, 202].includes(res.status), res.text);
  await waitFor(() => domState(domainOf(vmId)) === 'running', 60_000, 250);
}

describe('backups of a booted guest', () => {
  let vm;
  let domain;
  let full;
  let incr;

  before(async () => {
    const made = await createVmDone(owner.client, {
      name: '备份测试', template_id: templateId, vcpus: 1, memory_mb: 256, disk_gb: 1, start: true,
    });
    assert.equal(made.status, 201, made.text);
    cleanup.push(dataOf(made.res).id);
    assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));
    vm = made.vm;
    domain = domainOf(vm.id);
  });

  test('full, then incremental with only the change; restore either; the restored guest boots', async () => {
    const c = owner.client;
    await inGuest(domain, onGuestDisk('echo one > /mnt/marker.txt', 'W1-$((1+1))'), /W1-2/);
    let res = await c.api('POST', `/vms/${vm.id}/backups`, { mode: 'full' });
    await jobSucceeded(c, res);
    full = dataOf(await c.api('GET', `/backups/${dataOf(res).id}`));
    assert.equal(full.status, 'ready');
    assert.equal(full.mode, 'full');

    // 2 MiB of new data and a changed marker (long for a TCG guest: in the
    // background, polled), then an incremental.
    assert.match(await guestShellLong(domain, onGuestDisk('dd if=/dev/urandom of=/mnt/big.bin bs=64k count=32 2>/dev/null && echo two > /mnt/marker.txt', 'W2-$((2+1))'), 300), /W2-3/);
    res = await c.api('POST', `/vms/${vm.id}/backups`, { mode: 'incremental' });
    await jobSucceeded(c, res);
    incr = dataOf(await c.api('GET', `/backups/${dataOf(res).id}`));
    assert.equal(incr.mode, 'incremental', incr.note);
    assert.equal(incr.parent_id, full.id);
    assert.ok(incr.size_bytes >= 2 << 20, `the incremental holds the new 2 MiB (${incr.size_bytes})`);
    assert.ok(incr.size_bytes * 2 < full.size_bytes,
      `the incremental (${incr.size_bytes}) holds only the change, the full ${full.size_bytes}`);

    // The marker goes; a restore over the running machine is refused.
    await inGuest(domain, onGuestDisk('rm -f /mnt/marker.txt /mnt/big.bin', 'W3-$((3+1))'), /W3-4/);
    assertError(await c.api('POST', `/backups/${incr.id}/restore`, {}), 409, 'vm_running');
    await power(c, vm.id, 'stop');

    await jobSucceeded(c, await c.api('POST', `/backups/${incr.id}/restore`, { target: 'same' }));
    await power(c, vm.id, 'start');
    assert.deepEqual(await marker(domain), ['two', '1'], 'the incremental brings back what came after the full one');

    await power(c, vm.id, 'stop');
    await jobSucceeded(c, await c.api('POST', `/backups/${full.id}/restore`, {}));
    await power(c, vm.id, 'start');
    assert.deepEqual(await marker(domain), ['one', '0'], 'the full one has the first marker only');
  });

  test('after a restore the chain starts again: a stopped machine gets a full backup, with a note', async () => {
    const c = owner.client;
    await power(c, vm.id, 'stop');
    // Two at once: the database lets one begin (a unique claim per VM), the other is a 409.
    const both = await Promise.all([1, 2].map(() => c.api('POST', `/vms/${vm.id}/backups`, { mode: 'incremental' })));
    assert.deepEqual(both.map((x) => x.status).sort(), [202, 409], both.map((x) => x.text).join('\n'));
    assertError(both.find((x) => x.status === 409), 409, 'backup_running');
    let res = both.find((x) => x.status === 202);
    // Even by hand: a second backup being made of the VM is refused by the table itself.
    assert.throws(() => sql(`INSERT INTO backups (vm_id, owner_id, vm_name, mode) VALUES (${vm.id}, ${owner.user.id}, 'x', 'full')`), /Duplicate entry/);
    await jobSucceeded(c, res);
    const b = dataOf(await c.api('GET', `/backups/${dataOf(res).id}`));
    assert.equal(b.mode, 'full');
    assert.match(b.note, /checkpoint/);
    assert.equal(domState(domain), 'shut off', 'the machine is stopped again after its backup');
    // libvirt refuses internal snapshots of a stopped machine with checkpoints: said clearly.
    assertError(await c.api('POST', `/vms/${vm.id}/snapshots`, { name: 'after-backup' }), 409, 'has_checkpoints');
    // The list on the VM's page and in the API.
    const list = dataOf(await c.api('GET', `/vms/${vm.id}/backups`));
    assert.deepEqual(list.map((x) => x.id), [b.id, incr.id, full.id], 'the refused one left no row');
    const page = await c.page(`/vms/${vm.id}/backups`);
    assert.equal(page.status, 200);
    assert.match(page.text, new RegExp(`<tr data-id="${b.id}">`));
    assert.match((await c.page(`/vms/${vm.id}`)).text, /id="open-backups"/);
    // A backup restored as a new machine (a clone from it): it boots with the incremental's data.
    const res2 = await c.api('POST', `/vms/${vm.id}/clone`, { name: '从备份恢复', backup_id: incr.id, start: true });
    assert.equal(res2.status, 201, res2.text);
    const restored = dataOf(res2);
    const job = await jobEnded(c, jobOf(res2).id, JOB_DEADLINE_MS);
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    assert.ok(job.log.some((l) => l.line === 'Checksums match.'), 'the chain was checked first');
    assert.deepEqual(await marker(domainOf(restored.id)), ['two', '1'], 'the new machine boots with the backup');
    res = await c.api('DELETE', `/vms/${restored.id}?delete_disks=true`);
    assert.equal(res.status, 200, res.text);
    assertError(await c.api('POST', `/backups/${incr.id}/restore`, { target: 'new' }), 400, 'missing_field');
  });

  test('bad input, other users, delete with incrementals, schedules', async () => {
    const c = owner.client;
    assertError(await c.api('POST', `/vms/${vm.id}/backups`, { mode: 'partial' }), 400, 'invalid_choice');
    assertError(await other.client.api('POST', `/vms/${vm.id}/backups`, {}), 404, 'not_found');
    assertError(await other.client.api('GET', `/backups/${full.id}`), 404, 'not_found');
    assertError(await other.client.api('POST', `/backups/${full.id}/restore`, {}), 404, 'not_found');
    assertError(await other.client.api('DELETE', `/backups/${full.id}`), 404, 'not_found');
    assertError(await c.api('DELETE', `/backups/${full.id}`), 409, 'has_incrementals');
    assertError(await c.api('PUT', `/vms/${vm.id}/backup-policy`, { schedule: 'every day', keep: 3 }), 400, 'invalid_schedule');
    assertError(await c.api('PUT', `/vms/${vm.id}/backup-policy`, { schedule: '0 3 * * *', keep: 0 }), 400, 'out_of_range');
    let res = await c.api('PUT', `/vms/${vm.id}/backup-policy`, { schedule: '0 3 * * *', keep: 2, full_every: 7 });
    assert.equal(res.status, 200, res.text);
    assert.equal(dataOf(res).keep, 2);
    // Delete the incremental, then its full one: files and rows go.
    res = await c.api('DELETE', `/backups/${incr.id}`);
    assert.equal(res.status, 200, res.text);
    res = await c.api('DELETE', `/backups/${full.id}`);
    assert.equal(res.status, 200, res.text);
    assertError(await c.api('GET', `/backups/${full.id}`), 404, 'not_found');
    assert.equal(Number(sql(`SELECT COUNT(*) FROM backup_disks WHERE backup_id IN (${full.id}, ${incr.id})`)[0][0]), 0);
    // Admins see every backup at /backups.
    const all = dataOf(await admin.api('GET', '/backups'));
    assert.ok(all.some((x) => x.vm_id === vm.id));
    const mine = dataOf(await other.client.api('GET', '/backups'));
    assert.ok(!mine.some((x) => x.vm_id === vm.id), 'a user sees only their own');
    // A VM with checkpoints is deleted whole; its backups stay, restorable no more over it.
    const left = dataOf(await c.api('GET', `/vms/${vm.id}/backups`))[0];
    res = await c.api('DELETE', `/vms/${vm.id}?delete_disks=true`);
    assert.equal(res.status, 200, res.text);
    assert.throws(() => domState(domain), 'libvirt has no such domain any more');
    assertError(await c.api('POST', `/backups/${left.id}/restore`, {}), 409, 'vm_gone');
    assert.equal(dataOf(await c.api('GET', `/backups/${left.id}`)).status, 'ready');

    // ...but it becomes a new machine, from its disk and the hardware it recorded.
    assertError(await other.client.api('POST', `/backups/${left.id}/restore`, { target: 'new', name: 'x' }), 404, 'not_found');
    const vms = Number(sql(`SELECT COUNT(*) FROM vms WHERE owner_id = ${owner.user.id}`)[0][0]);
    sql(`INSERT INTO quotas (user_id, max_vms, max_vcpus, max_memory_mb, max_disk_gb) VALUES (${owner.user.id}, ${vms}, 64, 65536, 500) ON DUPLICATE KEY UPDATE max_vms = ${vms}, max_disk_gb = 500`);
    assertError(await c.api('POST', `/backups/${left.id}/restore`, { target: 'new', name: 'over' }), 409, 'quota_exceeded');
    assert.equal(Number(sql(`SELECT COUNT(*) FROM vms WHERE owner_id = ${owner.user.id}`)[0][0]), vms, 'nothing half made');
    sql(`DELETE FROM quotas WHERE user_id = ${owner.user.id}`);
    res = await c.api('POST', `/backups/${left.id}/restore`, { target: 'new', name: '复原的机器', start: true });
    await jobSucceeded(c, res);
    const back = dataOf(res);
    cleanup.push(back.id);
    const restored = dataOf(await c.api('GET', `/vms/${back.id}`));
    assert.deepEqual([restored.name, restored.vcpus, restored.memory_mb, restored.disk_gb], ['复原的机器', 1, 256, 1]);
    assert.deepEqual(await marker(domainOf(back.id)), ['one', '0'], 'the new machine boots with the backup\'s data');
  });

  test('backups count in the disk quota', async () => {
    const c = owner.client;
    const usage = dataOf(await c.api('GET', '/me/quota')).usage;
    assert.ok(usage.backup_gb >= 1, `the backups left count (${JSON.stringify(usage)})`);
    const vmRes = await createVmDone(c, { name: 'quota-backup', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, start: false });
    assert.equal(vmRes.job.state, 'succeeded', JSON.stringify(vmRes.job));
    cleanup.push(vmRes.vm.id);
    const used = dataOf(await c.api('GET', '/me/quota')).usage.disk_gb;
    sql(`INSERT INTO quotas (user_id, max_vms, max_vcpus, max_memory_mb, max_disk_gb) VALUES (${owner.user.id}, 10, 16, 32768, ${used}) ON DUPLICATE KEY UPDATE max_disk_gb = ${used}`);
    const res = await c.api('POST', `/vms/${vmRes.vm.id}/backups`, { mode: 'full' });
    assertError(res, 409, 'quota_exceeded');
    assert.match(res.body.error.message, /Backups count in your disk quota/);
    assert.equal(Number(sql(`SELECT COUNT(*) FROM backups WHERE vm_id = ${vmRes.vm.id}`)[0][0]), 0);
    sql(`UPDATE quotas SET max_disk_gb = ${used + 1} WHERE user_id = ${owner.user.id}`);
    await jobSucceeded(c, await c.api('POST', `/vms/${vmRes.vm.id}/backups`, { mode: 'full' }));
    const bytes = Number(sql(`SELECT SUM(size_bytes) FROM backups WHERE owner_id = ${owner.user.id} AND status = 'ready'`)[0][0]);
    assert.equal(dataOf(await c.api('GET', '/me/quota')).usage.backup_gb, Math.ceil(bytes / 2 ** 30), 'what backups take is shown');
    sql(`DELETE FROM quotas WHERE user_id = ${owner.user.id}`);
  });
});

describe('a qcow2 v2 disk (compat 0.10), which holds no bitmap', () => {
  let vm;
  const diskOf = (id) => `${STATE}/pool/disks/${domainOf(id)}.qcow2`;
  const compat = (id) => JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', diskOf(id)],
    { encoding: 'utf8' }))['format-specific'].data.compat;

  before(async () => {
    const made = await createVmDone(owner.client, {
      name: 'v2-disk', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, start: false,
    });
    assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));
    vm = made.vm;
    cleanup.push(vm.id);
    execFileSync('qemu-img', ['amend', '-f', 'qcow2', '-o', 'compat=0.10', diskOf(vm.id)]);
    assert.equal(compat(vm.id), '0.10');
  });

  test('running: a full backup with a note; stopped: converted to v3; then incrementals work', async () => {
    const c = owner.client;
    await power(c, vm.id, 'start');
    let res = await c.api('POST', `/vms/${vm.id}/backups`, { mode: 'full' });
    await jobSucceeded(c, res);
    const first = dataOf(await c.api('GET', `/backups/${dataOf(res).id}`));
    assert.equal(first.mode, 'full');
    assert.match(first.note, /qcow2 v2/);
    assert.equal(compat(vm.id), '0.10', 'a running disk is not touched');

    await power(c, vm.id, 'stop');
    res = await c.api('POST', `/vms/${vm.id}/backups`, { mode: 'incremental' });
    const job = await jobSucceeded(c, res);
    assert.ok(job.log.some((l) => /converted to v3/.test(l.line)), JSON.stringify(job.log));
    assert.equal(compat(vm.id), '1.1');
    const second = dataOf(await c.api('GET', `/backups/${dataOf(res).id}`));
    assert.equal(second.mode, 'full', 'no checkpoint to build on yet');

    res = await c.api('POST', `/vms/${vm.id}/backups`, { mode: 'incremental' });
    await jobSucceeded(c, res);
    const third = dataOf(await c.api('GET', `/backups/${dataOf(res).id}`));
    assert.equal(third.mode, 'incremental', third.note);
    assert.equal(third.parent_id, second.id);
  });
});

describe('a backup of a machine with an added disk and two NICs, restored as a new machine', () => {
  let vm;
  let domain;
  let network;
  // The added disk is raw to the guest: a marker at its start, read back with head.
  const onVdb = 'printf "VDB-%s" $((6*7)) | dd of=/dev/vdb conv=fsync 2>/dev/null && echo V-$((2+3))';
  const readVdb = 'echo "H=$(head -c 6 /dev/vdb)"';

  before(async () => {
    const made = await createVmDone(owner.client, {
      name: 'two-disks', template_id: templateId, vcpus: 1, memory_mb: 256, disk_gb: 1, start: false,
    });
    assert.equal(made.status, 201, made.text);
    vm = made.vm;
    cleanup.push(vm.id);
    domain = domainOf(vm.id);
    const c = owner.client;
    let res = await c.api('POST', `/vms/${vm.id}/disks`, { size_gb: 1 });
    assert.equal(res.status, 201, res.text);
    network = dataOf(res).nics?.[0]?.network_id ?? Number(sql("SELECT id FROM networks WHERE name = 'default'")[0][0]);
    res = await c.api('POST', `/vms/${vm.id}/interfaces`, { network_id: network });
    assert.equal(res.status, 201, res.text);
    const second = dataOf(res).nics[1];
    res = await c.api('PATCH', `/vms/${vm.id}/interfaces/${second.mac}`, { model: 'e1000' });
    assert.equal(res.status, 200, res.text);
    await power(c, vm.id, 'start');
  });

  test('every disk comes back with its data, the NICs on their networks with new MACs, and it boots', async () => {
    const c = owner.client;
    await inGuest(domain, onGuestDisk('echo first > /mnt/marker.txt', 'W1-$((1+1))'), /W1-2/);
    assert.match(await guestShellLong(domain, onVdb, 300), /V-5/);
    let res = await c.api('POST', `/vms/${vm.id}/backups`, { mode: 'full' });
    await jobSucceeded(c, res);
    const b = dataOf(await c.api('GET', `/backups/${dataOf(res).id}`));
    assert.equal(b.status, 'ready');
    const before = dataOf(await c.api('GET', `/vms/${vm.id}`));

    res = await c.api('POST', `/backups/${b.id}/restore`, { target: 'new', name: 'two-disks-back', start: true });
    await jobSucceeded(c, res);
    const back = dataOf(res);
    cleanup.push(back.id);
    const restored = dataOf(await c.api('GET', `/vms/${back.id}`));
    assert.deepEqual(restored.disks.map((d) => [d.target, d.size_gb]), before.disks.map((d) => [d.target, d.size_gb]),
      'the same disks');
    assert.deepEqual(restored.nics.map((n) => [n.network_id, n.model]), before.nics.map((n) => [n.network_id, n.model]),
      'the same networks and models');
    for (const n of restored.nics) assert.ok(!before.nics.some((o) => o.mac === n.mac), `a new MAC (${n.mac})`);
    const newDomain = domainOf(back.id);
    assert.deepEqual(await marker(newDomain), ['first', '0'], 'it boots with the first disk\'s data');
    assert.match(await guestShellWhenUp(newDomain, readVdb, /H=\S+/), /H=VDB-42/, 'the added disk holds its data');
  });
});
