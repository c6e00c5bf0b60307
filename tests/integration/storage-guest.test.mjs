// A booted guest whose disk lives in a second dir pool (issue 12), not the
// portal's own: a user's VM in a pool an administrator opened to users.
// Its snapshot reserves what the disk in that pool holds (the quota
// estimate reads the real file), a revert brings a file back there, and a
// backup of it, restored, brings its data back into the same pool file.
// A template imported into that pool: a linked clone of it boots with its
// overlay's backing file there; neither the template's volume nor (while
// the clone lives) the template can be deleted.
// What the guest has is read through its serial shell (guest-shell.mjs).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  adminClient, assertError, createVmDone, dataOf, domainOf, jobEnded, jobOf, q, serialLog, sql, stopVmForced, userClient, waitFor,
} from './lib.mjs';
import { guestShellWhenUp, onGuestDisk } from './guest-shell.mjs';
import { importFile, tusCreate } from './tus.mjs';

const PREFIX = `t12g-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const ROOT = '/srv/vmm-storage';
const JOB_DEADLINE_MS = 240_000;
const virsh = (...args) => execFileSync('virsh', ['-q', '-c', 'qemu:///system', ...args], { encoding: 'utf8' });

let admin;
let owner;
let pool;
let vm;
let domain;
const poolDir = join(ROOT, `${PREFIX}-pool`);

/** Waits for the job of res (a 202) and returns it, asserting it succeeded. */
async function jobSucceeded(client, res) {
  assert.equal(res.status, 202, res.text);
  const job = await jobEnded(client, jobOf(res).id, JOB_DEADLINE_MS);
  assert.equal(job.state, 'succeeded', JSON.stringify(job));
  return job;
}

const inGuest = (line, expect) => guestShellWhenUp(domain, line, expect);
const write = (text, n) => inGuest(onGuestDisk(`echo ${text} > /mnt/f.txt`, `W${n}-$((${n}+1))`), new RegExp(`W${n}-${n + 1}`));
const read = async () => (await inGuest(onGuestDisk('echo "F=$(cat /mnt/f.txt 2>/dev/null || echo none)"', 'R-$((4+1))'), /F=\S+\s+R-5/)).match(/F=(\S+)/)[1];

async function start() {
  const res = await owner.client.api('POST', `/vms/${vm.id}/start`, {});
  assert.ok([200, 202].includes(res.status), res.text);
  await waitFor(() => virsh('domstate', domain).trim() === 'running', 60_000, 250);
}

before(async () => {
  admin = await adminClient();
  mkdirSync(ROOT, { recursive: true });
  const made = await admin.api('POST', '/storage-pools', { name: `${PREFIX}-pool`, type: 'dir', path: poolDir, users_allowed: true });
  assert.equal(made.status, 202, made.text);
  const job = await jobEnded(admin, jobOf(made).id, 60_000);
  assert.equal(job.state, 'succeeded', JSON.stringify(job));
  pool = dataOf(made);
  assert.equal(pool.users_allowed, true);
  owner = await userClient(admin);
  const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  const res = await createVmDone(owner.client, {
    name: `${PREFIX}-vm`, template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, start: true, pool: pool.id,
  });
  assert.equal(res.status, 201, res.text);
  vm = res.vm;
  assert.equal(res.job.state, 'succeeded', JSON.stringify(res.job));
  domain = domainOf(vm.id);
});

const extraVms = [];
const templates = [];
after(async () => {
  for (const id of [vm?.id, ...extraVms].filter(Boolean)) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
  for (const id of templates) await admin.api('DELETE', `/templates/${id}`);
  if (pool) {
    const res = await admin.api('DELETE', `/storage-pools/${pool.id}`);
    if (res.status === 202) await jobEnded(admin, jobOf(res).id, 60_000).catch(() => {});
  }
  sql(`DELETE FROM storage_pools WHERE name LIKE ${q(`${PREFIX}%`)}`);
  rmSync(poolDir, { recursive: true, force: true });
});

describe('a booted guest with its disk in a second dir pool', () => {
  test('the disk is in the pool; a snapshot reserves what it holds there; a revert brings a file back', async () => {
    const disk = join(poolDir, `${domain}.qcow2`);
    assert.match(virsh('dumpxml', domain), new RegExp(`<source file='${disk.replace(/[.]/g, '\\.')}'`));
    await write('one', 1);
    await stopVmForced(owner.client, vm.id);

    // The estimate is the allocation of the disk in the pool (the machine
    // is stopped: the file does not change until the snapshot is taken).
    const held = statSync(disk).blocks * 512;
    assert.ok(held > 0);
    const res = await owner.client.api('POST', `/vms/${vm.id}/snapshots`, { name: 'one' });
    assert.equal(res.status, 201, res.text);
    const snap = dataOf(res);
    assert.equal(snap.size_bytes, held, 'the snapshot reserves what the disk in the pool holds');

    await start();
    await write('two', 2);
    assert.equal(await read(), 'two');
    await stopVmForced(owner.client, vm.id);
    const reverted = await owner.client.api('POST', `/vms/${vm.id}/snapshots/${snap.id}/revert`, { start: true });
    assert.equal(reverted.status, 200, reverted.text);
    assert.equal(await read(), 'one', 'the revert brought the file back on the disk in the pool');
    await stopVmForced(owner.client, vm.id);
    assert.equal((await owner.client.api('DELETE', `/vms/${vm.id}/snapshots/${snap.id}`)).status, 200);
  });

  test('a backup of it, restored, brings the data back into the same pool file', async () => {
    const disk = join(poolDir, `${domain}.qcow2`);
    await start();
    await write('two', 3);
    const res = await owner.client.api('POST', `/vms/${vm.id}/backups`, { mode: 'full' });
    await jobSucceeded(owner.client, res);
    const backup = dataOf(await owner.client.api('GET', `/backups/${dataOf(res).id}`));
    assert.equal(backup.status, 'ready');
    assert.ok(backup.size_bytes > 0, JSON.stringify(backup));

    await write('three', 4);
    assertError(await owner.client.api('POST', `/backups/${backup.id}/restore`, {}), 409, 'vm_running');
    await stopVmForced(owner.client, vm.id);
    await jobSucceeded(owner.client, await owner.client.api('POST', `/backups/${backup.id}/restore`, { target: 'same' }));
    assert.match(virsh('dumpxml', domain), new RegExp(`<source file='${disk.replace(/[.]/g, '\\.')}'`), 'the disk stayed in the pool');
    assert.ok(statSync(disk).isFile());
    await start();
    assert.equal(await read(), 'two', 'the restore wrote the backup into the disk in the pool');
  });

  test('a template imported into the pool: its linked clone boots from a backing file there', async () => {
    const image = new URL('../../var/images/vmm-test.qcow2', import.meta.url).pathname;
    const meta = { kind: 'template', format: 'qcow2', filename: 'pooled.qcow2', name: `${PREFIX}-tpl`, visibility: 'public' };
    // Only administrators choose the pool; the pool must exist.
    const { res: refused } = await tusCreate(owner.client, 1000, { ...meta, visibility: 'private', pool_id: String(pool.id) });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body?.error?.field, 'pool_id', refused.text);
    const { res: missing } = await tusCreate(admin, 1000, { ...meta, pool_id: '999999999' });
    assert.equal(missing.status, 404, missing.text);

    // The upload page offers administrators the pool (not users).
    assert.match((await admin.page('/uploads')).text, new RegExp(`<option value="${pool.id}">${PREFIX}-pool<`));
    assert.doesNotMatch((await owner.client.page('/uploads')).text, /id="pool_id"/);
    const { template_id: templateId } = await importFile(admin, image, { ...meta, pool_id: String(pool.id) }, 180_000);
    templates.push(templateId);
    const tpl = dataOf(await admin.api('GET', `/templates/${templateId}`));
    assert.equal(tpl.storage_pool_id, pool.id);
    const [[file]] = sql(`SELECT file_name FROM templates WHERE id = ${templateId}`);
    const stored = join(poolDir, file);
    assert.ok(statSync(stored).isFile(), 'the template\'s file is in the pool');
    const listed = dataOf(await admin.api('GET', `/storage-pools/${pool.id}/volumes`));
    assert.ok(listed.some((v) => v.name === file), 'libvirt lists it as the pool\'s volume');

    // A linked clone (the portal's own pool for its disk) boots from it.
    const made = await createVmDone(owner.client, {
      name: `${PREFIX}-linked`, template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, start: true,
    });
    assert.equal(made.status, 201, made.text);
    extraVms.push(made.vm.id);
    assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));
    const linked = domainOf(made.vm.id);
    const xml = virsh('dumpxml', linked);
    const overlay = xml.match(/<source file='([^']+)'/)[1];
    const info = JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', overlay], { encoding: 'utf8' }));
    assert.equal(info['full-backing-filename'] ?? info['backing-filename'], stored, 'the overlay\'s backing file is in the pool');
    await waitFor(() => /VMM-TEST: boot ok/.test(serialLog(linked)), 180_000, 500);

    // The template's volume is not deleted behind it; the template waits for its clone.
    assertError(await admin.api('DELETE', `/storage-pools/${pool.id}/volumes/${file}`), 409, 'volume_in_use');
    assertError(await admin.api('DELETE', `/templates/${templateId}`), 409, 'in_use');
    assert.equal((await admin.api('DELETE', `/vms/${made.vm.id}?delete_disks=true`)).status, 200);
    extraVms.pop();
    const gone = await admin.api('DELETE', `/templates/${templateId}`);
    assert.equal(gone.status, 200, gone.text);
    templates.pop();
    assert.throws(() => statSync(stored), 'its file left the pool');
    assert.ok(!dataOf(await admin.api('GET', `/storage-pools/${pool.id}/volumes`)).some((v) => v.name === file));
  });
});
