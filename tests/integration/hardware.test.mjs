// Hardware while running (issue 17) on a booted demo guest: disks added,
// grown and removed live, an ISO inserted and ejected, vCPUs added; what
// libvirt says (virsh) and what the guest itself sees (its serial shell,
// tests/integration/guest-shell.mjs). Bad input gets a clear 4xx and
// changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import {
  adminClient, assertError, createVmDone, dataOf, jobOf, sql, STATE, userClient, waitFor,
} from './lib.mjs';
import { guestShell, guestShellUntil } from './guest-shell.mjs';
import { waitJob } from './tus.mjs';

const BOOT_DEADLINE_MS = 120_000;

function virsh(...args) {
  return execFileSync('virsh', ['-q', '-c', 'qemu:///system', ...args], { encoding: 'utf8' });
}
const domainOf = (vmId) => sql(`SELECT domain_name FROM vms WHERE id = ${Number(vmId)}`)[0][0];
function serialLog(domain) {
  const path = `${STATE}/pool/consoles/${domain}.log`;
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
const targets = (domain) => virsh('domblklist', domain).split('\n')
  .map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
function lastAudit(action, vmId) {
  const rows = sql(`SELECT result, changes FROM audit_log WHERE action = '${action}' AND ` +
    `target_id = ${Number(vmId)} ORDER BY id DESC LIMIT 1`);
  return rows.length ? { result: rows[0][0], changes: JSON.parse(rows[0][1] || 'null') } : null;
}

let admin;
let owner;
let other;
let templateId;
let isoId;
const cleanup = [];

before(async () => {
  admin = await adminClient();
  owner = await userClient(admin);
  other = await userClient(admin);
  templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  isoId = Number(sql("SELECT id FROM isos WHERE name = 'Demo installer'")[0][0]);
});

after(async () => {
  for (const id of cleanup) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
});

async function createVm(client, fields = {}) {
  const made = await createVmDone(client, {
    name: 'hw', template_id: templateId, vcpus: 1, memory_mb: 256, disk_gb: 1, ...fields,
  });
  assert.equal(made.status, 201, made.text);
  cleanup.push(dataOf(made.res).id);
  assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));
  return made.vm;
}

