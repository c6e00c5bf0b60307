// Virtual networks against the real libvirtd (qemu:///system): made,
// changed, stopped, started and removed through the portal, checked with
// virsh; bad input refused with nothing left behind. Every name carries
// this run's prefix, so parallel stacks on the machine never collide, and
// after() removes whatever a failed test left.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminClient, assertError, createVmDone, dataOf, freeBlocks, sql, q, userClient } from './lib.mjs';

// Ten /24 blocks free on this host ('192.168.N'); re() escapes one for a RegExp.
const B = freeBlocks(10);
const re = (block) => block.replace(/\./g, '\\.');
const PREFIX = `t12n-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;

function virsh(...args) {
  return execFileSync('virsh', ['-q', '-c', 'qemu:///system', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
function libvirtNetworks() {
  return virsh('net-list', '--all', '--name').split('\n').map((s) => s.trim()).filter(Boolean);
}
function netActive(name) {
  return /^Active:\s+yes/m.test(virsh('net-info', name));
}

// The /24 around the host's first address that is neither loopback nor a
// libvirt bridge: it overlaps the host's own network, whatever its prefix.
function hostBlock() {
  const lines = execFileSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' }).split('\n');
  for (const line of lines) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\d+)\.(\d+)\.(\d+)\.\d+\//.exec(line);
    if (m && m[1] !== 'lo' && !m[1].startsWith('virbr')) return `${m[2]}.${m[3]}.${m[4]}.0/24`;
  }
  return '127.0.0.0/24'; // no other interface: loopback is the host's own too
}

let admin;
let templateId;
const vmsToDelete = [];

before(async () => {
  admin = await adminClient();
  templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
});

after(async () => {
  for (const id of vmsToDelete) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
  for (const row of sql(`SELECT id FROM networks WHERE name LIKE ${q(`${PREFIX}%`)}`)) {
    await admin.api('DELETE', `/networks/${row[0]}`);
  }
  // Whatever the portal could not remove.
  for (const name of libvirtNetworks().filter((n) => n.startsWith(PREFIX))) {
    try { virsh('net-destroy', name); } catch { /* not running */ }
    try { virsh('net-undefine', name); } catch { /* gone */ }
  }
  sql(`DELETE FROM networks WHERE name LIKE ${q(`${PREFIX}%`)}`);
});

async function createNetwork(fields) {
  return admin.api('POST', '/networks', { mode: 'isolated', ...fields });
}

describe('a network', () => {
  test('is made, changed live, stopped, started and deleted in libvirt', async () => {
    const name = `${PREFIX}-iso`;
    const res = await createNetwork({
      name, cidr: `${B[0]}.0/24`, dhcp: { start: `${B[0]}.100`, end: `${B[0]}.150` },
      domain: 'lab.example',
    });
    assert.equal(res.status, 201, res.text);
    const net = dataOf(res);
    assert.equal(net.name, name);
    assert.equal(net.mode, 'isolated');
    assert.equal(net.state, 'active');
    assert.deepEqual(net.dhcp, { start: `${B[0]}.100`, end: `${B[0]}.150` });
    assert.ok(net.bridge_device, 'libvirt named its bridge');
    assert.ok(libvirtNetworks().includes(name));
    assert.ok(netActive(name));
    const xml = virsh('net-dumpxml', name);
    assert.match(xml, new RegExp(`<ip address='${re(B[0])}\\.1' netmask='255\\.255\\.255\\.0'>`));
    assert.match(xml, new RegExp(`<range start='${re(B[0])}\\.100' end='${re(B[0])}\\.150'`));
    assert.doesNotMatch(xml, /<forward/, 'isolated: no forwarding');
    assert.match(virsh('net-info', name), /Autostart:\s+yes/);

    // The DHCP range changes live; the domain waits for a restart, and says so.
    const patched = await admin.api('PATCH', `/networks/${net.id}`, {
      dhcp: { start: `${B[0]}.120`, end: `${B[0]}.180` }, domain: 'other.example',
      autostart: false,
    });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(dataOf(patched).restart_required, ['domain']);
    const live = virsh('net-dumpxml', name);
    assert.match(live, new RegExp(`<range start='${re(B[0])}\\.120' end='${re(B[0])}\\.180'`));
    assert.match(live, /<domain name='lab\.example'/, 'the running network keeps its domain');
    assert.match(virsh('net-dumpxml', '--inactive', name), /<domain name='other\.example'/);
    assert.match(virsh('net-info', name), /Autostart:\s+no/);

    const stopped = await admin.api('POST', `/networks/${net.id}/stop`);
    assert.equal(stopped.status, 200, stopped.text);
    assert.equal(dataOf(stopped).state, 'inactive');
    assert.ok(!netActive(name));
    const started = await admin.api('POST', `/networks/${net.id}/start`);
    assert.equal(dataOf(started).state, 'active');
    assert.match(virsh('net-dumpxml', name), /<domain name='other\.example'/, 'applied at the restart');

    const page = await admin.page(`/networks/${net.id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, new RegExp(name));
    const list = await admin.page('/networks');
    assert.match(list.text, new RegExp(`data-name="${name}"`));

    const deleted = await admin.api('DELETE', `/networks/${net.id}`);
    assert.equal(deleted.status, 200, deleted.text);
    assert.ok(!libvirtNetworks().includes(name));
    assertError(await admin.api('GET', `/networks/${net.id}`), 404, 'not_found');
  });

  test('NAT with DNS forwarders; VMs join it at create and it cannot be deleted under them', async () => {
    const name = `${PREFIX}-nat`;
    const res = await createNetwork({
      name, mode: 'nat', cidr: `${B[1]}.0/24`, dns: [`${B[1]}.53`],
      dhcp: { start: `${B[1]}.10`, end: `${B[1]}.99` },
    });
    assert.equal(res.status, 201, res.text);
    const net = dataOf(res);
    const xml = virsh('net-dumpxml', name);
    assert.match(xml, /<forward mode='nat'/);
    assert.match(xml, new RegExp(`<forwarder addr='${re(B[1])}\\.53'/>`));

    const { client } = await userClient(admin);
    const defaultId = Number(sql("SELECT id FROM networks WHERE name = 'default'")[0][0]);
    // The domain is defined by the create job: its end is awaited.
    const made = await createVmDone(client, {
      name: 'two-nics', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1,
      start: false, network_ids: [net.id, defaultId],
    });
    assert.equal(made.status, 201, made.text);
    const vm = dataOf(made.res);
    vmsToDelete.push(vm.id);
    assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));
    assert.deepEqual(vm.network_ids, [net.id, defaultId]);
    const domain = sql(`SELECT domain_name FROM vms WHERE id = ${vm.id}`)[0][0];
    const sources = [...virsh('dumpxml', domain).matchAll(/<source network='([^']+)'/g)].map((m) => m[1]);
    assert.deepEqual(sources, [name, 'default']);

    // Without network_ids a VM stays on the default network.
    const plain = await client.api('POST', '/vms', {
      name: 'plain', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, start: false,
    });
    assert.equal(plain.status, 201, plain.text);
    vmsToDelete.push(dataOf(plain).id);
    assert.deepEqual(dataOf(plain).network_ids, [defaultId]);

    assertError(await client.api('POST', '/vms', {
      name: 'nowhere', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1,
      start: false, network_ids: [987654321],
    }), 404, 'unknown_network');
    // Networks are for administrators to make.
    assertError(await client.api('POST', '/networks', { name: `${PREFIX}-x`, mode: 'isolated', cidr: `${B[8]}.0/24` }), 403, 'forbidden');

    assertError(await admin.api('DELETE', `/networks/${net.id}`), 409, 'network_in_use');
    assert.ok(libvirtNetworks().includes(name));
    const del = await client.api('DELETE', `/vms/${vm.id}?delete_disks=true`);
    assert.equal(del.status, 200, del.text);
    assert.equal((await admin.api('DELETE', `/networks/${net.id}`)).status, 200);
    assert.ok(!libvirtNetworks().includes(name));
  });

  test('bridged onto a host bridge of our own, and routed', async () => {
    // A bridge of this run only (IFNAMSIZ: at most 15 characters), removed after.
    const bridge = `t12b${process.pid.toString(36).slice(-6)}`;
    execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
    try {
      const res = await createNetwork({ name: `${PREFIX}-br`, mode: 'bridge', bridge });
      assert.equal(res.status, 201, res.text);
      const net = dataOf(res);
      assert.equal(net.state, 'active');
      assert.equal(net.dhcp, null);
      const xml = virsh('net-dumpxml', `${PREFIX}-br`);
      assert.match(xml, /<forward mode='bridge'\/>/);
      assert.match(xml, new RegExp(`<bridge name='${bridge}'/>`));
      assertError(await admin.api('PATCH', `/networks/${net.id}`, { dhcp: { start: `${B[9]}.10`, end: `${B[9]}.20` } }), 400, 'invalid_choice');
      assert.equal((await admin.api('DELETE', `/networks/${net.id}`)).status, 200);
    } finally {
      execFileSync('ip', ['link', 'del', bridge]);
    }
    const routed = await createNetwork({ name: `${PREFIX}-rt`, mode: 'routed', cidr: `${B[4]}.0/24` });
    assert.equal(routed.status, 201, routed.text);
    assert.match(virsh('net-dumpxml', `${PREFIX}-rt`), /<forward mode='route'\/>/);
    assert.equal((await admin.api('DELETE', `/networks/${dataOf(routed).id}`)).status, 200);
  });

  test('bad input is refused with a clear error and nothing made', async () => {
    const first = await createNetwork({ name: `${PREFIX}-a`, cidr: `${B[2]}.0/24` });
    assert.equal(first.status, 201, first.text);
    const cases = [
      [{ name: `${PREFIX}-b`, cidr: `${B[2]}.128/25` }, 409, 'network_overlap'],
      [{ name: `${PREFIX}-b`, cidr: '192.168.122.0/24' }, 409, 'network_overlap'],
      [{ name: `${PREFIX}-b`, cidr: hostBlock() }, 409, 'network_overlap'],
      [{ name: `${PREFIX}-b`, cidr: `${B[3]}.0/24`, dhcp: { start: `${B[4]}.10`, end: `${B[4]}.20` } }, 422, 'dhcp_outside_cidr'],
      [{ name: `${PREFIX}-b`, cidr: `${B[3]}.0/24`, dhcp: { start: `${B[3]}.1`, end: `${B[3]}.20` } }, 422, 'dhcp_outside_cidr'],
      [{ name: `${PREFIX}-b`, cidr: `${B[3]}.1/24` }, 400, 'invalid_cidr'],
      [{ name: `${PREFIX}-b`, cidr: `${B[3]}.0/33` }, 400, 'invalid_cidr'],
      [{ name: `${PREFIX}-b`, cidr: `${B[3]}.0/24`, dns: ['not-an-ip'] }, 400, 'invalid_address'],
      [{ name: `${PREFIX}/b`, cidr: `${B[3]}.0/24` }, 400, 'invalid_name'],
      [{ name: `-${PREFIX}`, cidr: `${B[3]}.0/24` }, 400, 'invalid_name'],
      [{ name: `${PREFIX} b`, cidr: `${B[3]}.0/24` }, 400, 'invalid_name'],
      [{ name: `${PREFIX}-b` }, 400, 'missing_field'],
      [{ name: `${PREFIX}-b`, mode: 'bridge', bridge: `nobr${process.pid % 1000}` }, 422, 'no_bridge'],
      [{ name: `${PREFIX}-b`, mode: 'bridge', bridge: 'virbr0', cidr: `${B[3]}.0/24` }, 400, 'invalid_choice'],
      [{ name: `${PREFIX}-a`, cidr: `${B[5]}.0/24` }, 409, 'name_taken'],
      [{ name: 'default', cidr: `${B[5]}.0/24` }, 409, 'name_taken'],
      [{ name: `${PREFIX}-b`, mode: 'wifi', cidr: `${B[5]}.0/24` }, 400, 'invalid_choice'],
    ];
    for (const [fields, status, code] of cases) {
      const res = await createNetwork(fields);
      assertError(res, status, code);
    }
    assert.equal(sql(`SELECT COUNT(*) FROM networks WHERE name LIKE ${q(`${PREFIX}%`)}`)[0][0], '1');
    assert.deepEqual(libvirtNetworks().filter((n) => n.startsWith(PREFIX)), [`${PREFIX}-a`]);
    // A libvirt network the portal did not make (another stack's) counts too.
    const dir = mkdtempSync(join(tmpdir(), 't12n-'));
    try {
      const file = join(dir, 'net.xml');
      writeFileSync(file, `<network><name>${PREFIX}-foreign</name><ip address='${B[6]}.1' netmask='255.255.255.0'/></network>`);
      virsh('net-define', file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assertError(await createNetwork({ name: `${PREFIX}-c`, cidr: `${B[6]}.0/25` }), 409, 'network_overlap');
    assertError(await createNetwork({ name: `${PREFIX}-foreign`, cidr: `${B[7]}.0/24` }), 409, 'network_exists');
    assert.equal(sql(`SELECT COUNT(*) FROM networks WHERE name LIKE ${q(`${PREFIX}%`)}`)[0][0], '1');
  });
});
