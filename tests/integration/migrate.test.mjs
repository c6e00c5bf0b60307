// Issue 19: hosts and live migration. A second libvirt host on this
// machine (tools/dev second-host up: its own libvirtd in its own
// namespaces, qemu+tcp on 10.254.N.2); a running TCG guest migrates there
// and back through the portal, keeps running (its uptime in the guest
// shell goes on) and ends where the portal says.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import {
  adminClient, assertError, createVmDone, dataOf, jobEnded, jobOf, sql, userClient, waitFor,
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

async function migrate(to) {
  const check = dataOf(await admin.api('POST', `/vms/${vm.id}/migrate/check`, { host_id: to }));
  assert.equal(check.ok, true, JSON.stringify(check));
  const res = await admin.api('POST', `/vms/${vm.id}/migrate`,
    { host_id: to, mode: 'live', max_downtime_ms: 500, auto_converge: true });
  assert.equal(res.status, 202, res.text);
  const job = await jobEnded(admin, jobOf(res).id, 300_000);
  assert.equal(job.state, 'succeeded', JSON.stringify(job));
  assert.equal(job.result.host_id, to);
  return job;
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
