// IP address pools on a new isolated network, against real guests (TCG):
// the address the registry hands out is the one the guest's DHCP client
// gets (its init prints `VMM-TEST: ip <address>` on the serial console);
// two VMs never get the same address; an address taken behind the
// portal's back (a static DHCP host entry added with virsh net-update) is
// reported as a conflict and skipped. Names carry this run's prefix and
// after() removes whatever a failed test left.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  adminClient, assertError, dataOf, freeBlocks, sql, q, userClient, waitFor,
  createVmDone, domainOf, serialLog, virsh,
} from './lib.mjs';

const PREFIX = `t12p-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const [NET, OTHER] = freeBlocks(2);
const BOOT_DEADLINE_MS = 120_000;

const hostEntries = (name) => [...virsh('net-dumpxml', name).matchAll(/<host mac='([^']+)' ip='([^']+)'/g)]
  .map((m) => ({ mac: m[1], ip: m[2] }));

let admin;
let user;
let templateId;
let network;
let pool;
const vms = [];

before(async () => {
  admin = await adminClient();
  user = (await userClient(admin, { }));
  templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  // A quota roomy enough for the VMs below.
  sql(`INSERT INTO quotas (user_id, max_vms, max_vcpus, max_memory_mb, max_disk_gb) VALUES (${user.user.id}, 20, 20, 8192, 50)`);
  const res = await admin.api('POST', '/networks', {
    name: `${PREFIX}-net`, mode: 'isolated', cidr: `${NET}.0/24`,
    dhcp: { start: `${NET}.100`, end: `${NET}.199` },
  });
  assert.equal(res.status, 201, res.text);
  network = dataOf(res);
});

after(async () => {
  for (const id of vms) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
  if (pool) await admin.api('DELETE', `/ip-pools/${pool.id}`);
  sql(`DELETE FROM ip_pools WHERE name LIKE ${q(`${PREFIX}%`)}`);
  if (network) await admin.api('DELETE', `/networks/${network.id}`);
  for (const name of [`${PREFIX}-net`]) {
    try { virsh('net-destroy', name); } catch { /* not running or gone */ }
    try { virsh('net-undefine', name); } catch { /* gone */ }
  }
  sql(`DELETE FROM networks WHERE name LIKE ${q(`${PREFIX}%`)}`);
});

async function createVm(fields = {}) {
  const made = await createVmDone(user.client, {
    name: 'pooled', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, start: false,
    network_ids: [network.id], ...fields,
  });
  const res = made.res;
  if (res.status === 201) {
    vms.push(dataOf(res).id);
    assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));
  }
  return res;
}
const allocatedIp = (vm) => vm.nics.find((n) => n.network_id === network.id)?.ip;
async function vmOf(id) {
  return dataOf(await admin.api('GET', `/vms/${id}`));
}

describe('an IP pool', () => {
  test('is made on a network, with checks', async () => {
    const bad = [
      [{ range_start: `${NET}.150`, range_end: `${NET}.160` }, 422, 'range_overlaps_dhcp'],
      [{ range_start: `${NET}.20`, range_end: `${NET}.10` }, 422, 'range_outside_cidr'],
      [{ range_start: `${OTHER}.10`, range_end: `${OTHER}.20` }, 422, 'range_outside_cidr'],
      [{ range_start: `${NET}.x`, range_end: `${NET}.20` }, 400, 'invalid_address'],
      [{ network_id: 987654321 }, 404, 'unknown_network'],
    ];
    for (const [fields, status, code] of bad) {
      assertError(await admin.api('POST', '/ip-pools', {
        name: `${PREFIX}-bad`, network_id: network.id, range_start: `${NET}.10`, range_end: `${NET}.19`, ...fields,
      }), status, code);
    }
    const res = await admin.api('POST', '/ip-pools', {
      name: `${PREFIX}-pool`, network_id: network.id, range_start: `${NET}.10`, range_end: `${NET}.19`,
      dns: [`${NET}.1`],
    });
    assert.equal(res.status, 201, res.text);
    pool = dataOf(res);
    assert.equal(pool.cidr, `${NET}.0/24`, 'the network\'s block by default');
    assert.equal(pool.gateway, `${NET}.1`);
    assert.equal(pool.size, 10);
    assert.equal(pool.used, 0);
    assertError(await admin.api('POST', '/ip-pools', {
      name: `${PREFIX}-again`, network_id: network.id, range_start: `${NET}.15`, range_end: `${NET}.25`,
    }), 409, 'pool_overlap');
    assertError(await user.client.api('GET', `/ip-pools/${pool.id}`), 403, 'forbidden');
  });

  test('a VM on it boots with the address the registry gave it', async () => {
    const res = await createVm({ name: 'booted', start: true });
    assert.equal(res.status, 201, res.text);
    const vm = dataOf(res);
    const detail = await vmOf(vm.id);
    const ip = allocatedIp(detail);
    assert.equal(ip, `${NET}.10`, 'the first free address');
    const mac = detail.nics[0].mac;
    assert.deepEqual(hostEntries(network.name).filter((h) => h.mac === mac), [{ mac, ip }]);
    const domain = domainOf(vm.id);
    await waitFor(() => /VMM-TEST: (ip|no ip)/.test(serialLog(domain)), BOOT_DEADLINE_MS, 500);
    assert.match(serialLog(domain), new RegExp(`VMM-TEST: ip ${ip.replace(/\./g, '\\.')}\\b`));
    // What the guest really has, from the network's leases, as the
    // helper's address watcher read it (no libvirt call in the request):
    // on the VM, in the list, and gone once the guest stops.
    await waitFor(async () => (await vmOf(vm.id)).ip_addresses.includes(ip), 20_000, 500);
    assert.deepEqual(sql(`SELECT ip, source FROM vm_addresses WHERE vm_id = ${vm.id}`), [[ip, 'lease']]);
    const listed = dataOf(await user.client.api('GET', '/vms?per_page=100')).find((v) => v.id === vm.id);
    assert.deepEqual(listed.ip_addresses, [ip]);
    const page = await user.client.page(`/vms/${vm.id}`);
    assert.match(page.text, new RegExp(`id="ip-addresses">[^<]*${ip.replace(/\./g, '\\.')}`));
    // The running guest is no conflict of its own address.
    const conflicts = await admin.api('GET', `/ip-pools/${pool.id}/conflicts`);
    assert.equal(conflicts.status, 200, conflicts.text);
    assert.deepEqual(dataOf(conflicts), []);
    const stopped = await user.client.api('POST', `/vms/${vm.id}/stop`, { force: true });
    assert.ok([200, 202].includes(stopped.status), stopped.text);
    await waitFor(async () => (await vmOf(vm.id)).ip_addresses.length === 0, 20_000, 500);
  });

  test('two VMs never get the same address, even created at once', async () => {
    const made = await Promise.all([1, 2, 3, 4].map((i) => createVm({ name: `parallel-${i}` })));
    for (const res of made) assert.equal(res.status, 201, res.text);
    const ips = [];
    for (const res of made) ips.push(allocatedIp(await vmOf(dataOf(res).id)));
    const all = sql(`SELECT ip FROM ip_allocations WHERE pool_id = ${pool.id}`).map((r) => r[0]);
    assert.equal(new Set(all).size, all.length, `no address twice: ${all}`);
    assert.equal(all.length, 5);
    for (const ip of ips) assert.ok(ip?.startsWith(`${NET}.1`), ip);
    const listed = dataOf(await admin.api('GET', `/ip-pools/${pool.id}`));
    assert.equal(listed.used, 5);
    assert.equal(listed.usage_percent, 50);
    const page = await admin.page('/ip-pools');
    assert.match(page.text, /<progress class="usage" max="10" value="5">/);
  });

  test('an address taken behind the portal\'s back is a conflict and is skipped', async () => {
    const taken = sql(`SELECT ip_num FROM ip_allocations WHERE pool_id = ${pool.id}`).map((r) => Number(r[0]));
    const next = `${NET}.${(Math.max(...taken) & 255) + 1}`;
    const after = `${NET}.${(Math.max(...taken) & 255) + 2}`;
    virsh('net-update', network.name, 'add', 'ip-dhcp-host',
      `<host mac='52:54:00:ee:12:01' ip='${next}'/>`, '--live', '--config');
    const res = await admin.api('GET', `/ip-pools/${pool.id}/conflicts`);
    assert.equal(res.status, 200, res.text);
    const conflicts = dataOf(res);
    assert.equal(conflicts.length, 1, JSON.stringify(conflicts));
    assert.equal(conflicts[0].ip, next);
    assert.equal(conflicts[0].kind, 'unknown');
    assert.deepEqual(conflicts[0].sources, ['static_host']);
    assert.deepEqual(conflicts[0].macs, ['52:54:00:ee:12:01']);
    const page = await admin.page(`/ip-pools/${pool.id}`);
    assert.match(page.text, new RegExp(`<td>${next.replace(/\./g, '\\.')}</td><td>`));

    const vm = dataOf(await createVm({ name: 'after-conflict' }));
    assert.equal(allocatedIp(await vmOf(vm.id)), after, 'the conflicting address was skipped');
    assertError(await createVm({ name: 'asks-for-it', ip: next }), 409, 'ip_conflict');
    assertError(await createVm({ name: 'asks-taken', ip: after }), 409, 'ip_taken');
    assertError(await createVm({ name: 'asks-outside', ip: `${NET}.150` }), 422, 'ip_outside_pool');
    assertError(await createVm({ name: 'no-pool', ip: `${NET}.12`, network_ids: undefined }), 422, 'no_ip_pool');

    // Once the entry is gone, so is the conflict.
    virsh('net-update', network.name, 'delete', 'ip-dhcp-host',
      `<host mac='52:54:00:ee:12:01' ip='${next}'/>`, '--live', '--config');
    assert.deepEqual(dataOf(await admin.api('GET', `/ip-pools/${pool.id}/conflicts`)), []);
  });

  test('an address is re-assigned to a VM and released with it', async () => {
    const vmId = vms[vms.length - 1];
    const before = await vmOf(vmId);
    const mac = before.nics[0].mac;
    const res = await admin.api('POST', `/ip-pools/${pool.id}/allocations`, { vm_id: vmId, ip: `${NET}.19` });
    assert.equal(res.status, 201, res.text);
    assert.equal(dataOf(res).ip, `${NET}.19`);
    assert.equal(allocatedIp(await vmOf(vmId)), `${NET}.19`);
    assert.deepEqual(hostEntries(network.name).filter((h) => h.mac === mac), [{ mac, ip: `${NET}.19` }],
      'the stale entry went, the new one is there');
    assertError(await admin.api('POST', `/ip-pools/${pool.id}/allocations`, { vm_id: vms[1], ip: `${NET}.19` }), 409, 'ip_taken');

    const released = await admin.api('DELETE', `/ip-pools/${pool.id}/allocations/${NET}.19`);
    assert.equal(released.status, 200, released.text);
    assert.equal(allocatedIp(await vmOf(vmId)), null, "no address in the pool any more");
    assert.deepEqual(hostEntries(network.name).filter((h) => h.mac === mac), []);

    assertError(await admin.api('DELETE', `/ip-pools/${pool.id}`), 409, 'pool_in_use');
    // Deleting a VM releases its address and its DHCP host entry.
    const first = await vmOf(vms[0]);
    assert.equal((await user.client.api('DELETE', `/vms/${vms[0]}?delete_disks=true`)).status, 200);
    assert.equal(sql(`SELECT COUNT(*) FROM ip_allocations WHERE vm_id = ${vms[0]}`)[0][0], '0');
    assert.deepEqual(hostEntries(network.name).filter((h) => h.mac === first.nics[0].mac), []);
    const again = dataOf(await createVm({ name: 'reuses' }));
    assert.equal(allocatedIp(await vmOf(again.id)), `${NET}.10`, 'a released address is free again');
  });
});
