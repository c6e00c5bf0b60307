// Issue 17, what the user guide's scripts do with a running VM's NICs,
// port forwards and memory (its paths /network-interfaces,
// /port-forwarding and /hardware/memory/hot-add, its field names, a
// Bearer token), and NIC bandwidth limits and VLAN tags: what libvirt
// then has (virsh domiftune, domiflist, dumpxml) on a booted guest.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  adminClient, apiTokenOf, assertError, Client, createVmDone, dataOf, domainOf, freeBlocks, jobEnded,
  jobOf, q, serialLog, sql, stopVmForced, userClient, virsh, waitFor,
} from './lib.mjs';

const BOOT_DEADLINE_MS = 180_000;
const TAG = process.pid.toString(36);
const NET_NAME = `hwg-${TAG}`;
const [NET] = freeBlocks(1);
const HOST_PORT = 10000 + ((process.pid + 777) % 9000);
const MAC = `52:54:00:9${process.pid % 10}:${(process.pid >> 4 & 0xff).toString(16).padStart(2, '0')}:17`;

let admin;
let owner;
let guide;   // the owner's requests as the guide writes them: a Bearer token
let network;
let vm;
let domain;

// `virsh domiftune` of one NIC: { 'inbound.average': 1000, ... }.
function iftune(mac, ...flags) {
  const out = virsh('domiftune', domain, mac, ...flags);
  return Object.fromEntries([...out.matchAll(/^\s*(\S+)\s*:\s*(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
}
// Whether this host's kernel has what libvirt's tc rules for a running
// NIC use (an htb class with an sfq qdisc inbound, a police action
// outbound): tried on a veth of a namespace of its own.
function kernelShapes() {
  const ns = `hwgtc-${TAG}`;
  const script = 'ip link add t0 type veth peer name t1 && ip link set t0 up && ' +
    'tc qdisc add dev t0 root handle 1: htb default 1 && ' +
    'tc class add dev t0 parent 1: classid 1:1 htb rate 1000kbps && ' +
    'tc qdisc add dev t0 parent 1:1 handle 2: sfq perturb 10 && tc qdisc add dev t0 ingress && ' +
    'tc filter add dev t0 parent ffff: protocol all u32 match u32 0 0 police rate 2048kbps burst 256kb mtu 64kb drop flowid :1';
  try {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', script], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* not made */ }
  }
}
const nicsOf = async () => dataOf(await owner.client.api('GET', `/vms/${vm.id}/interfaces`));

before(async () => {
  admin = await adminClient();
  owner = await userClient(admin);
  guide = new Client('guide', { headers: { Authorization: `Bearer ${await apiTokenOf(owner.client)}` } });
  let res = await admin.api('POST', '/networks', {
    name: NET_NAME, mode: 'nat', cidr: `${NET}.0/24`, dhcp: { start: `${NET}.100`, end: `${NET}.199` },
  });
  assert.equal(res.status, 201, res.text);
  network = dataOf(res);
  res = await admin.api('POST', '/ip-pools', {
    name: `${NET_NAME}-pool`, network_id: network.id, range_start: `${NET}.10`, range_end: `${NET}.19`,
  });
  assert.equal(res.status, 201, res.text);
  const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  const made = await createVmDone(owner.client, {
    name: 'hwg', template_id: templateId, vcpus: 1, memory_mb: 256, max_memory_mb: 512, disk_gb: 1,
    network_id: network.id,
  });
  assert.equal(made.status, 201, made.text);
  vm = dataOf(made.res);
  assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));
  domain = domainOf(vm.id);
  await waitFor(() => serialLog(domain).includes('VMM-TEST: ready'), BOOT_DEADLINE_MS, 500);
});

after(async () => {
  if (vm) await admin.api('DELETE', `/vms/${vm.id}?delete_disks=true`);
  sql(`DELETE FROM ip_pools WHERE name = ${q(`${NET_NAME}-pool`)}`);
  if (network) await admin.api('DELETE', `/networks/${network.id}`);
  try { virsh('net-destroy', NET_NAME); } catch { /* not running or gone */ }
  try { virsh('net-undefine', NET_NAME); } catch { /* gone */ }
  sql(`DELETE FROM networks WHERE name = ${q(NET_NAME)}`);
});

describe("the guide's NIC, port forwarding and memory scripts", () => {
  test('network-interfaces: listed, added with the guide\'s type and bridge, removed', async () => {
    let res = await guide.api('GET', `/vms/${vm.id}/network-interfaces`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('deprecation'), 'true');
    assert.match(res.headers.get('link'), new RegExp(`/api/v1/vms/${vm.id}/interfaces>`));
    assert.deepEqual(dataOf(res), await nicsOf());

    // What the guide cannot have: nothing is made.
    assertError(await guide.api('POST', `/vms/${vm.id}/network-interfaces`, { type: 'user' }), 422, 'unsupported');
    assertError(await guide.api('POST', `/vms/${vm.id}/network-interfaces`, { type: 'bridge', bridge: NET_NAME }), 404, 'unknown_network');
    assertError(await guide.api('POST', `/vms/${vm.id}/network-interfaces`, { type: 'nat', bridge: NET_NAME, vlan: 10 }), 422, 'vlan_unsupported');
    assert.equal((await nicsOf()).length, 1);

    // As the guide's addNetworkInterface sends it.
    // (A running q35 machine takes PCIe devices only: virtio, not e1000.)
    res = await guide.api('POST', `/vms/${vm.id}/network-interfaces`, {
      type: 'nat', bridge: NET_NAME, model: 'virtio', mac: MAC, vlan: null,
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('deprecation'), 'true');
    const nic = dataOf(res).nics.find((n) => n.mac === MAC);
    assert.equal(nic.network, NET_NAME);
    assert.equal(nic.ip, `${NET}.11`);
    assert.deepEqual(nic.bandwidth, { inbound: null, outbound: null });
    assert.equal(nic.vlan, null);
    assert.match(virsh('domiflist', domain), new RegExp(`network\\s+${NET_NAME}\\s+virtio\\s+${MAC}`), 'the running guest has it');

    res = await guide.api('DELETE', `/vms/${vm.id}/network-interfaces/${MAC}`);
    assert.equal(res.status, 202, res.text);
    const job = await jobEnded(owner.client, jobOf(res).id, 90_000);
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    assert.ok(!virsh('domiflist', domain).includes(MAC), 'gone from the guest');
    assert.equal((await nicsOf()).length, 1);
  });

  test('port-forwarding: the whole set of rules, replaced, refused whole', async () => {
    let res = await guide.api('PUT', `/vms/${vm.id}/port-forwarding`, {
      rules: [
        { protocol: 'tcp', hostPort: HOST_PORT, guestPort: 80, hostIp: '0.0.0.0' },
        { protocol: 'udp', hostPort: HOST_PORT + 1, guestPort: 53 },
      ],
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('deprecation'), 'true');
    const strip = (list) => list.map((f) => [f.protocol, f.host_address, f.host_port, f.guest_port, f.guest_ip]);
    assert.deepEqual(strip(dataOf(res).port_forwards), [
      ['tcp', '', HOST_PORT, 80, `${NET}.10`], ['udp', '', HOST_PORT + 1, 53, `${NET}.10`],
    ]);
    // The guide's GET of the same path lists them.
    assert.deepEqual(strip(dataOf(await guide.api('GET', `/vms/${vm.id}/port-forwarding`))), strip(dataOf(res).port_forwards));

    // A bad rule refuses the whole set; the old one stays.
    res = await guide.api('PUT', `/vms/${vm.id}/port-forwarding`, {
      rules: [{ protocol: 'tcp', hostPort: HOST_PORT, guestPort: 8080 }, { protocol: 'tcp', hostPort: 80, guestPort: 80 }],
    });
    assertError(res, 422, 'port_not_allowed');
    assert.equal(res.body.error.field, 'forwards[1].host_port');
    assertError(await guide.api('PUT', `/vms/${vm.id}/port-forwarding`, {
      rules: [{ protocol: 'tcp', hostPort: HOST_PORT, guestPort: 1 }, { protocol: 'tcp', hostPort: HOST_PORT, guestPort: 2 }],
    }), 422, 'duplicate_rule');
    assertError(await guide.api('PUT', `/vms/${vm.id}/port-forwarding`, { rules: [{ hostPort: HOST_PORT }] }), 400, 'missing_field');
    assert.equal(dataOf(await owner.client.api('GET', `/vms/${vm.id}/port-forwards`)).length, 2);

    res = await guide.api('PUT', `/vms/${vm.id}/port-forwarding`, { rules: [{ protocol: 'tcp', hostPort: HOST_PORT + 2, guestPort: 22 }] });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(strip(dataOf(res).port_forwards), [['tcp', '', HOST_PORT + 2, 22, `${NET}.10`]]);
    const audit = sql(`SELECT changes FROM audit_log WHERE action = 'vm.port_forward_set' AND target_id = ${vm.id} ORDER BY id DESC LIMIT 1`);
    assert.equal(JSON.parse(audit[0][0]).port_forwards.before.length, 2, 'audited with before and after');
    res = await guide.api('PUT', `/vms/${vm.id}/port-forwarding`, { rules: [] });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(dataOf(res).port_forwards, []);
  });

  test('hardware/memory/hot-add: size MiB more, live', async () => {
    assertError(await guide.api('POST', `/vms/${vm.id}/hardware/memory/hot-add`, { size: 100 }), 422, 'not_aligned');
    assertError(await guide.api('POST', `/vms/${vm.id}/hardware/memory/hot-add`, { size: 1024 }), 422, 'over_maximum');
    const res = await guide.api('POST', `/vms/${vm.id}/hardware/memory/hot-add`, { size: 128 });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('deprecation'), 'true');
    assert.equal(dataOf(res).memory_mb, 384);
    assert.match(virsh('dumpxml', domain), /<memory model='dimm'>[\s\S]*?<size unit='KiB'>131072<\/size>/, 'a DIMM of 128 MiB in the live machine');
  });
});

describe('NIC bandwidth limits and VLAN tags', () => {
  const mac = MAC.replace(/17$/, '18');
  const shapes = kernelShapes();

  test('bad limits and a VLAN tag where libvirt cannot tag are refused, nothing made', async () => {
    const c = owner.client;
    const bad = [
      [{ bandwidth: { inbound: { average: 1000, peak: 10 } } }, 422, 'peak_below_average'],
      [{ bandwidth: { inbound: { peak: 1000 } } }, 400, 'missing_field'],
      [{ bandwidth: { outbound: { average: 0 } } }, 400, 'out_of_range'],
      [{ bandwidth: { outbound: { average: 5_000_000 } } }, 400, 'out_of_range'],
      [{ bandwidth: { inbound: { average: 10, floor: 5 } } }, 400, 'unknown_field'],
      [{ vlan: 4095 }, 400, 'out_of_range'],
    ];
    for (const [body, status, code] of bad) {
      assertError(await c.api('POST', `/vms/${vm.id}/interfaces`, { network_id: network.id, mac, ...body }), status, code);
    }
    const res = await c.api('POST', `/vms/${vm.id}/interfaces`, { network_id: network.id, mac, vlan: 20 });
    assertError(res, 422, 'vlan_unsupported');
    assert.match(res.body.error.message, new RegExp(`${NET_NAME} is not an Open vSwitch bridge`));
    assert.equal((await nicsOf()).length, 1, 'nothing was made');
    assert.equal(sql(`SELECT COUNT(*) FROM vm_nics WHERE mac = ${q(mac)}`)[0][0], '0');
  });

  test('on the running guest: live limits in virsh domiftune, or a clear 422 where the kernel cannot shape', async () => {
    const c = owner.client;
    const first = (await nicsOf())[0].mac;
    if (!shapes) {
      // This host's kernel lacks sch_sfq / act_police (libvirt's tc rules).
      let res = await c.api('POST', `/vms/${vm.id}/interfaces`, {
        network_id: network.id, mac, bandwidth: { inbound: { average: 1000 } },
      });
      assertError(res, 422, 'bandwidth_unsupported');
      assert.match(res.body.error.message, /kernel cannot limit a running NIC's bandwidth/);
      assert.equal(sql(`SELECT COUNT(*) FROM vm_nics WHERE mac = ${q(mac)}`)[0][0], '0', 'no row left');
      assert.ok(!virsh('domiflist', domain).includes(mac), 'nothing attached');
      res = await c.api('PATCH', `/vms/${vm.id}/interfaces/${first}`, { bandwidth: { outbound: { average: 500 } } });
      assertError(res, 422, 'bandwidth_unsupported');
      assert.deepEqual((await nicsOf())[0].bandwidth, { inbound: null, outbound: null }, 'the row is as it was');
      // A link change leaves tc alone: it still works.
      res = await c.api('PATCH', `/vms/${vm.id}/interfaces/${first}`, { link_state: 'up' });
      assert.equal(res.status, 200, res.text);
      return;
    }
    let r = await c.api('POST', `/vms/${vm.id}/interfaces`, {
      network_id: network.id, mac, bandwidth: { inbound: { average: 1000, peak: 2000, burst: 512 }, outbound: { average: 2048, burst: 256 } },
    });
    assert.equal(r.status, 201, r.text);
    let tune = iftune(mac);
    assert.deepEqual([tune['inbound.average'], tune['inbound.peak'], tune['inbound.burst']], [1000, 2000, 512]);
    assert.deepEqual([tune['outbound.average'], tune['outbound.burst']], [2048, 256]);
    r = await c.api('PATCH', `/vms/${vm.id}/interfaces/${mac}`, { bandwidth: { inbound: { average: 3000, peak: 6000 } } });
    assert.equal(r.status, 200, r.text);
    tune = iftune(mac);
    assert.deepEqual([tune['inbound.average'], tune['inbound.peak'], tune['outbound.average']], [3000, 6000, 0]);
    r = await c.api('PATCH', `/vms/${vm.id}/interfaces/${mac}`, { bandwidth: null });
    assert.equal(r.status, 200, r.text);
    assert.equal(iftune(mac)['inbound.average'], 0);
    r = await c.api('DELETE', `/vms/${vm.id}/interfaces/${mac}`);
    assert.equal(r.status, 202, r.text);
    assert.equal((await jobEnded(c, jobOf(r).id, 90_000)).state, 'succeeded');
  });

  test('on the stopped machine: set at add, replaced, taken away (virsh domiftune --config)', async () => {
    const c = owner.client;
    await stopVmForced(c, vm.id);
    let r = await c.api('POST', `/vms/${vm.id}/interfaces`, {
      network_id: network.id, mac, bandwidth: { outbound: { average: 2048, burst: 256 } },
    });
    assert.equal(r.status, 201, r.text);
    let tune = iftune(mac, '--config');
    assert.equal(tune['outbound.average'], 2048);
    assert.equal(tune['outbound.burst'], 256);
    assert.equal(tune['inbound.average'], 0);
    assert.match(virsh('dumpxml', '--inactive', domain), /<outbound average='2048' burst='256'\/>/);

    r = await c.api('PATCH', `/vms/${vm.id}/interfaces/${mac}`, { bandwidth: { inbound: { average: 3000, peak: 6000 } } });
    assert.equal(r.status, 200, r.text);
    tune = iftune(mac, '--config');
    assert.deepEqual([tune['inbound.average'], tune['inbound.peak'], tune['outbound.average']], [3000, 6000, 0]);
    assert.match(virsh('dumpxml', '--inactive', domain), /<inbound average='3000' peak='6000'\/>/);
    assert.deepEqual((await nicsOf()).find((n) => n.mac === mac).bandwidth, { inbound: { average: 3000, peak: 6000 }, outbound: null });
    // The VM page's NIC table says it.
    const page = await c.page(`/vms/${vm.id}`);
    assert.match(page.text, new RegExp(`<tr data-mac="${mac}">[\\s\\S]*?<td class="bandwidth">in 3000 KiB/s</td>`));
    assertError(await c.api('PATCH', `/vms/${vm.id}/interfaces/${mac}`, { bandwidth: { inbound: { average: 3000, peak: 1 } } }), 422, 'peak_below_average');
    assert.equal(iftune(mac, '--config')['inbound.peak'], 6000, 'a refused change changes nothing');

    // Started with those limits: running where the kernel shapes, else a
    // 422 that says why, and the machine stays stopped.
    r = await c.api('POST', `/vms/${vm.id}/start`);
    if (shapes) {
      assert.equal(r.status, 200, r.text);
      assert.equal(iftune(mac)['inbound.average'], 3000, 'the stored limits apply live');
      await stopVmForced(c, vm.id);
    } else {
      assertError(r, 422, 'bandwidth_unsupported');
      assert.match(r.body.error.message, /cannot apply the bandwidth limits/);
      assert.equal(virsh('domstate', domain).trim(), 'shut off');
      assert.equal(dataOf(await c.api('GET', `/vms/${vm.id}`)).state, 'stopped');
    }

    r = await c.api('PATCH', `/vms/${vm.id}/interfaces/${mac}`, { bandwidth: null });
    assert.equal(r.status, 200, r.text);
    tune = iftune(mac, '--config');
    assert.equal(tune['inbound.average'], 0);
    assert.equal(tune['outbound.average'], 0);
    assert.doesNotMatch(virsh('dumpxml', '--inactive', domain), /<bandwidth>/);
  });
});
