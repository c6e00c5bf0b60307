// Nothing the stack writes is world-readable: each path that makes a log
// or an image file leaves it 0640 or 0600 with the right owner and group,
// and nginx still sends a template (X-Accel-Redirect) through its ACL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BASE, STATE, adminClient, createVmDone, dataOf, sql, userClient, waitFor } from './lib.mjs';
import { tusUpload, waitJob } from './tus.mjs';

const IMAGES = new URL('../../var/images/', import.meta.url).pathname;
const POOL = join(STATE, 'pool');
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

let admin;
before(async () => {
  admin = await adminClient();
});
after(async () => {
  await admin?.logout();
});

function mode(path) {
  return statSync(path).mode & 0o7777;
}
function owner(path) {
  const uid = statSync(path).uid;
  return execFileSync('id', ['-nu', String(uid)], { encoding: 'utf8' }).trim();
}
function group(path) {
  return execFileSync('stat', ['-c', '%G', path], { encoding: 'utf8' }).trim();
}
/** The named-user entries of a file's ACL: ["www-data:r--", ...]. */
function aclUsers(path) {
  return acl(path).filter((l) => /^user:[^:]+:/.test(l)).map((l) => l.replace(/^user:/, ''));
}
function acl(path) {
  return execFileSync('getfacl', ['-c', '-p', path], { encoding: 'utf8' }).split('\n');
}
function assertPrivate(path, want) {
  const m = mode(path);
  assert.equal(m & 0o007, 0, `${path} is ${m.toString(8)}: others may read it`);
  assert.equal(m, want, `${path} is ${m.toString(8)}, not ${want.toString(8)}`);
}
/** A template file: 0640, root's group shut out, nginx's user in the ACL. */
function assertServedTemplate(path) {
  assertPrivate(path, 0o640);
  assert.deepEqual(aclUsers(path), ['www-data:r--'], `${path}: the ACL names nginx's user`);
  const groupEntry = acl(path).find((l) => l.startsWith('group::'));
  assert.equal(groupEntry, 'group::---', 'the owning group reads nothing');
}

test('logs: 0640, group adm, each program\'s own log owned by it', () => {
  const dir = join(STATE, 'log');
  const logs = readdirSync(dir).filter((f) => f.endsWith('.log'));
  for (const want of ['nginx-access.log', 'nginx-error.log', 'mysqld.log', 'vmm-helper.log', 'vmm-auth.log', 'images.log']) {
    assert.ok(logs.includes(want), `${want} exists`);
  }
  for (const f of logs) {
    const path = join(dir, f);
    assertPrivate(path, 0o640);
    assert.equal(group(path), 'adm', `${f} group`);
    if (f === 'vmm-scheduler.log') assert.equal(owner(path), 'vmm-sched', `${f} owner`);
    else if (/^vmm-(?!helper)/.test(f)) assert.equal(owner(path), 'vmm', `${f} owner`);
    else assert.equal(owner(path), 'root', `${f} owner`);
  }
  // nginx wrote its access log through the file it was given.
  assert.ok(readFileSync(join(dir, 'nginx-access.log'), 'utf8').length > 0);
});

test('the demo template and ISO (vmm-image): 0640 with nginx in the ACL, and 0600', () => {
  const [[tpl]] = sql("SELECT file_name FROM templates WHERE name = 'Demo (busybox)'");
  assertServedTemplate(join(POOL, 'templates', tpl));
  const [[iso]] = sql("SELECT file_name FROM isos WHERE name = 'Demo installer'");
  assertPrivate(join(POOL, 'isos', iso), 0o600);
});

test('an uploaded template and ISO (the helper\'s import), the upload parts, and a download through nginx', async () => {
  const { client } = await userClient(admin);
  const qcow2 = readFileSync(join(IMAGES, 'vmm-test.qcow2'));
  const up = await tusUpload(client, qcow2, { filename: 'mode.qcow2', kind: 'template', format: 'qcow2', name: 'mode test' },
    { chunkSize: 8 << 20 });
  const job = await waitJob(client, up.jobId, 120_000);
  assert.equal(job.state, 'succeeded', JSON.stringify(job));
  const id = job.result.template_id;
  const [[file]] = sql(`SELECT file_name FROM templates WHERE id = ${id}`);
  assertServedTemplate(join(POOL, 'templates', file));
  const res = await fetch(`${BASE}/api/v1/templates/${id}/download`, { headers: { Cookie: client.cookieHeader() } });
  assert.equal(res.status, 200);
  assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(qcow2), 'nginx reads it through its ACL');

  const iso = readFileSync(join(IMAGES, 'vmm-test-installer.iso'));
  const isoUp = await tusUpload(client, iso, { filename: 'mode.iso', kind: 'iso', name: 'mode test iso' }, { chunkSize: 16 << 20 });
  const isoJob = await waitJob(client, isoUp.jobId, 120_000);
  assert.equal(isoJob.state, 'succeeded', JSON.stringify(isoJob));
  const [[isoFile]] = sql(`SELECT file_name FROM isos WHERE id = ${isoJob.result.iso_id}`);
  assertPrivate(join(POOL, 'isos', isoFile), 0o600);

  // Every file the uploads still hold (parts, nginx's chunks) is 0600.
  const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  for (const path of walk(join(STATE, 'uploads'))) assertPrivate(path, 0o600);
  await client.api('DELETE', `/templates/${id}`);
  await client.api('DELETE', `/isos/${isoJob.result.iso_id}`);
});

test('QEMU still boots from a 0600 ISO (libvirt hands it to QEMU\'s user)', async () => {
  const { client } = await userClient(admin);
  const [[isoId, isoFile]] = sql("SELECT id, file_name FROM isos WHERE name = 'Demo installer'");
  assertPrivate(join(POOL, 'isos', isoFile), 0o600);
  const made = await createVmDone(client, {
    name: 'from-private-iso', iso_id: Number(isoId), vcpus: 1, memory_mb: 256, disk_gb: 1,
  });
  assert.equal(made.status, 201, made.text);
  const vmId = dataOf(made.res).id;
  try {
    assert.equal(made.job.state, 'succeeded', made.job.message);
    const log = () => {
      const rows = sql(`SELECT domain_name FROM vms WHERE id = ${vmId}`);
      const path = rows.length ? join(POOL, 'consoles', `${rows[0][0]}.log`) : '';
      return path && existsSync(path) ? readFileSync(path, 'utf8') : '';
    };
    await waitFor(() => log().includes('VMM-TEST: installer boot ok'), 120_000, 500);
  } finally {
    await admin.api('POST', `/vms/${vmId}/stop`, { force: true });
    await admin.api('DELETE', `/vms/${vmId}?delete_disks=true`);
  }
});
