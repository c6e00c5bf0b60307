// Hardware while running (issue 17) on a booted demo guest: disks added,
// grown and removed live, an ISO inserted and ejected, vCPUs added; what
// libvirt says (virsh) and what the guest itself sees (its serial shell,
// tests/integration/guest-shell.mjs). Bad input gets a clear 4xx and
// changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import {
  adminClient, assertError, createVmDone, dataOf, jobOf, q, restartHelper, sql, STATE, userClient, waitFor,
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
let network;
const cleanup = [];
// A NAT network with an IP pool for the NICs and port forwards below (its
// block and host ports are this suite's own: libvirtd and the host are shared).
const NET_NAME = `hw17-${process.pid.toString(36)}`;
const NET = '192.168.193';
const macsOf = (domain, flags = []) => [...virsh('dumpxml', ...flags, domain)
  .matchAll(/<mac address='([^']+)'\/>/g)].map((m) => m[1]);
// The host's own address (its default route's source), where forwards listen.
const HOST_ADDRESS = (() => {
  try {
    return execFileSync('ip', ['-4', 'route', 'get', '1.1.1.1'], { encoding: 'utf8' }).match(/ src (\S+)/)[1];
  } catch {
    return '192.168.122.1';   // libvirt's default bridge: an address of this host too
  }
})();
const HOST_PORT = 10000 + (process.pid % 9000);
// What a TCP connection to host:port reads before the peer closes it, or
// the error's code (ECONNREFUSED...).
function tcpRead(host, port, timeoutMs = 5000) {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect({ host, port });
    s.setTimeout(timeoutMs, () => { s.destroy(); resolve(got || 'TIMEOUT'); });
    s.on('data', (d) => { got += d; });
    s.on('end', () => resolve(got));
    s.on('error', (e) => resolve(e.code));
  });
}
const hostEntries = (name) => [...virsh('net-dumpxml', name).matchAll(/<host mac='([^']+)' ip='([^']+)'/g)]
  .map((m) => ({ mac: m[1], ip: m[2] }));

before(async () => {
  admin = await adminClient();
  owner = await userClient(admin);
  other = await userClient(admin);
  templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
  isoId = Number(sql("SELECT id FROM isos WHERE name = 'Demo installer'")[0][0]);
  let res = await admin.api('POST', '/networks', {
    name: NET_NAME, mode: 'nat', cidr: `${NET}.0/24`, dhcp: { start: `${NET}.100`, end: `${NET}.199` },
  });
  assert.equal(res.status, 201, res.text);
  network = dataOf(res);
  res = await admin.api('POST', '/ip-pools', {
    name: `${NET_NAME}-pool`, network_id: network.id, range_start: `${NET}.10`, range_end: `${NET}.19`,
  });
  assert.equal(res.status, 201, res.text);
});