describe('a running guest', () => {
  let vm;
  let domain;

  before(async () => {
    vm = await createVm(owner.client);
    domain = domainOf(vm.id);
    await waitFor(() => serialLog(domain).includes('VMM-TEST: ready'), BOOT_DEADLINE_MS, 500);
  });

  test('a hot-added disk appears in the guest and in virsh, grows live, and goes when the guest lets go', async () => {
    const c = owner.client;
    let res = await c.api('POST', `/vms/${vm.id}/disks`, { size_gb: 1 });
    assert.equal(res.status, 201, res.text);
    const hw = dataOf(res);
    assert.deepEqual(hw.disks.map((d) => d.target), ['vda', 'vdb'], 'the first free virtio name');
    assert.equal(hw.disks[1].state, 'attached');
    assert.ok(targets(domain).includes('vdb'), 'virsh domblklist lists it');
    assert.match(virsh('dumpxml', '--inactive', domain), /<target dev='vdb' bus='virtio'\/>/,
      'the stored definition has it too');
    // The VM page's Hardware section lists it and says what is live.
    const page = await c.page(`/vms/${vm.id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<section class="card" id="hardware">/);
    assert.match(page.text, /<tr data-target="vdb">/);
    assert.match(page.text, /id="hardware-live-note">The machine runs: virtio and SCSI disks are added and removed live/);
    const blocks = await guestShellUntil(domain, 'ls /sys/block', (out) => out.includes('vdb'));
    assert.match(blocks, /\bvdb\b/, 'the guest sees the new disk');
    const audit = lastAudit('vm.disk_add', vm.id);
    assert.equal(audit.result, 'success');
    assert.equal(audit.changes.disks.before.length, 1, 'audited with before');
    assert.equal(audit.changes.disks.after.length, 2, 'and after');

    // Grown live: the guest's view of the size follows (512-byte sectors).
    res = await c.api('POST', `/vms/${vm.id}/disks/vdb/resize`, { size_gb: 2 });
    assert.equal(res.status, 200, res.text);
    assert.equal(dataOf(res).disks[1].size_gb, 2);
    const size = await guestShellUntil(domain, 'cat /sys/block/vdb/size',
      (out) => out.trim() === String(2 * 2 ** 21));
    assert.equal(size.trim(), String(2 * 2 ** 21), 'the guest sees 2 GiB');
    // Shrinking is refused, and nothing changes.
    assertError(await c.api('POST', `/vms/${vm.id}/disks/vdb/resize`, { size_gb: 1 }), 422,
      'shrink_refused');
    assert.equal(sql(`SELECT size_gb FROM vm_disks WHERE vm_id = ${vm.id}`)[0][0], '2');

    // Removed from the running guest: a job that ends with libvirt's
    // device-removed event; only then is the stored definition without it.
    const file = `${STATE}/pool/disks/${domain}-vdb.qcow2`;
    assert.ok(existsSync(file));
    res = await c.api('DELETE', `/vms/${vm.id}/disks/vdb`);
    assert.equal(res.status, 202, res.text);
    const job = await waitJob(c, jobOf(res).id, 60_000);
    assert.equal(job.state, 'succeeded', job.message);
    assert.ok(!targets(domain).includes('vdb'), 'gone from virsh domblklist');
    assert.doesNotMatch(virsh('dumpxml', '--inactive', domain), /dev='vdb'/);
    assert.ok(!existsSync(file), 'its volume is deleted');
    const after = await guestShellUntil(domain, 'ls /sys/block', (out) => !out.includes('vdb'));
    assert.doesNotMatch(after, /\bvdb\b/, 'the guest no longer has it');
    assert.deepEqual(dataOf(await c.api('GET', `/vms/${vm.id}/disks`)).map((d) => d.target), ['vda']);
  });

  test('an ISO inserted is readable in the guest and ejected again', async () => {
    const c = owner.client;
    let res = await c.api('PUT', `/vms/${vm.id}/cdrom`, { iso_id: isoId });
    assert.equal(res.status, 200, res.text);
    assert.equal(dataOf(res).iso_id, isoId);
    assert.match(virsh('domblklist', domain), /sda\s+\S*\/pool\/isos\//);
    // The ISO 9660 volume label, read from the drive inside the guest.
    const label = 'dd if=/dev/sr0 bs=2048 skip=16 count=1 2>/dev/null | head -c 60; echo';
    const seen = await guestShellUntil(domain, label, (out) => out.includes('VMMTEST_INSTALL'));
    assert.match(seen, /VMMTEST_INSTALL/);

    res = await c.api('PUT', `/vms/${vm.id}/cdrom`, { iso_id: null });
    assert.equal(res.status, 200, res.text);
    assert.equal(dataOf(res).iso_id, null);
    assert.match(virsh('domblklist', domain), /sda\s+-/, 'the drive is empty');
    const empty = await guestShellUntil(domain, label, (out) => !out.includes('VMMTEST_INSTALL'));
    assert.doesNotMatch(empty, /VMMTEST_INSTALL/, 'nothing to read any more');
    assert.equal(lastAudit('vm.cdrom', vm.id).changes.iso_id.before, isoId);

    assertError(await c.api('PUT', `/vms/${vm.id}/cdrom`, { iso_id: 999999 }), 404, 'unknown_iso');
  });

  test('a live vCPU increase shows in virsh vcpucount and in the guest', async () => {
    const c = owner.client;
    assert.equal(dataOf(await c.api('GET', `/vms/${vm.id}`)).max_vcpus, 2, 'default headroom: twice');
    assertError(await c.api('PUT', `/vms/${vm.id}/vcpus`, { vcpus: 3, live: true }), 422, 'over_maximum');
    assertError(await c.api('PUT', `/vms/${vm.id}/vcpus`, { vcpus: 2 }), 409, 'wrong_state');
    const res = await c.api('PUT', `/vms/${vm.id}/vcpus`, { vcpus: 2, live: true });
    assert.equal(res.status, 200, res.text);
    assert.equal(dataOf(res).vcpus, 2);
    assert.match(virsh('vcpucount', domain, '--live', '--active'), /^2$/m);
    assert.match(virsh('vcpucount', domain, '--config', '--active'), /^2$/m, 'kept for the next start');
    // The guest sees the second CPU arrive (onlining it is the guest's business).
    const present = await guestShellUntil(domain, 'cat /sys/devices/system/cpu/present',
      (out) => out.trim() === '0-1');
    assert.equal(present.trim(), '0-1');
    assertError(await c.api('PUT', `/vms/${vm.id}/vcpus`, { vcpus: 1, live: true }), 409, 'no_hot_unplug');
  });

  test('bad input changes nothing: quota, SATA while running, names, the first disk, shrinking', async () => {
    const c = owner.client;
    let res = await admin.api('PUT', `/users/${owner.user.id}/quota`, {
      max_vms: 10, max_vcpus: 16, max_memory_mb: 32768, max_disk_gb: 5,
    });
    assert.equal(res.status, 200, res.text);
    res = await c.api('POST', `/vms/${vm.id}/disks`, { size_gb: 10 });
    assertError(res, 409, 'quota_exceeded');
    assert.equal(res.body.error.field, 'size_gb');
    assertError(await c.api('POST', `/vms/${vm.id}/disks/vda/resize`, { size_gb: 10 }), 409, 'quota_exceeded');
    assertError(await c.api('POST', `/vms/${vm.id}/disks`, { size_gb: 1, bus: 'sata' }), 409, 'no_hotplug');
    assertError(await c.api('POST', `/vms/${vm.id}/disks`, { size_gb: 1, target: 'sdb' }), 422, 'invalid_target');
    assertError(await c.api('POST', `/vms/${vm.id}/disks`, { size_gb: 1, bus: 'floppy' }), 400, 'invalid_choice');
    assertError(await c.api('POST', `/vms/${vm.id}/disks/vda/resize`, { size_gb: 0 }), 400, 'out_of_range');
    assertError(await c.api('DELETE', `/vms/${vm.id}/disks/vda`), 409, 'not_removable');
    assertError(await c.api('DELETE', `/vms/${vm.id}/disks/vdq`), 404, 'no_such_disk');
    assert.equal(sql(`SELECT COUNT(*) FROM vm_disks WHERE vm_id = ${vm.id}`)[0][0], '0');
    assert.deepEqual(targets(domain).filter((t) => t !== 'sda'), ['vda']);
    // Someone else's VM does not exist for them.
    assertError(await other.client.api('POST', `/vms/${vm.id}/disks`, { size_gb: 1 }), 404, 'not_found');
    assertError(await other.client.api('PUT', `/vms/${vm.id}/cdrom`, { iso_id: null }), 404, 'not_found');
  });
});

describe('a stopped machine', () => {
  test('takes disks on any bus, a CPU topology, memory; the guide\'s paths and names work too', async () => {
    const c = owner.client;
    await admin.api('PUT', `/users/${owner.user.id}/quota`, {
      max_vms: 10, max_vcpus: 16, max_memory_mb: 32768, max_disk_gb: 50,
    });
    const vm = await createVm(c, { start: false });
    const domain = domainOf(vm.id);
    // The guide's shape: "ide" is SATA on q35 (which has no IDE controller).
    let res = await c.api('POST', `/vms/${vm.id}/disks`, { size: 1, type: 'raw', interface: 'ide', cache: 'none' });
    assert.equal(res.status, 201, res.text);
    assert.match(res.body.meta.notes[0], /no IDE controller: the disk is on SATA/);
    assert.deepEqual(dataOf(res).disks[1], {
      target: 'sdb', bus: 'sata', format: 'raw', cache: 'none', size_gb: 1, state: 'attached', removable: true,
    });
    res = await c.api('POST', `/vms/${vm.id}/disks`, { size_gb: 1, bus: 'scsi', target: 'sdd' });
    assert.equal(res.status, 201, res.text);
    const xml = virsh('dumpxml', '--inactive', domain);
    assert.match(xml, /<driver name='qemu' type='raw' cache='none'[^>]*\/>\s*<source file='[^']*-sdb\.raw'/);
    assert.match(xml, /<target dev='sdd' bus='scsi'\/>/);
    // The guide's expand.
    res = await c.api('POST', `/vms/${vm.id}/disks/sdd/expand`, { newSize: 3 });
    assert.equal(res.status, 200, res.text);
    assert.equal(dataOf(res).disks.find((d) => d.target === 'sdd').size_gb, 3);
    assert.equal(res.headers.get('deprecation'), 'true');
    // Topology while stopped: sockets × cores × threads is the maximum.
    res = await c.api('PUT', `/vms/${vm.id}/hardware/cpu`, { sockets: 1, cores: 2, threads: 2, model: 'host-model' });
    assert.equal(res.status, 200, res.text);
    assert.equal(dataOf(res).max_vcpus, 4);
    assert.match(virsh('dumpxml', '--inactive', domain), /<topology sockets='1' dies='1' cores='2' threads='2'\/>/);
    assertError(await c.api('PUT', `/vms/${vm.id}/cpu`, { sockets: 1, cores: 2 }), 400, 'missing_field');
    res = await c.api('PUT', `/vms/${vm.id}/hardware/memory`, { size: 320 });
    assert.equal(res.status, 200, res.text);
    assert.equal(dataOf(res).memory_mb, 320);
    // Redefined from the row: the added disks stay.
    assert.match(virsh('dumpxml', '--inactive', domain), /dev='sdd'/);
    // The page's forms: a change, then back to the VM page.
    await c.page(`/vms/${vm.id}`);
    res = await c.postForm(`/vms/${vm.id}/vcpus`, { vcpus: '2' });
    assert.equal(res.status, 303, res.text);
    assert.equal(res.headers.get('location'), `/vms/${vm.id}#hardware`);
    assert.equal(sql(`SELECT vcpus FROM vms WHERE id = ${vm.id}`)[0][0], '2');
    assert.match(virsh('vcpucount', domain, '--config', '--current'), /^2$/m);
    // Removed at once while stopped.
    res = await c.api('DELETE', `/vms/${vm.id}/disks/sdb`);
    assert.equal(res.status, 200, res.text);
    assert.ok(!existsSync(`${STATE}/pool/disks/${domain}-sdb.raw`));
    // Deleting the VM with its disks takes the added ones too.
    res = await c.api('DELETE', `/vms/${vm.id}?delete_disks=true`);
    assert.equal(res.status, 200, res.text);
    assert.ok(!existsSync(`${STATE}/pool/disks/${domain}-sdd.qcow2`));
  });
});
