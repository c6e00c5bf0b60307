// Issue 19, more than one host: placement reserves its choice in the
// create's transaction (two creates at once against two hosts with room
// for one each land one on each; VMs placed and still being made count
// against a host's room), a clone of a VM on the second host is made
// there and boots there, and the dashboard shows each host's use to
// admins. The second host is tools/dev second-host (its own libvirtd in
// its own namespaces, qemu+tcp).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import {
  adminClient, assertError, createVmDone, dataOf, domainOf, jobEnded, jobOf, serialLog, sql,
  uniqueName, userClient, waitFor,
} from './lib.mjs';

const DEV = new URL('../../tools/dev', import.meta.url).pathname;
let admin;
let uri;
let hostId;
let templateId;
const made = [];

function virshOn(onUri, ...args) {
  return execFileSync('virsh', ['-q', '-c', onUri, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** MiB a new guest can have now, as the helper measures it: free, buffers, page cache. */
function spareMemoryMb() {
  const stats = virshOn('qemu:///system', 'nodememstats');
  const kb = (key) => Number(new RegExp(`^${key}\\s*:\\s+(\\d+) KiB`, 'm').exec(stats)[1]);
  return Math.floor((kb('free') + kb('buffers') + kb('cached')) / 1024);
}

before(async () => {
  admin = await adminClient();
  templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  const out = execFileSync(DEV, ['second-host', 'up'], { encoding: 'utf8' }).trim().split('\n');
  uri = out[out.length - 1];
  assert.match(uri, /^qemu\+tcp:\/\/10\.254\.\d+\.2\/system$/);
  const res = await admin.api('POST', '/hosts', { name: uniqueName('second'), uri });
  assert.equal(res.status, 201, res.text);
  hostId = dataOf(res).id;
  await waitFor(async () => dataOf(await admin.api('GET', `/hosts/${hostId}`)).state === 'up', 30_000, 500);
});

after(async () => {
  for (const id of made) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
  if (hostId) await admin.api('DELETE', `/hosts/${hostId}`);
  execFileSync(DEV, ['second-host', 'down'], { encoding: 'utf8' });
});

describe('placement reserves its host in the create\'s transaction', () => {
  let user;
  let big;
  before(async () => {
    user = await userClient(admin);
    sql(`INSERT INTO quotas (user_id, max_vms, max_vcpus, max_memory_mb, max_disk_gb)
         VALUES (${user.user.id}, 10, 16, 1048576, 100)`);
    // Room for one such machine on each host, not for two: more than half
    // of what is free, no more than a host's memory (the create's own check).
    const hostMemory = dataOf(await admin.api('GET', '/host')).memory_mb;
    const spare = spareMemoryMb();
    big = Math.min(hostMemory - 512, Math.floor(spare * 0.75));
    assert.ok(2 * big > spare + 2048 && big < spare - 2048,
      `this machine has room to test with: ${big} MiB, ${spare} MiB free, ${hostMemory} MiB`);
  });

  test('two creates at once, two hosts with room for one each: one lands on each', async () => {
    const ask = (n) => user.client.api('POST', '/vms', {
      name: `race-${n}`, template_id: templateId, vcpus: 1, memory_mb: big, disk_gb: 1, start: false,
    });
    const answers = await Promise.all([ask(1), ask(2)]);
    for (const res of answers) {
      assert.equal(res.status, 201, res.text);
      made.push(dataOf(res).id);
    }
    const hosts = answers.map((res) => dataOf(res).host_id).sort();
    assert.deepEqual(hosts, [1, hostId].sort(), 'one on each host');
    for (const res of answers) {
      const job = await jobEnded(user.client, jobOf(res).id, 120_000);
      assert.equal(job.state, 'succeeded', JSON.stringify(job));
    }
    const [a, b] = answers.map((res) => dataOf(res));
    assert.equal(virshOn(a.host_id === 1 ? 'qemu:///system' : uri, 'domstate', domainOf(a.id)).trim(), 'shut off');
    assert.equal(virshOn(b.host_id === 1 ? 'qemu:///system' : uri, 'domstate', domainOf(b.id)).trim(), 'shut off');
  });

  test('machines placed and still being made count against a host\'s room', async () => {
    // What two creates under way hold: a row each, still creating, one per host.
    const ids = [];
    for (const host of [1, hostId]) {
      const uuid = crypto.randomUUID();
      sql(`INSERT INTO vms (uuid, domain_name, name, description, owner_id, host_id, state, vcpus, memory_mb, disk_gb)
           VALUES ('${uuid}', 'vmm-held-${uuid.slice(0, 16)}', 'held', '', ${user.user.id}, ${host}, 'creating', 1, ${big}, 1)`);
      ids.push(Number(sql(`SELECT id FROM vms WHERE uuid = '${uuid}'`)[0][0]));
    }
    const before_ = sql(`SELECT COUNT(*) FROM vms WHERE owner_id = ${user.user.id}`)[0][0];
    const ask = () => user.client.api('POST', '/vms', {
      name: 'no-room', template_id: templateId, vcpus: 1, memory_mb: big, disk_gb: 1, start: false,
    });
    try {
      assertError(await ask(), 422, 'no_room');
      assert.equal(sql(`SELECT COUNT(*) FROM vms WHERE owner_id = ${user.user.id}`)[0][0], before_, 'nothing made');
    } finally {
      sql(`DELETE FROM vms WHERE id IN (${ids.join(',')})`);
    }
    // Once they are made (no longer creating), the room is the host's again.
    const res = await ask();
    assert.equal(res.status, 201, res.text);
    made.push(dataOf(res).id);
    assert.equal((await jobEnded(user.client, jobOf(res).id, 120_000)).state, 'succeeded');
  });
});

describe('a clone of a VM on the second host', () => {
  let source;
  test('is made on that host, whole, and boots there', async () => {
    const vm = await createVmDone(admin, {
      name: uniqueName('remote-src'), template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1,
      host_id: hostId, start: false,
    });
    assert.equal(vm.status, 201, vm.text);
    made.push(vm.vm.id);
    assert.equal(vm.job.state, 'succeeded', JSON.stringify(vm.job));
    source = vm.vm;
    assert.equal(source.host_id, hostId);

    assertError(await admin.api('POST', `/vms/${source.id}/clone`, { name: 'here', host_id: 1 }), 422, 'clone_other_host');
    assertError(await admin.api('POST', `/vms/${source.id}/clone`, { name: 'linked', mode: 'linked' }), 422, 'clone_other_host');

    const res = await admin.api('POST', `/vms/${source.id}/clone`, { name: '克隆 remote clone' });
    assert.equal(res.status, 201, res.text);
    const clone = dataOf(res);
    made.push(clone.id);
    assert.equal(clone.host_id, hostId, 'the clone is placed on its source\'s host');
    const job = await jobEnded(admin, jobOf(res).id, 300_000);
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    assert.equal(job.result.host_id, hostId);
    const dom = domainOf(clone.id);
    assert.equal(virshOn(uri, 'domstate', dom).trim(), 'shut off', 'defined on the second host');
    assert.throws(() => virshOn('qemu:///system', 'domstate', dom), 'not on this one');
    assert.equal(sql(`SELECT clone FROM vms WHERE id = ${clone.id}`)[0][0], 'full');

    const start = await admin.api('POST', `/vms/${clone.id}/start`);
    assert.equal(start.status, 200, start.text);
    await waitFor(() => serialLog(dom).includes('VMM-TEST: ready'), 300_000, 500);
    assert.equal(virshOn(uri, 'domstate', dom).trim(), 'running');
  });

  test('the dashboard shows each host\'s use to admins, from the database', async () => {
    const data = dataOf(await admin.api('GET', '/dashboard'));
    const second = data.hosts.find((h) => h.id === hostId);
    assert.ok(second, JSON.stringify(data.hosts));
    const [[vms, running, vcpus, memory]] = sql(`SELECT COUNT(*), SUM(state IN ('running', 'paused')),
      COALESCE(SUM(IF(state IN ('running', 'paused'), vcpus, 0)), 0), COALESCE(SUM(IF(state IN ('running', 'paused'), memory_mb, 0)), 0)
      FROM vms WHERE host_id = ${hostId}`);
    assert.equal(second.vms, Number(vms));
    assert.equal(second.running, Number(running));
    assert.ok(second.running >= 1, 'the clone runs there');
    assert.equal(second.vcpus_used, Number(vcpus));
    assert.equal(second.memory_used_mb, Number(memory));
    assert.equal(second.state, 'up');
    assert.ok(second.cpus > 0 && second.memory_mb > 0);
    assert.ok(data.hosts.some((h) => h.id === 1));

    const page = await admin.page('/');
    const row = new RegExp(`<tr id="host-use-${hostId}">[^]*?class="host-vms">${second.vms} \\(${second.running}\\)<`);
    assert.match(page.text, row);
    assert.match(page.text, new RegExp(`class="host-memory">[^<]*<progress[^>]*></progress> ${second.memory_used_mb} / ${second.memory_mb} MiB`));

    // Users see no hosts.
    const { client } = await userClient(admin);
    assert.equal(dataOf(await client.api('GET', '/dashboard')).hosts, undefined);
    assert.doesNotMatch((await client.page('/')).text, /id="hosts-use"/);
  });
});
