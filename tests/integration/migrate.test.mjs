// Issue 19: hosts and live migration. A second libvirt host on this
// machine (tools/dev second-host up: its own libvirtd in its own
// namespaces, qemu+tcp on 10.254.N.2); a running TCG guest migrates there
// and back through the portal, keeps running (its uptime in the guest
// shell goes on) and ends where the portal says.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import {
  adminClient, assertError, createVmDone, dataOf, domainOf, elementText, freeBlocks, jobEnded, jobOf,
  q, serialLog, sql, STATE, userClient, waitFor,
} from './lib.mjs';
import { guestShell, onGuestDisk } from './guest-shell.mjs';
import { closeWs, openConsole, rfbHandshake } from './rfb.mjs';

const DEV = new URL('../../tools/dev', import.meta.url).pathname;
let admin;
let uri;
let hostId;
let vm;
let domain;
const extraVms = [];   // made by the placement tests, removed in after()
let poolNet;
let ipPool;
const PREFIX = `t19p-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;

function uptime(out) {
  const m = out.match(/^(\d+\.\d+) /m);
  return m ? Number(m[1]) : NaN;
}

/** The one audit row of an answer: {action, result, detail}. */
function auditOf(res) {
  const rows = sql(`SELECT action, result, detail FROM audit_log WHERE request_id = ${q(res.requestId)}`);
  assert.equal(rows.length, 1, `one audit row for request ${res.requestId}`);
  return { action: rows[0][0], result: rows[0][1], detail: JSON.parse(rows[0][2]) };
}

async function migrate(to, mode = 'live') {
  const check = dataOf(await admin.api('POST', `/vms/${vm.id}/migrate/check`, { host_id: to, mode }));
  assert.equal(check.ok, true, JSON.stringify(check));
  const res = await admin.api('POST', `/vms/${vm.id}/migrate`,
    mode === 'live' ? { host_id: to, mode, max_downtime_ms: 500, auto_converge: true } : { host_id: to, mode });
  assert.equal(res.status, 202, res.text);
  const audit = auditOf(res);
  assert.equal(audit.action, 'vm.migrate');
  assert.equal(audit.result, 'success');
  assert.deepEqual(audit.detail, { host_id: to });
  const job = await jobEnded(admin, jobOf(res).id, 300_000);
  assert.equal(job.state, 'succeeded', JSON.stringify(job));
  assert.equal(job.result.host_id, to);
  return job;
}

async function vmWhere(hostIdWanted, state, deadlineMs = 30_000) {
  return waitFor(async () => {
    const v = dataOf(await admin.api('GET', `/vms/${vm.id}`));
    return v.host_id === hostIdWanted && v.state === state && v;
  }, deadlineMs, 250);
}

async function guestShellUntilOn(onUri, dom, command, check, deadlineMs) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const out = await guestShell(dom, command, 30, onUri).catch((e) => String(e));
    if (check(out) || Date.now() > end) return out;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function virshState(onUri, dom = domain) {
  try {
    return execFileSync('virsh', ['-c', onUri, 'domstate', dom], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'absent';
  }
}

before(async () => {
  admin = await adminClient();
  const out = execFileSync(DEV, ['second-host', 'up'], { encoding: 'utf8' }).trim().split('\n');
  uri = out[out.length - 1];
  assert.match(uri, /^qemu\+tcp:\/\/10\.254\.\d+\.2\/system$/);
});

after(async () => {
  for (const id of extraVms) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
  if (ipPool) await admin.api('DELETE', `/ip-pools/${ipPool.id}`);
  if (poolNet) await admin.api('DELETE', `/networks/${poolNet.id}`);
  await admin.api('PATCH', '/hosts/1', { enabled: true });
  if (vm) await admin.api('DELETE', `/vms/${vm.id}?delete_disks=true`);
  if (hostId) await admin.api('DELETE', `/hosts/${hostId}`);
  await admin.api('PATCH', '/hosts/1', { migration_address: null });
  execFileSync(DEV, ['second-host', 'down'], { encoding: 'utf8' });
});

describe('hosts', () => {
  test('an admin adds the second host by its URI; it is up with its capacity', async () => {
    const res = await admin.api('POST', '/hosts', { name: 'second 第二', uri });
    assert.equal(res.status, 201, res.text);
    hostId = dataOf(res).id;
    assert.deepEqual(auditOf(res), { action: 'host.add', result: 'success', detail: { uri } });
    // The root namespace's end of the veth: where the second host sends back.
    await admin.api('PATCH', '/hosts/1', { migration_address: uri.replace(/^.*\/\/(.*)\.2\/.*$/, '$1.1') });
    const host = await waitFor(async () => {
      const h = dataOf(await admin.api('GET', `/hosts/${hostId}`));
      return h.state === 'up' && h;
    }, 30_000, 500);
    assert.ok(host.cpus > 0 && host.memory_mb > 0 && host.host_uuid, JSON.stringify(host));
    const list = dataOf(await admin.api('GET', '/hosts'));
    assert.deepEqual(list.map((h) => h.id).slice(0, 1), [1]);
    assert.notEqual(list[0].host_uuid, host.host_uuid);
  });

  test('the same host twice, a bad URI, and a user are refused', async () => {
    assertError(await admin.api('POST', '/hosts', { name: 'again', uri }), 409, 'host_exists');
    assertError(await admin.api('POST', '/hosts', { name: 'bad', uri: 'qemu:///session' }), 400,
      'invalid_uri');
    const { client: user } = await userClient(admin);
    assert.equal((await user.api('GET', '/hosts')).status, 403);
  });
});


function virshOn(onUri, ...args) {
  return execFileSync('virsh', ['-q', '-c', onUri, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const hostEntriesOn = (onUri, name) => [...virshOn(onUri, 'net-dumpxml', name)
  .matchAll(/<host mac='([^']+)' ip='([^']+)'/g)].map((m) => ({ mac: m[1], ip: m[2] }));

describe('placement at create', () => {
  let templateId;
  let placed;   // the VM made on the second host, on the IP pool's network
  let net;      // the /24 of that network
  before(async () => {
    templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
    // An isolated network with an IP pool, on both hosts: the portal makes it
    // on its own host, the second host gets the same definition.
    [net] = freeBlocks(1);
    const res = await admin.api('POST', '/networks', {
      name: `${PREFIX}-net`, mode: 'isolated', cidr: `${net}.0/24`,
      dhcp: { start: `${net}.100`, end: `${net}.199` },
    });
    assert.equal(res.status, 201, res.text);
    poolNet = dataOf(res);
    const pool = await admin.api('POST', '/ip-pools', {
      name: `${PREFIX}-pool`, network_id: poolNet.id, range_start: `${net}.10`, range_end: `${net}.19`,
    });
    assert.equal(pool.status, 201, pool.text);
    ipPool = dataOf(pool);
    const xml = virshOn('qemu:///system', 'net-dumpxml', '--inactive', poolNet.name);
    const file = join(mkdtempSync(join(tmpdir(), 'vmm-t19-')), 'net.xml');
    writeFileSync(file, xml);
    virshOn(uri, 'net-define', file);
    rmSync(dirname(file), { recursive: true });
    virshOn(uri, 'net-start', poolNet.name);
  });

  test('an admin names the host: the VM is made there, boots there, with its pool address from there', async () => {
    const made = await createVmDone(admin, {
      name: '放置 placed', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1,
      host_id: hostId, network_ids: [poolNet.id],
    });
    assert.equal(made.status, 201, made.text);
    extraVms.push(made.vm.id);
    assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));
    assert.equal(auditOf(made.res).detail.host_id, hostId);
    placed = made.vm;
    assert.equal(placed.host_id, hostId);
    assert.equal(placed.host_name, 'second 第二');
    const dom = domainOf(placed.id);
    assert.equal(virshState(uri, dom), 'running');
    assert.equal(virshState('qemu:///system', dom), 'absent');
    // Its DHCP host entry is on the second host's network, where it boots.
    const { mac, ip } = placed.nics[0];
    assert.equal(ip, `${net}.10`);
    assert.deepEqual(hostEntriesOn(uri, poolNet.name).filter((h) => h.mac === mac), [{ mac, ip }]);
    assert.deepEqual(hostEntriesOn('qemu:///system', poolNet.name).filter((h) => h.mac === mac), []);
    await waitFor(() => /VMM-TEST: (ip|no ip)/.test(serialLog(dom)), 300_000, 500);
    assert.match(serialLog(dom), new RegExp(`VMM-TEST: ip ${ip.replace(/\./g, '\\.')}\\b`));
    const out = await guestShellUntilOn(uri, dom, 'cat /proc/uptime', (o) => !Number.isNaN(uptime(o)), 120_000);
    assert.ok(uptime(out) > 0, out);
    // The list names the host.
    const listed = dataOf(await admin.api('GET', '/vms')).find((v) => v.id === placed.id);
    assert.equal(listed.host_name, 'second 第二');
    const page = await admin.page(`/vms/${placed.id}`);
    assert.equal(elementText(page.text, 'host'), 'second 第二');
  });

  test('its console opens through the portal: QEMU there on its host\'s address, a one-time password', async () => {
    const dom = domainOf(placed.id);
    const address = uri.replace(/^.*\/\/([^/]*)\/.*$/, '$1');
    assert.match(virshOn(uri, 'dumpxml', dom), new RegExp(`<graphics type='vnc'[^>]* listen='${address.replace(/\./g, '\\.')}'`));
    const own = sql(`SELECT vnc_password FROM vms WHERE id = ${placed.id}`)[0][0];
    const data = dataOf(await admin.api('GET', `/vms/${placed.id}/console`));
    assert.match(data.password, /^[A-Za-z0-9]{8}$/);
    assert.notEqual(data.password, own, 'a one-time password, not the machine\'s own');
    const opened = await openConsole(admin, data);
    assert.ok(opened.ws, `the websocket opens: ${opened.status} ${opened.text}`);
    const init = await rfbHandshake(opened, data.password);
    assert.ok(init.width > 0 && init.height > 0, JSON.stringify(init));
    await closeWs(opened.ws);
    // The machine's own password opens nothing there.
    const again = dataOf(await admin.api('GET', `/vms/${placed.id}/console`));
    const second = await openConsole(admin, again);
    assert.ok(second.ws, `the websocket opens: ${second.status} ${second.text}`);
    await assert.rejects(rfbHandshake(second, own));
    await closeWs(second.ws);
  });

  test('left to the portal: the enabled host with room and the fewest VMs', async () => {
    const make = async (name) => {
      const m = await createVmDone(admin, { name, template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, start: false });
      assert.equal(m.status, 201, m.text);
      extraVms.push(m.vm.id);
      assert.equal(m.job.state, 'succeeded', JSON.stringify(m.job));
      return m.vm;
    };
    const hosts = dataOf(await admin.api('GET', '/hosts'));
    const fewest = [...hosts].sort((a, b) => a.vm_count - b.vm_count || a.id - b.id)[0];
    assert.equal((await make('auto-1')).host_id, fewest.id);
    // The local host taking no new VMs: the next one goes to the second host.
    const off = await admin.api('PATCH', '/hosts/1', { enabled: false });
    assert.equal(off.status, 200, off.text);
    assert.equal(dataOf(off).enabled, false);
    assert.match((await admin.page('/hosts')).text, /<td class="host-enabled">not placed here<\/td>/);
    const second = await make('auto-2');
    assert.equal(second.host_id, hostId);
    assert.equal(virshState(uri, domainOf(second.id)), 'shut off');
    assertError(await admin.api('POST', '/vms', {
      name: 'asked-off', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, host_id: 1,
    }), 409, 'host_disabled');
    assert.equal(dataOf(await admin.api('PATCH', '/hosts/1', { enabled: true })).enabled, true);
  });

  test('a host without room, no such host, and a user naming one are refused, nothing made', async () => {
    const before = sql('SELECT COUNT(*) FROM vms')[0][0];
    const base = { name: 'refused', template_id: templateId, vcpus: 1, memory_mb: 128 };
    const room = await admin.api('POST', '/vms', { ...base, disk_gb: 65536, host_id: hostId });
    assertError(room, 422, 'no_room');
    assert.equal(JSON.parse(room.text).error.field, 'disk_gb');
    assertError(await admin.api('POST', '/vms', { ...base, disk_gb: 1, host_id: 987654 }), 404, 'unknown_host');
    const { client: user } = await userClient(admin);
    assertError(await user.api('POST', '/vms', { ...base, disk_gb: 1, host_id: hostId }), 403, 'forbidden');
    assert.equal(sql('SELECT COUNT(*) FROM vms')[0][0], before);
  });

  test('its DHCP host entry moves with a migration to the local host', async () => {
    const dom = domainOf(placed.id);
    const { mac, ip } = placed.nics[0];
    const before = uptime(await guestShellUntilOn(uri, dom, 'cat /proc/uptime', (o) => !Number.isNaN(uptime(o)), 60_000));
    const res = await admin.api('POST', `/vms/${placed.id}/migrate`, { host_id: 1, mode: 'live' });
    assert.equal(res.status, 202, res.text);
    const job = await jobEnded(admin, jobOf(res).id, 300_000);
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    assert.deepEqual(hostEntriesOn('qemu:///system', poolNet.name).filter((h) => h.mac === mac), [{ mac, ip }]);
    assert.deepEqual(hostEntriesOn(uri, poolNet.name).filter((h) => h.mac === mac), []);
    assert.equal(virshState('qemu:///system', dom), 'running');
    const after = uptime(await guestShellUntilOn('qemu:///system', dom, 'cat /proc/uptime',
      (o) => !Number.isNaN(uptime(o)), 60_000));
    assert.ok(after > before, `uptime went on: ${before} -> ${after}`);
    // The console came along: on this host's loopback, with the machine's own password.
    const data = dataOf(await admin.api('GET', `/vms/${placed.id}/console`));
    assert.equal(data.password, sql(`SELECT vnc_password FROM vms WHERE id = ${placed.id}`)[0][0]);
    const opened = await openConsole(admin, data);
    assert.ok(opened.ws, `the websocket opens: ${opened.status} ${opened.text}`);
    await rfbHandshake(opened, data.password);
    await closeWs(opened.ws);
    // Done with it: the later tests count on the hosts' VMs being theirs.
    for (const id of extraVms.splice(0)) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
  });
});

describe('live migration of a running guest', () => {
  before(async () => {
    const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
    const made = await createVmDone(admin, {
      name: '迁移 mig', template_id: templateId, vcpus: 1, memory_mb: 256, disk_gb: 1, host_id: 1,
    });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));
    vm = made.vm;
    assert.equal(vm.host_id, 1);
    domain = sql(`SELECT domain_name FROM vms WHERE id = ${vm.id}`)[0][0];
  });

  test('the pre-check explains what blocks: the host it is on', async () => {
    const check = dataOf(await admin.api('POST', `/vms/${vm.id}/migrate/check`, { host_id: 1 }));
    assert.equal(check.ok, false);
    assert.ok(check.blockers.some((b) => b.code === 'same_host'), JSON.stringify(check));
    assertError(await admin.api('POST', `/vms/${vm.id}/migrate`, { host_id: 1 }), 409,
      'migration_blocked');
  });

  test('there and back: the guest keeps running and ends where the portal says', async () => {
    const before = uptime(await guestShellUntilOn('qemu:///system', domain, 'cat /proc/uptime',
      (o) => !Number.isNaN(uptime(o)), 240_000));
    const there = await migrate(hostId);
    assert.equal(dataOf(await admin.api('GET', `/vms/${vm.id}`)).host_id, hostId);
    assert.equal(virshState(uri), 'running');
    assert.equal(virshState('qemu:///system'), 'absent');
    assert.equal(there.result.state, 'running');
    const mid = uptime(await guestShellUntilOn(uri, domain, 'cat /proc/uptime',
      (o) => !Number.isNaN(uptime(o)), 60_000));
    assert.ok(mid > before, `uptime went on: ${before} -> ${mid}`);

    await migrate(1);
    const now = await waitFor(async () => {
      const v = dataOf(await admin.api('GET', `/vms/${vm.id}`));
      return v.host_id === 1 && v.state === 'running' && v;
    }, 20_000, 200);
    assert.equal(now.host_name, 'local');
    assert.equal(virshState('qemu:///system'), 'running');
    assert.equal(virshState(uri), 'absent');
    const last = uptime(await guestShellUntilOn('qemu:///system', domain, 'cat /proc/uptime',
      (o) => !Number.isNaN(uptime(o)), 60_000));
    assert.ok(last > mid, `uptime went on: ${mid} -> ${last}`);
  });
});

describe('cancel, offline, and the pages', () => {
  test('a migration cancelled mid-way leaves the machine running on the source', async () => {
    await vmWhere(1, 'running');
    // 1 MiB/s: 256 MiB of guest memory take minutes, time enough to cancel.
    const res = await admin.api('POST', `/vms/${vm.id}/migrate`,
      { host_id: hostId, mode: 'live', max_bandwidth_mibs: 1 });
    assert.equal(res.status, 202, res.text);
    const jobId = jobOf(res).id;
    await waitFor(async () => {
      const j = dataOf(await admin.api('GET', `/jobs/${jobId}`));
      return j.state === 'running' && j.result?.data_total_bytes > 0 && j;
    }, 60_000, 250);
    assert.equal(virshState(uri), 'paused', 'the destination holds the incoming domain, paused');
    assert.equal((await admin.api('POST', `/jobs/${jobId}/cancel`)).status, 200);
    const job = await jobEnded(admin, jobId, 60_000);
    assert.equal(job.state, 'cancelled', JSON.stringify(job));
    const now = await vmWhere(1, 'running');
    assert.equal(now.host_name, 'local');
    assert.equal(virshState('qemu:///system'), 'running');
    await waitFor(() => virshState(uri) === 'absent', 30_000, 250);
  });

  test('offline: a stopped machine moves there, its console says it is off, and back', async () => {
    const stop = await admin.api('POST', `/vms/${vm.id}/stop`, { force: true });
    assert.equal(stop.status, 200, stop.text);
    await vmWhere(1, 'stopped', 60_000);
    const live = dataOf(await admin.api('POST', `/vms/${vm.id}/migrate/check`, { host_id: hostId }));
    assert.ok(live.blockers.some((b) => b.code === 'wrong_state'), JSON.stringify(live));

    await migrate(hostId, 'offline');
    const there = await vmWhere(hostId, 'stopped');
    assert.equal(there.host_name, 'second 第二');
    assert.equal(virshState(uri), 'shut off');
    assert.equal(virshState('qemu:///system'), 'absent');
    assertError(await admin.api('GET', `/vms/${vm.id}/console`), 409, 'not_running');

    // The list and the VM page name the host.
    const list = await admin.page('/vms');
    assert.match(list.text, /<td data-label="[^"]*" class="vm-host">second 第二<\/td>/);
    const page = await admin.page(`/vms/${vm.id}`);
    assert.equal(elementText(page.text, 'host'), 'second 第二');

    await migrate(1, 'offline');
    await vmWhere(1, 'stopped');
    assert.equal(virshState(uri), 'absent');
    assert.equal(virshState('qemu:///system'), 'shut off');
  });

  test('the Migrate form: the pre-check page shows the blockers, or confirms into a job', async () => {
    const page = await admin.page(`/vms/${vm.id}`);
    assert.match(page.text, /id="migrate-form"/);
    assert.match(page.text, new RegExp(`<option value="${hostId}">second 第二`));
    // Stopped: a live migration is blocked, in the page's words.
    const blocked = await admin.postForm(`/vms/${vm.id}/migrate/check`, { host_id: hostId, mode: 'live' });
    assert.equal(blocked.status, 200, blocked.text);
    assert.match(blocked.text, /<li data-code="wrong_state">/);
    assert.doesNotMatch(blocked.text, /id="migrate-confirm"/);
    const ok = await admin.postForm(`/vms/${vm.id}/migrate/check`, { host_id: hostId, mode: 'offline' });
    assert.equal(ok.status, 200, ok.text);
    assert.match(ok.text, /id="migrate-ok"/);
    assert.equal(elementText(ok.text, 'migrate-destination'), 'second 第二');
    admin.pageToken = /name="csrf_token" value="([^"]*)"/.exec(ok.text)[1];
    const go = await admin.postForm(`/vms/${vm.id}/migrate`, { host_id: hostId, mode: 'offline' });
    assert.equal(go.status, 303, go.text);
    const jobId = Number(/\/jobs\/(\d+)$/.exec(go.location)[1]);
    const job = await jobEnded(admin, jobId, 120_000);
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    await vmWhere(hostId, 'stopped');
    // A user sees neither the form nor the route.
    const { client: user } = await userClient(admin);
    assert.equal((await user.api('POST', `/vms/${vm.id}/migrate/check`, { host_id: 1 })).status, 403);
  });

  test('the second host goes down: its machine is unknown, the rest of the portal answers', async () => {
    execFileSync(DEV, ['second-host', 'down'], { encoding: 'utf8' });
    const down = await waitFor(async () => {
      const h = dataOf(await admin.api('GET', `/hosts/${hostId}`));
      return h.state === 'down' && h;
    }, 60_000, 500);
    assert.ok(down.last_error, JSON.stringify(down));
    await vmWhere(hostId, 'unknown', 30_000);
    assert.equal(dataOf(await admin.api('GET', '/hosts/1')).state, 'up');
    assert.equal((await admin.api('GET', '/vms')).status, 200);
    assert.equal((await admin.page('/vms')).status, 200);
    assert.equal((await admin.api('GET', '/host')).status, 200);
    assertError(await admin.api('POST', `/vms/${vm.id}/start`), 503, 'host_unavailable');

    // Back up (a fresh host: `down` removed its state, the domain with it):
    // the host answers again and the portal reads it.
    const out = execFileSync(DEV, ['second-host', 'up'], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(out[out.length - 1], uri);
    await waitFor(async () => dataOf(await admin.api('GET', `/hosts/${hostId}`)).state === 'up', 60_000, 500);
  });
});

describe('live migration with its storage copied', () => {
  // The second host again, now with guest disks of its own (templates and
  // ISOs still shared at the same path): a running guest's disk is copied
  // there by libvirt (non-shared storage, incremental over the template).
  const OWN_DISKS = new URL('../../var/second-host/disks', import.meta.url).pathname;
  let copied;
  let dom;
  before(async () => {
    execFileSync(DEV, ['second-host', 'down'], { encoding: 'utf8' });
    const out = execFileSync(DEV, ['second-host', 'up'], {
      encoding: 'utf8', env: { ...process.env, VMM_SECOND_HOST_OWN_DISKS: `${STATE}/pool/disks` },
    }).trim().split('\n');
    assert.equal(out[out.length - 1], uri);
    await waitFor(async () => dataOf(await admin.api('GET', `/hosts/${hostId}`)).state === 'up', 60_000, 500);
    const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
    const made = await createVmDone(admin, {
      name: '带盘 storage', template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, host_id: 1,
    });
    assert.equal(made.status, 201, made.text);
    copied = made.vm;
    extraVms.push(copied.id);
    assert.equal(made.job.state, 'succeeded', JSON.stringify(made.job));
    dom = domainOf(copied.id);
  });

  test('the guest keeps running and ends on the second host with its disk there', async () => {
    const disk = `${STATE}/pool/disks/${dom}.qcow2`;
    assert.ok(existsSync(disk), 'the disk is on the local host');
    // Shared-storage live migration is refused: the destination sees no such disk.
    const live = dataOf(await admin.api('POST', `/vms/${copied.id}/migrate/check`, { host_id: hostId, mode: 'live' }));
    assert.ok(live.blockers.some((b) => b.code === 'disk_not_shared'), JSON.stringify(live));
    const check = dataOf(await admin.api('POST', `/vms/${copied.id}/migrate/check`,
      { host_id: hostId, mode: 'live_storage' }));
    assert.equal(check.ok, true, JSON.stringify(check));
    const before = uptime(await guestShellUntilOn('qemu:///system', dom, 'cat /proc/uptime',
      (o) => !Number.isNaN(uptime(o)), 300_000));
    // What the guest wrote to its disk (over the template's files) goes along.
    const wrote = await guestShellUntilOn('qemu:///system', dom,
      onGuestDisk('echo moved-19 > /mnt/mig.txt', 'W-$((6*3))'), (o) => /W-18/.test(o), 120_000);
    assert.match(wrote, /W-18/);
    const res = await admin.api('POST', `/vms/${copied.id}/migrate`, { host_id: hostId, mode: 'live_storage' });
    assert.equal(res.status, 202, res.text);
    const job = await jobEnded(admin, jobOf(res).id, 600_000);
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    assert.equal(job.result.host_id, hostId);
    const now = dataOf(await admin.api('GET', `/vms/${copied.id}`));
    assert.equal(now.host_id, hostId);
    assert.equal(virshState(uri, dom), 'running');
    assert.equal(virshState('qemu:///system', dom), 'absent');
    const after = uptime(await guestShellUntilOn(uri, dom, 'cat /proc/uptime',
      (o) => !Number.isNaN(uptime(o)), 60_000));
    assert.ok(after > before, `uptime went on: ${before} -> ${after}`);
    const read = await guestShellUntilOn(uri, dom, onGuestDisk('cat /mnt/mig.txt; ls /mnt', 'R-$((5*5))'),
      (o) => /R-25/.test(o), 60_000);
    assert.match(read, /moved-19/);
    assert.match(read, /syslinux|ldlinux/i, 'the template\'s files are there too');
    // Its disk: on the second host's own storage, an overlay on the shared
    // template; gone from the local host.
    assert.ok(existsSync(`${OWN_DISKS}/${dom}.qcow2`), 'the disk is on the second host');
    assert.ok(!existsSync(disk), 'the local copy is gone');
    const info = JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', `${OWN_DISKS}/${dom}.qcow2`],
      { encoding: 'utf8' }));
    assert.match(info['backing-filename'] ?? '', /\/pool\/templates\//);
  });
});
