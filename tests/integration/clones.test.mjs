// Clones of a booted guest (qemu:///system, TCG, the demo template): a
// marker written in the source, a disk-only snapshot, the marker changed;
// a linked clone (an overlay on the shared template) boots with the latest
// marker, a full clone from the snapshot (a standalone disk) with the
// first one; each with its own UUID, MAC and VNC password; the source
// must be stopped; quota, other users and bad input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  adminClient, assertError, createVmDone, dataOf, domainOf, jobEnded, jobOf, sql, stopVmForced,
  STATE, userClient,
} from './lib.mjs';
import { guestShellWhenUp, onGuestDisk } from './guest-shell.mjs';

const virsh = (...args) => execFileSync('virsh', ['-q', '-c', 'qemu:///system', ...args], { encoding: 'utf8' }).trim();
const macsOf = (vmId) => [...virsh('dumpxml', '--inactive', domainOf(vmId)).matchAll(/<mac address='([^']+)'/g)].map((m) => m[1]);
const diskInfo = (vmId) => JSON.parse(execFileSync('qemu-img',
  ['info', '-U', '--output=json', `${STATE}/pool/disks/${domainOf(vmId)}.qcow2`], { encoding: 'utf8' }));

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
  for (const id of cleanup.reverse()) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
});

const inGuest = (domain, line, expect) => guestShellWhenUp(domain, line, expect);
const writeMarker = (domain, value) =>
  inGuest(domain, onGuestDisk(`echo ${value} > /mnt/marker.txt`, 'W-$((6*7))'), /W-42/);
const readMarker = (domain) =>
  inGuest(domain, onGuestDisk('echo "M=$(cat /mnt/marker.txt)"', 'R-$((4+1))'), /M=\w+\s+R-5/).then((o) => o.match(/M=(\w+)/)[1]);

/** POST /vms/{id}/clone and wait for its job; the new VM. */
async function clone(c, sourceId, fields) {
  const res = await c.api('POST', `/vms/${sourceId}/clone`, fields);
  assert.equal(res.status, 201, res.text);
  const made = dataOf(res);
  cleanup.push(made.id);
  assert.equal(made.state, 'creating');
  assert.equal(jobOf(res).kind, 'vm.clone');
  const job = await jobEnded(c, jobOf(res).id, 240_000);
  assert.equal(job.state, 'succeeded', JSON.stringify(job));
  assert.deepEqual(job.target?.id, made.id);
  return dataOf(await c.api('GET', `/vms/${made.id}`));
}

describe('clones of a booted guest', () => {
  let src;
  let snapId;

  before(async () => {
    const made = await createVmDone(owner.client, {
      name: 'clone-source', template_id: templateId, vcpus: 1, memory_mb: 256, disk_gb: 1, start: true,
    });
    assert.equal(made.status, 201, made.text);
    cleanup.push(dataOf(made.res).id);
    assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));
    src = made.vm;
  });

  test('the source must be stopped; a linked and a full clone from a snapshot boot with their markers', async () => {
    const c = owner.client;
    const domain = domainOf(src.id);
    await writeMarker(domain, 'first');
    assertError(await c.api('POST', `/vms/${src.id}/clone`, { name: 'too-early' }), 409, 'wrong_state');
    await stopVmForced(c, src.id);
    let res = await c.api('POST', `/vms/${src.id}/snapshots`, { name: 's1' });
    assert.equal(res.status, 201, res.text);
    snapId = dataOf(res).id;
    res = await c.api('POST', `/vms/${src.id}/start`, {});
    assert.ok([200, 202].includes(res.status), res.text);
    await writeMarker(domain, 'second');
    await stopVmForced(c, src.id);
    // Hardware beyond the sizes: room to grow memory live, a CPU topology.
    res = await c.api('PUT', `/vms/${src.id}/memory`, { memory_mb: 256, max_memory_mb: 512 });
    assert.equal(res.status, 200, res.text);
    res = await c.api('PUT', `/vms/${src.id}/cpu`, { sockets: 1, cores: 2, threads: 1, max_vcpus: 2 });
    assert.equal(res.status, 200, res.text);

    const linked = await clone(c, src.id, { name: '克隆-链接', mode: 'linked', start: true });
    assert.equal(linked.name, '克隆-链接');
    const full = await clone(c, src.id, { name: 'clone-full', mode: 'full', snapshot_id: snapId, start: true });

    const row = (id) => sql(`SELECT uuid, domain_name, vnc_password FROM vms WHERE id = ${id}`)[0];
    const [s, l, f] = [row(src.id), row(linked.id), row(full.id)];
    for (const i of [0, 1, 2]) assert.equal(new Set([s[i], l[i], f[i]]).size, 3, 'new UUID, domain, VNC password');
    const macs = [...macsOf(src.id), ...macsOf(linked.id), ...macsOf(full.id)];
    assert.equal(macs.length, 3);
    assert.equal(new Set(macs).size, 3, 'each clone has its own MAC');

    // Each keeps the source's hardware, not just its sizes.
    const hw = (id) => sql(`SELECT vcpus, max_vcpus, memory_mb, max_memory_mb, cpu_sockets, cpu_cores, cpu_threads, boot_order, cpu_model, graphics FROM vms WHERE id = ${id}`)[0];
    assert.deepEqual(hw(src.id).slice(0, 7).map(String), ['1', '2', '256', '512', '1', '2', '1']);
    assert.deepEqual(hw(linked.id), hw(src.id), 'the linked clone has the hardware of its source');
    assert.deepEqual(hw(full.id), hw(src.id), 'the full clone too');
    assert.match(virsh('dumpxml', '--inactive', domainOf(linked.id)), /<maxMemory slots='\d+' unit='KiB'>524288<\/maxMemory>/);

    // Linked: an overlay on the template; full: standalone.
    assert.match(diskInfo(linked.id)['backing-filename'] || '', /templates\//);
    assert.equal(diskInfo(full.id)['backing-filename'], undefined);

    assert.equal(await readMarker(domainOf(linked.id)), 'second', 'a clone of the VM has its latest data');
    assert.equal(await readMarker(domainOf(full.id)), 'first', 'a clone of the snapshot has the data it held');
  });

  test('quota, other users and bad input', async () => {
    const c = owner.client;
    assertError(await other.client.api('POST', `/vms/${src.id}/clone`, { name: 'x' }), 404, 'not_found');
    assertError(await c.api('POST', `/vms/${src.id}/clone`, {}), 400, 'missing_field');
    assertError(await c.api('POST', `/vms/${src.id}/clone`, { name: 'x', mode: 'deep' }), 400, 'invalid_choice');
    assertError(await c.api('POST', `/vms/${src.id}/clone`, { name: 'x', snapshot_id: 999999 }), 404, 'not_found');
    const count = Number(sql(`SELECT COUNT(*) FROM vms WHERE owner_id = ${owner.user.id}`)[0][0]);
    sql(`INSERT INTO quotas (user_id, max_vms, max_vcpus, max_memory_mb, max_disk_gb) VALUES (${owner.user.id}, ${count}, 64, 65536, 500) ON DUPLICATE KEY UPDATE max_vms = ${count}`);
    assertError(await c.api('POST', `/vms/${src.id}/clone`, { name: 'over' }), 409, 'quota_exceeded');
    assert.equal(Number(sql(`SELECT COUNT(*) FROM vms WHERE owner_id = ${owner.user.id}`)[0][0]), count, 'nothing half made');
  });
});
