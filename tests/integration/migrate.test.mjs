// Issue 19: hosts and live migration. A second libvirt host on this
// machine (tools/dev second-host up: its own libvirtd in its own
// namespaces, qemu+tcp on 10.254.N.2); a running TCG guest migrates there
// and back through the portal, keeps running (its uptime in the guest
// shell goes on) and ends where the portal says.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import {
  adminClient, assertError, createVmDone, dataOf, elementText, jobEnded, jobOf, q, sql, userClient,
  waitFor,
} from './lib.mjs';
import { guestShell } from './guest-shell.mjs';

const DEV = new URL('../../tools/dev', import.meta.url).pathname;
let admin;
let uri;
let hostId;
let vm;
let domain;

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

function virshState(onUri) {
  try {
    return execFileSync('virsh', ['-c', onUri, 'domstate', domain], { encoding: 'utf8' }).trim();
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

describe('live migration of a running guest', () => {
  before(async () => {
    const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
    const made = await createVmDone(admin, {
      name: '迁移 mig', template_id: templateId, vcpus: 1, memory_mb: 256, disk_gb: 1,
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

  test('offline: a stopped machine moves there, its console says where it is, and back', async () => {
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
    assertError(await admin.api('GET', `/vms/${vm.id}/console`), 409, 'console_remote');

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