after(async () => {
  for (const id of cleanup) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
  sql(`DELETE FROM ip_pools WHERE name = ${q(`${NET_NAME}-pool`)}`);
  if (network) await admin.api('DELETE', `/networks/${network.id}`);
  try { virsh('net-destroy', NET_NAME); } catch { /* not running or gone */ }
  try { virsh('net-undefine', NET_NAME); } catch { /* gone */ }
  sql(`DELETE FROM networks WHERE name = ${q(NET_NAME)}`);
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
    // Made with room for 256 MiB more memory (a NUMA cell and DIMM slots).
    vm = await createVm(owner.client, { max_memory_mb: 512 });
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

  test('a hot-added NIC appears in the guest with its pool address, its link goes down and up, and it goes on unplug', async () => {
    const c = owner.client;
    let res = await c.api('GET', `/vms/${vm.id}/interfaces`);
    assert.equal(res.status, 200, res.text);
    const first = dataOf(res);
    assert.equal(first.length, 1, 'the NIC on the default network is a row too');
    assert.equal(first[0].network, 'default');
    assert.ok(macsOf(domain).includes(first[0].mac), 'with the MAC the guest has');

    // Bad input changes nothing.
    const bad = [
      [{ network_id: network.id, mac: first[0].mac }, 409, 'mac_taken'],
      [{ network_id: network.id, mac: first[0].mac.toUpperCase() }, 409, 'mac_taken'],
      [{ network_id: network.id, mac: 'zz:54:00:12:34:56' }, 422, 'invalid_mac'],
      [{ network_id: network.id, mac: '01:00:5e:00:00:01' }, 422, 'invalid_mac'],
      [{ network_id: network.id, mac: 'fe:54:00:12:34:56' }, 422, 'invalid_mac'],
      [{ network_id: network.id, model: 'ne2k' }, 400, 'invalid_choice'],
      [{ network_id: 987654321 }, 404, 'unknown_network'],
      [{ network_id: network.id, ip: '10.0.0.5' }, 422, 'ip_outside_pool'],
    ];
    for (const [body, status, code] of bad) assertError(await c.api('POST', `/vms/${vm.id}/interfaces`, body), status, code);
    assertError(await other.client.api('POST', `/vms/${vm.id}/interfaces`, { network_id: network.id }), 404, 'not_found');
    assert.equal(sql(`SELECT COUNT(*) FROM vm_nics WHERE vm_id = ${vm.id}`)[0][0], '1');

    // A MAC another domain of the host has (not one of the portal's rows).
    const foreign = macsOf(domain)[0];
    sql(`UPDATE vm_nics SET mac = '52:54:00:ff:ff:fe' WHERE vm_id = ${vm.id}`);
    assertError(await c.api('POST', `/vms/${vm.id}/interfaces`, { network_id: network.id, mac: foreign }), 409, 'mac_taken');
    sql(`UPDATE vm_nics SET mac = ${q(first[0].mac)} WHERE vm_id = ${vm.id}`);

    const mac = '52:54:00:93:00:0a';
    res = await c.api('POST', `/vms/${vm.id}/interfaces`, { network_id: network.id, mac: mac.toUpperCase() });
    assert.equal(res.status, 201, res.text);
    const nic = dataOf(res).nics[1];
    assert.equal(nic.mac, mac, 'kept in lower case');
    assert.equal(nic.model, 'virtio');
    assert.equal(nic.ip, `${NET}.10`, 'the pool\'s first free address');
    assert.ok(macsOf(domain).includes(mac), 'live');
    assert.ok(macsOf(domain, ['--inactive']).includes(mac), 'and stored');
    assert.deepEqual(hostEntries(NET_NAME).filter((h) => h.mac === mac), [{ mac, ip: `${NET}.10` }]);
    const audit = lastAudit('vm.nic_add', vm.id);
    assert.equal(audit.result, 'success');
    assert.equal(audit.changes.nics.before.length, 1);
    assert.equal(audit.changes.nics.after.length, 2);
    const page = await c.page(`/vms/${vm.id}`);
    assert.match(page.text, new RegExp(`<tr data-mac="${mac}">`));
    assert.match(page.text, /<form method="post" action="\/vms\/\d+\/interfaces" class="form inline" id="add-interface">/);

    // The guest sees it, and its DHCP client gets the registry's address.
    const nets = await guestShellUntil(domain, 'ls /sys/class/net', (out) => /\beth1\b/.test(out));
    assert.match(nets, /\beth1\b/, 'the guest has a second NIC');
    assert.equal((await guestShell(domain, 'cat /sys/class/net/eth1/address')).trim(), mac);
    const dhcp = 'ip link set eth1 up; timeout 20 udhcpc -i eth1 -s /etc/udhcpc.script -n -q -t 5 -T 2 >/dev/null 2>&1; ip -4 -o addr show eth1';
    assert.match(await guestShell(domain, dhcp, 40), new RegExp(`inet ${NET}\\.10/`), 'DHCP gives it the pool address');

    // The cable pulled and put back, live.
    res = await c.api('PATCH', `/vms/${vm.id}/interfaces/${mac}`, { link_state: 'down' });
    assert.equal(res.status, 200, res.text);
    assert.equal(dataOf(res).nics[1].link_state, 'down');
    assert.match(virsh('domif-getlink', domain, mac), /down/);
    assert.equal((await guestShellUntil(domain, 'cat /sys/class/net/eth1/carrier', (o) => o.trim() === '0')).trim(), '0');
    assert.match(virsh('dumpxml', '--inactive', domain), /<link state='down'\/>/, 'kept for the next start');
    res = await c.postForm(`/vms/${vm.id}/interfaces/${mac}/update`, { link_state: 'up' });
    assert.equal(res.status, 303, res.text);
    assert.match(virsh('domif-getlink', domain, mac), /up/);
    assert.equal((await guestShellUntil(domain, 'cat /sys/class/net/eth1/carrier', (o) => o.trim() === '1')).trim(), '1');
    assertError(await c.api('PATCH', `/vms/${vm.id}/interfaces/${mac}`, { model: 'e1000' }), 409, 'no_hot_model');
    assertError(await c.api('PATCH', `/vms/${vm.id}/interfaces/52:54:00:00:00:99`, { link_state: 'up' }), 404, 'no_such_interface');

    // Unplugged: a job that ends when the guest let go; the address and
    // the DHCP host entry go with it.
    res = await c.api('DELETE', `/vms/${vm.id}/interfaces/${mac}`);
    assert.equal(res.status, 202, res.text);
    const job = await waitJob(c, jobOf(res).id, 60_000);
    assert.equal(job.state, 'succeeded', job.message);
    assert.ok(!macsOf(domain).includes(mac), 'gone live');
    assert.ok(!macsOf(domain, ['--inactive']).includes(mac), 'and stored');
    assert.deepEqual(hostEntries(NET_NAME).filter((h) => h.mac === mac), []);
    assert.equal(sql(`SELECT COUNT(*) FROM ip_allocations WHERE vm_id = ${vm.id}`)[0][0], '0');
    const gone = await guestShellUntil(domain, 'ls /sys/class/net', (out) => !/\beth1\b/.test(out));
    assert.doesNotMatch(gone, /\beth1\b/, 'the guest lost it');
    assertError(await c.api('DELETE', `/vms/${vm.id}/interfaces/${first[0].mac}`), 409, 'last_interface');
  });

  test('a port forward reaches a listener in the guest from the host, refuses what it must, and goes with its rule and NIC', async () => {
    const c = owner.client;
    const mac = '52:54:00:93:00:0b';
    let res = await c.api('POST', `/vms/${vm.id}/interfaces`, { network_id: network.id, mac });
    assert.equal(res.status, 201, res.text);
    const ip = dataOf(res).nics[1].ip;
    assert.equal(ip, `${NET}.10`);
    const firstMac = dataOf(res).nics[0].mac;
    // The guest takes its address and listens (busybox nc, one answer a connection).
    await guestShellUntil(domain, 'ls /sys/class/net', (out) => /\beth1\b/.test(out));
    const dhcp = 'ip link set eth1 up; timeout 20 udhcpc -i eth1 -s /etc/udhcpc.script -n -q -t 5 -T 2 >/dev/null 2>&1; ip -4 -o addr show eth1';
    assert.match(await guestShell(domain, dhcp, 40), new RegExp(`inet ${ip.replace(/\./g, '\\.')}/`));
    const listen = '(while true; do nc -l -p 8080 -e echo VMM-PF-OK || sleep 1; done >/dev/null 2>&1 &)';
    await guestShell(domain, listen);

    // Bad input first: nothing is made.
    const holder = net.createServer().listen(HOST_PORT + 1, '0.0.0.0');
    await new Promise((r) => holder.once('listening', r));
    try {
      const bad = [
        [{ host_port: 80, guest_port: 8080 }, 422, 'port_not_allowed'],
        [{ host_port: HOST_PORT + 1, guest_port: 8080 }, 409, 'port_taken'],
        [{ host_port: HOST_PORT, guest_port: 8080, mac: firstMac }, 409, 'no_fixed_address'],
        [{ host_port: HOST_PORT, guest_port: 8080, host_address: '10.0.0.999' }, 422, 'invalid_address'],
        [{ host_port: HOST_PORT, guest_port: 8080, protocol: 'sctp' }, 400, 'invalid_choice'],
      ];
      for (const [body, status, code] of bad) assertError(await c.api('POST', `/vms/${vm.id}/port-forwards`, body), status, code);
    } finally {
      holder.close();
    }
    assertError(await other.client.api('POST', `/vms/${vm.id}/port-forwards`, { host_port: HOST_PORT, guest_port: 8080 }), 404, 'not_found');
    assert.equal(sql(`SELECT COUNT(*) FROM vm_port_forwards WHERE vm_id = ${vm.id}`)[0][0], '0');

    res = await c.api('POST', `/vms/${vm.id}/port-forwards`, { protocol: 'tcp', host_port: HOST_PORT, guest_port: 8080 });
    assert.equal(res.status, 201, res.text);
    const forward = dataOf(res).port_forwards[0];
    assert.deepEqual({ ...forward, id: 0 }, {
      id: 0, vm_id: vm.id, protocol: 'tcp', host_address: '', host_port: HOST_PORT, guest_port: 8080, mac, guest_ip: ip,
    });
    assert.equal(lastAudit('vm.port_forward_add', vm.id).changes.port_forwards.after.length, 1);
    const reach = async () => {
      let got = '';
      await waitFor(async () => (got = await tcpRead(HOST_ADDRESS, HOST_PORT)).includes('VMM-PF-OK'), 30_000, 500);
      return got;
    };
    assert.match(await reach(), /VMM-PF-OK/, `the host's ${HOST_ADDRESS}:${HOST_PORT} reaches the guest's listener`);
    assertError(await c.api('POST', `/vms/${vm.id}/port-forwards`, { protocol: 'tcp', host_port: HOST_PORT, guest_port: 22 }), 409, 'port_taken');
    const page = await c.page(`/vms/${vm.id}`);
    assert.match(page.text, new RegExp(`<tr data-forward="tcp-${HOST_PORT}">`));

    // The helper's restart rewrites its table from the database: still there.
    await restartHelper();
    assert.match(await reach(), /VMM-PF-OK/, 'after a helper restart');

    // Removed: the port leads nowhere any more.
    res = await c.api('DELETE', `/vms/${vm.id}/port-forwards/${forward.id}`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(dataOf(res).port_forwards, []);
    await waitFor(async () => !(await tcpRead(HOST_ADDRESS, HOST_PORT, 2000)).includes('VMM-PF-OK'), 10_000, 500);
    assertError(await c.api('DELETE', `/vms/${vm.id}/port-forwards/${forward.id}`), 404, 'no_such_forward');

    // A forward goes with its NIC.
    res = await c.api('POST', `/vms/${vm.id}/port-forwards`, { host_port: HOST_PORT, guest_port: 8080 });
    assert.equal(res.status, 201, res.text);
    assert.match(await reach(), /VMM-PF-OK/);
    res = await c.api('DELETE', `/vms/${vm.id}/interfaces/${mac}`);
    assert.equal(res.status, 202, res.text);
    const job = await waitJob(c, jobOf(res).id, 60_000);
    assert.equal(job.state, 'succeeded', job.message);
    assert.deepEqual(dataOf(await c.api('GET', `/vms/${vm.id}/port-forwards`)), []);
    await waitFor(async () => !(await tcpRead(HOST_ADDRESS, HOST_PORT, 2000)).includes('VMM-PF-OK'), 10_000, 500);
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

  test('memory hot-added as a DIMM shows in the guest\'s MemTotal; a machine made without room gets a clear 409', async () => {
    const c = owner.client;
    assert.equal(dataOf(await c.api('GET', `/vms/${vm.id}`)).max_memory_mb, 512);
    assert.match(virsh('dumpxml', '--inactive', domain), /<maxMemory slots='8' unit='KiB'>524288<\/maxMemory>/);
    const memTotal = async () => Number((await guestShell(domain, 'grep MemTotal /proc/meminfo')).match(/MemTotal:\s+(\d+)/)[1]);
    const before = await memTotal();
    assertError(await c.api('PUT', `/vms/${vm.id}/memory`, { memory_mb: 384 }), 409, 'wrong_state');
    assertError(await c.api('PUT', `/vms/${vm.id}/memory`, { memory_mb: 640, live: true }), 422, 'over_maximum');
    assertError(await c.api('PUT', `/vms/${vm.id}/memory`, { memory_mb: 300, live: true }), 422, 'not_aligned');
    assertError(await c.api('PUT', `/vms/${vm.id}/memory`, { memory_mb: 128, live: true }), 409, 'no_hot_unplug');
    const res = await c.api('PUT', `/vms/${vm.id}/memory`, { memory_mb: 384, live: true });
    assert.equal(res.status, 200, res.text);
    assert.equal(dataOf(res).memory_mb, 384);
    assert.match(virsh('dumpxml', domain), /<memory model='dimm'>/, 'a DIMM in the live machine');
    assert.match(virsh('dumpxml', '--inactive', domain), /<memory model='dimm'>/, 'and in the stored one');
    assert.equal(lastAudit('vm.memory', vm.id).changes.memory_mb.after, 384);
    // The guest's kernel finds the ACPI memory device; its blocks are
    // onlined as a distribution's udev rule would (the test guest has none).
    const online = 'for m in /sys/devices/system/memory/memory*; do grep -q offline $m/state && echo online > $m/state; done; grep MemTotal /proc/meminfo';
    const out = await guestShellUntil(domain, online, (o) => Number(o.match(/MemTotal:\s+(\d+)/)?.[1]) >= before + 120 * 1024);
    assert.ok(Number(out.match(/MemTotal:\s+(\d+)/)[1]) >= before + 120 * 1024, `MemTotal grew by 128 MiB: ${out}`);

    // A machine made without room (the default) says so.
    const plain = await createVm(c, { name: 'hw-plain' });
    assertError(await c.api('PUT', `/vms/${plain.id}/memory`, { memory_mb: 384, live: true }), 409, 'no_memory_hotplug');
    assert.equal((await c.api('DELETE', `/vms/${plain.id}?delete_disks=true`)).status, 200);
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
      storage_pool_id: null,
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
    // Named CPU models: what libvirt offers for this host and accelerator.
    const offer = dataOf(await c.api('GET', '/host/cpu-models'));
    assert.equal(offer.arch, 'x86_64');
    assert.ok(['kvm', 'qemu'].includes(offer.accel));
    if (offer.accel === 'qemu') assert.equal(offer.host_passthrough, false, 'TCG has no host CPU to pass through');
    const usable = offer.models.find((m) => m.usable && !/^qemu|^kvm/.test(m.name));
    const unusable = offer.models.find((m) => !m.usable);
    assert.ok(usable, 'libvirt offers a named model this host can run');
    res = await c.api('PUT', `/vms/${vm.id}/cpu`, { model: usable.name });
    assert.equal(res.status, 200, res.text);
    assert.equal(dataOf(res).cpu.model, usable.name);
    assert.match(virsh('dumpxml', '--inactive', domain), new RegExp(`<cpu mode='custom' match='exact'[^>]*>\\s*<model[^>]*>${usable.name}</model>`));
    if (unusable) assertError(await c.api('PUT', `/vms/${vm.id}/cpu`, { model: unusable.name }), 422, 'cpu_model_unusable');
    assertError(await c.api('PUT', `/vms/${vm.id}/cpu`, { model: 'Pentium-9000' }), 422, 'unknown_cpu_model');
    assertError(await c.api('PATCH', `/vms/${vm.id}`, { cpu_model: 'Pentium-9000' }), 422, 'unknown_cpu_model');
    const page = await c.page(`/vms/${vm.id}`);
    assert.match(page.text, new RegExp(`<option value="${usable.name}" selected>`), 'the page\'s CPU form offers it, chosen');
    if (unusable) assert.doesNotMatch(page.text, new RegExp(`<option value="${unusable.name}"`), 'and not what the host cannot run');
    res = await c.api('PUT', `/vms/${vm.id}/cpu`, { model: 'host-model' });
    assert.equal(res.status, 200, res.text);
    res = await c.api('PUT', `/vms/${vm.id}/hardware/memory`, { size: 320 });
    assert.equal(res.status, 200, res.text);
    assert.equal(dataOf(res).memory_mb, 320);
    // Room for memory hot-add, given while stopped: slots and a NUMA cell.
    res = await c.api('PUT', `/vms/${vm.id}/memory`, { memory_mb: 320, max_memory_mb: 1024 });
    assert.equal(res.status, 200, res.text);
    assert.equal(dataOf(res).max_memory_mb, 1024);
    assert.match(virsh('dumpxml', '--inactive', domain), /<maxMemory slots='8' unit='KiB'>1048576<\/maxMemory>/);
    assert.match(virsh('dumpxml', '--inactive', domain), /<cell id='0' cpus='0-3' memory='327680' unit='KiB'\/>/);
    assertError(await c.api('PUT', `/vms/${vm.id}/memory`, { memory_mb: 320, max_memory_mb: 256 }), 422, 'below_memory');
    // Redefined from the row: the added disks stay.
    assert.match(virsh('dumpxml', '--inactive', domain), /dev='sdd'/);
    // The page's forms: a change, then back to the VM page.
    await c.page(`/vms/${vm.id}`);
    res = await c.postForm(`/vms/${vm.id}/vcpus`, { vcpus: '2' });
    assert.equal(res.status, 303, res.text);
    assert.equal(res.headers.get('location'), `/vms/${vm.id}#hardware`);
    assert.equal(sql(`SELECT vcpus FROM vms WHERE id = ${vm.id}`)[0][0], '2');
    assert.match(virsh('vcpucount', domain, '--config', '--current'), /^2$/m);
    // NICs while stopped: any model, changed at will, removed at once.
    res = await c.api('POST', `/vms/${vm.id}/interfaces`, { network_id: network.id, model: 'e1000', link_state: 'down' });
    assert.equal(res.status, 201, res.text);
    const nic = dataOf(res).nics[1];
    assert.equal(nic.ip, `${NET}.10`, 'the address the running guest gave back is free again');
    assert.match(virsh('dumpxml', '--inactive', domain), new RegExp(`<mac address='${nic.mac}'/>\\s*<source network='${NET_NAME}'/>\\s*<model type='e1000'/>\\s*<link state='down'/>`));
    res = await c.api('PATCH', `/vms/${vm.id}/interfaces/${nic.mac}`, { model: 'rtl8139', link_state: 'up' });
    assert.equal(res.status, 200, res.text);
    assert.match(virsh('dumpxml', '--inactive', domain), new RegExp(`<mac address='${nic.mac}'/>\\s*<source network='${NET_NAME}'/>\\s*<model type='rtl8139'/>`));
    assert.equal(lastAudit('vm.nic_update', vm.id).changes.nics.before[1].model, 'e1000');
    res = await c.api('DELETE', `/vms/${vm.id}/interfaces/${nic.mac}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(dataOf(res).nics.length, 1);
    assert.doesNotMatch(virsh('dumpxml', '--inactive', domain), new RegExp(nic.mac));
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
