// Storage pools and volumes against the real libvirtd: a dir pool under
// [storage] allowed_roots (/srv/vmm-storage by default) made, stopped,
// started, refreshed and removed through jobs; volumes created, grown and
// deleted, and refused while a domain uses them; paths outside the roots
// refused; a logical pool on a volume group over a loop device on a
// sparse file of our own; a netfs pool where the kernel offers NFS (else
// skipped, saying why); a pool whose storage hangs (a FUSE mount that
// never answers, as a hard NFS mount whose server is gone) while the
// portal goes on answering. Names carry this run's prefix; after() removes
// whatever a failed test left (pools, domains, the VG, the loop device).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  adminClient, assertError, BASE, createVmDone, dataOf, domainOf, jobOf, serialLog, sql, q, STATE, userClient, waitFor,
} from './lib.mjs';
import { digest, tusCreate, tusUpload, waitJob } from './tus.mjs';

const PREFIX = `t12s-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const ROOT = '/srv/vmm-storage';
const GiB = 1024 ** 3;

function run(cmd, ...args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
const virsh = (...args) => run('virsh', '-q', '-c', 'qemu:///system', ...args);
const libvirtPools = () => virsh('pool-list', '--all', '--name').split('\n').map((s) => s.trim()).filter(Boolean);
const quietly = (fn) => { try { fn(); } catch { /* already gone */ } };

let admin;
const loops = [];
const files = [];
const domains = [];
const mounts = [];

before(async () => {
  admin = await adminClient();
  mkdirSync(ROOT, { recursive: true });
});

// The FUSE mount of the hanging pool, and the process holding its device.
let hang = null;
function unhang() {
  if (!hang) return;
  // Closing /dev/fuse aborts the connection: every call stuck in it
  // (libvirtd's included) gets ENOTCONN; then the mount can go.
  hang.process.kill('SIGKILL');
  for (let i = 0; i < 50; i++) {
    try { run('umount', '-l', hang.path); break; } catch { execFileSync('sleep', ['0.1']); }
  }
  hang = null;
}

const vms = [];

after(async () => {
  for (const id of vms) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
  unhang();
  for (const m of mounts) quietly(() => run('umount', '-l', m));
  for (const d of domains) quietly(() => virsh('undefine', d));
  for (const row of sql(`SELECT id FROM storage_pools WHERE name LIKE ${q(`${PREFIX}%`)}`)) {
    await admin.api('DELETE', `/storage-pools/${row[0]}`);
  }
  await waitFor(() => !libvirtPools().some((p) => p.startsWith(PREFIX)), 20_000, 250).catch(() => {});
  for (const name of libvirtPools().filter((p) => p.startsWith(PREFIX))) {
    quietly(() => virsh('pool-destroy', name));
    quietly(() => virsh('pool-undefine', name));
  }
  sql(`DELETE FROM storage_pools WHERE name LIKE ${q(`${PREFIX}%`)}`);
  const vg = `${PREFIX}-vg`;
  quietly(() => run('vgremove', '-f', '-y', vg));
  for (const loop of loops) {
    quietly(() => run('pvremove', '-y', '-ff', loop));
    quietly(() => run('losetup', '-d', loop));
  }
  for (const f of files) rmSync(f, { recursive: true, force: true });
});

/** Waits for the job of a 202 answer and returns it when it has ended. */
async function finished(res) {
  assert.equal(res.status, 202, res.text);
  const job = jobOf(res);
  let last;
  await waitFor(async () => {
    last = dataOf(await admin.api('GET', `/jobs/${job.id}`));
    return !['queued', 'running'].includes(last.state);
  }, 90_000, 200);
  return last;
}

function defineDomainOn(diskPath) {
  const name = `${PREFIX}-dom${domains.length}`;
  const file = join(ROOT, `${name}.xml`);
  writeFileSync(file, `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory>
    <os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'>
    <driver name='qemu' type='qcow2'/><source file='${diskPath}'/><target dev='vda' bus='virtio'/>
    </disk></devices></domain>`);
  virsh('define', file);
  rmSync(file);
  domains.push(name);
  return name;
}

describe('a storage pool', () => {
  test('dir: built, used, stopped, started, refreshed and removed; volumes made, grown, deleted', async () => {
    const name = `${PREFIX}-dir`;
    const path = join(ROOT, name);
    files.push(path);
    const made = await admin.api('POST', '/storage-pools', { name, type: 'dir', path });
    const job = await finished(made);
    assert.equal(job.state, 'succeeded', job.message);
    const pool = dataOf(made);
    assert.ok(statSync(path).isDirectory(), 'libvirt built the directory');
    assert.match(virsh('pool-info', name), /State:\s+running/);
    assert.match(virsh('pool-info', name), /Autostart:\s+yes/);
    const shown = dataOf(await admin.api('GET', `/storage-pools/${pool.id}`));
    assert.equal(shown.state, 'active');
    assert.ok(shown.capacity_bytes > 0 && shown.available_bytes > 0, JSON.stringify(shown));
    assert.deepEqual(shown.volumes, []);

    // Volumes are made, grown and deleted in jobs (the task log names the
    // pool); what can be refused is refused before a job is made.
    const jobsBefore = Number(sql("SELECT COUNT(*) FROM jobs WHERE kind LIKE 'storage.volume%'")[0][0]);
    const vol = await admin.api('POST', `/storage-pools/${pool.id}/volumes`, { name: 'disk1.qcow2', capacity_gb: 1, format: 'qcow2' });
    assert.equal(jobOf(vol).kind, 'storage.volume_create');
    const made1 = await finished(vol);
    assert.equal(made1.state, 'succeeded', made1.message);
    assert.equal(made1.result.capacity_bytes, GiB);
    assert.equal(made1.result.volume, 'disk1.qcow2');
    assert.equal(made1.target.type, 'storage_pool');
    assert.equal(made1.target.href, `/storage-pools/${pool.id}`);
    assert.ok(made1.log.some((l) => l.line === 'Creating the volume.'), JSON.stringify(made1.log));
    assert.ok(existsSync(join(path, 'disk1.qcow2')));
    assertError(await admin.api('POST', `/storage-pools/${pool.id}/volumes`, { name: 'disk1.qcow2', capacity_gb: 1 }), 409, 'volume_exists');
    assertError(await admin.api('POST', `/storage-pools/${pool.id}/volumes`, { name: '../escape', capacity_gb: 1 }), 400, 'invalid_name');
    assertError(await admin.api('POST', `/storage-pools/${pool.id}/volumes/nothing.qcow2/resize`, { capacity_gb: 2 }), 404, 'not_found');
    const grown = await finished(await admin.api('POST', `/storage-pools/${pool.id}/volumes/disk1.qcow2/resize`, { capacity_gb: 2 }));
    assert.equal(grown.state, 'succeeded', grown.message);
    assert.equal(grown.result.capacity_bytes, 2 * GiB);
    assert.match(run('qemu-img', 'info', join(path, 'disk1.qcow2')), /virtual size: 2 GiB/);
    assertError(await admin.api('POST', `/storage-pools/${pool.id}/volumes/disk1.qcow2/resize`, { capacity_gb: 1 }), 422, 'cannot_shrink');
    const listed = dataOf(await admin.api('GET', `/storage-pools/${pool.id}/volumes`));
    assert.deepEqual(listed.map((v) => v.name), ['disk1.qcow2']);

    // A domain's disk in it: the volume and the pool are in use.
    defineDomainOn(join(path, 'disk1.qcow2'));
    assert.equal(dataOf(await admin.api('GET', `/storage-pools/${pool.id}/volumes`))[0].in_use, true);
    assertError(await admin.api('DELETE', `/storage-pools/${pool.id}/volumes/disk1.qcow2`), 409, 'volume_in_use');
    assertError(await admin.api('DELETE', `/storage-pools/${pool.id}`), 409, 'pool_in_use');
    assertError(await admin.api('POST', `/storage-pools/${pool.id}/stop`), 409, 'pool_in_use');
    virsh('undefine', domains.pop());
    const deleted = await finished(await admin.api('DELETE', `/storage-pools/${pool.id}/volumes/disk1.qcow2`));
    assert.equal(deleted.state, 'succeeded', deleted.message);
    assert.ok(!existsSync(join(path, 'disk1.qcow2')));
    assertError(await admin.api('DELETE', `/storage-pools/${pool.id}/volumes/disk1.qcow2`), 404, 'not_found');
    // Only the three that were not refused became jobs.
    assert.equal(Number(sql("SELECT COUNT(*) FROM jobs WHERE kind LIKE 'storage.volume%'")[0][0]), jobsBefore + 3);

    // The page: a volume made from its form goes to the job, then shows.
    assert.match((await admin.page(`/storage-pools/${pool.id}`)).text, /class="inline resize-volume"|No volumes/);
    const form = await admin.postForm(`/storage-pools/${pool.id}/volumes`, { name: 'paged.qcow2', capacity_gb: '1' });
    assert.equal(form.status, 303, form.text);
    const pageJob = Number(form.location?.match(/^\/jobs\/(\d+)$/)?.[1]);
    assert.ok(pageJob, form.location);
    await waitFor(async () => dataOf(await admin.api('GET', `/jobs/${pageJob}`)).state === 'succeeded', 30_000, 200);
    assert.match((await admin.page(`/storage-pools/${pool.id}`)).text, /<tr data-name="paged\.qcow2">/);
    assert.equal((await finished(await admin.api('DELETE', `/storage-pools/${pool.id}/volumes/paged.qcow2`))).state, 'succeeded');

    assert.equal((await finished(await admin.api('POST', `/storage-pools/${pool.id}/stop`))).state, 'succeeded');
    assert.match(virsh('pool-info', name), /State:\s+inactive/);
    assert.equal(dataOf(await admin.api('GET', `/storage-pools/${pool.id}`)).state, 'inactive');
    assertError(await admin.api('POST', `/storage-pools/${pool.id}/volumes`, { name: 'x', capacity_gb: 1 }), 409, 'pool_inactive');
    assert.equal((await finished(await admin.api('POST', `/storage-pools/${pool.id}/start`))).state, 'succeeded');
    assert.equal((await finished(await admin.api('POST', `/storage-pools/${pool.id}/refresh`))).state, 'succeeded');
    const patched = await admin.api('PATCH', `/storage-pools/${pool.id}`, { autostart: false });
    assert.equal(patched.status, 200, patched.text);
    assert.match(virsh('pool-info', name), /Autostart:\s+no/);

    const page = await admin.page('/storage-pools');
    assert.match(page.text, new RegExp(`data-name="${name}"`));
    assert.match(page.text, /<progress class="usage" max="100" value="\d+">/);

    const gone = await finished(await admin.api('DELETE', `/storage-pools/${pool.id}`));
    assert.equal(gone.state, 'succeeded', gone.message);
    assert.ok(!libvirtPools().includes(name));
    assert.ok(!existsSync(path), 'the directory went with it');
    assertError(await admin.api('GET', `/storage-pools/${pool.id}`), 404, 'not_found');
  });

  test('paths outside the allowed roots, the portal\'s state and system directories are refused', async () => {
    const link = join(ROOT, `${PREFIX}-link`);
    files.push(link);
    symlinkSync('/etc', link);
    const cases = [
      [{ path: '/etc/vmm-pool' }, 422, 'path_not_allowed'],
      [{ path: '/' }, 422, 'path_not_allowed'],
      [{ path: ROOT }, 422, 'path_not_allowed'],
      [{ path: `${STATE}/pool/${PREFIX}` }, 422, 'path_not_allowed'],
      [{ path: `/tmp/${PREFIX}` }, 422, 'path_not_allowed'],
      [{ path: `${ROOT}/../etc/${PREFIX}` }, 422, 'path_not_allowed'],
      [{ path: `${link}/${PREFIX}` }, 422, 'path_not_allowed'], // a link out of the root
      [{ path: `${ROOT}/${PREFIX} x` }, 422, 'path_not_allowed'],
      [{}, 400, 'missing_field'],
      [{ name: 'bad/name', path: `${ROOT}/${PREFIX}-x` }, 400, 'invalid_name'],
      [{ type: 'iscsi', path: `${ROOT}/${PREFIX}-x` }, 400, 'invalid_choice'],
      [{ type: 'netfs', path: `${ROOT}/${PREFIX}-x` }, 400, 'missing_field'],
      [{ type: 'netfs', path: `${ROOT}/${PREFIX}-x`, source_host: 'nfs.example' }, 400, 'missing_field'],
      [{ type: 'netfs', path: `${ROOT}/${PREFIX}-x`, source_host: 'bad host!', source_path: '/srv/x' }, 400, 'invalid_host'],
      [{ type: 'netfs', path: `${ROOT}/${PREFIX}-x`, source_host: 'nfs.example', source_path: 'srv/x' }, 400, 'invalid_export'],
      [{ type: 'netfs', path: `${ROOT}/${PREFIX}-x`, source_host: 'nfs.example', source_path: '/srv/../etc' }, 400, 'invalid_export'],
      [{ type: 'netfs', path: `/etc/${PREFIX}`, source_host: 'nfs.example', source_path: '/srv/x' }, 422, 'path_not_allowed'],
    ];
    for (const [fields, status, code] of cases) {
      assertError(await admin.api('POST', '/storage-pools', { name: `${PREFIX}-bad`, type: 'dir', ...fields }), status, code);
    }
    assert.ok(!existsSync('/etc/vmm-pool'));
    assert.equal(sql(`SELECT COUNT(*) FROM storage_pools WHERE name LIKE ${q(`${PREFIX}%`)}`)[0][0], '0');
    assert.ok(!libvirtPools().some((p) => p.startsWith(PREFIX)));
    const { client } = await userClient(admin);
    assertError(await client.api('GET', '/storage-pools'), 403, 'forbidden');
  });

  test('volumes: uploaded through tus (judged as templates are) and downloaded through nginx', async () => {
    const name = `${PREFIX}-up`;
    const path = join(ROOT, name);
    files.push(path);
    const made = await admin.api('POST', '/storage-pools', { name, type: 'dir', path });
    assert.equal((await finished(made)).state, 'succeeded');
    const pool = dataOf(made);
    const work = join(ROOT, `${PREFIX}-work`);
    mkdirSync(work, { recursive: true });
    files.push(work);
    const image = join(work, 'data.qcow2');
    run('qemu-img', 'create', '-q', '-f', 'qcow2', image, '64M');
    run('qemu-io', '-c', 'write -P 0x5a 0 1M', image);
    const bytes = readFileSync(image);
    const meta = { kind: 'volume', pool_id: String(pool.id), name: 'data.qcow2', format: 'qcow2', filename: 'data.qcow2' };

    const up = await tusUpload(admin, bytes, meta);
    const job = await waitJob(admin, up.jobId, 90_000);
    assert.equal(job.state, 'succeeded', job.message);
    assert.deepEqual(job.result, { storage_pool_id: pool.id, volume: 'data.qcow2' });
    const vol = dataOf(await admin.api('GET', `/storage-pools/${pool.id}/volumes`)).find((v) => v.name === 'data.qcow2');
    assert.equal(vol?.capacity_bytes, 64 << 20, JSON.stringify(vol));
    assert.equal(digest('sha256', readFileSync(join(path, 'data.qcow2'))), digest('sha256', bytes));
    assert.match(run('qemu-io', '-r', '-c', 'read -P 0x5a 0 1M', join(path, 'data.qcow2')), /read 1048576/);

    // Downloaded: nginx sends the file the helper let it read.
    const res = await fetch(`${BASE}/api/v1/storage-pools/${pool.id}/volumes/data.qcow2/download`, {
      headers: { Cookie: admin.cookieHeader() },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.match(res.headers.get('content-disposition'), /attachment; filename="data.qcow2"/);
    assert.equal(digest('sha256', Buffer.from(await res.arrayBuffer())), digest('sha256', bytes));
    assertError(await admin.api('GET', `/storage-pools/${pool.id}/volumes/nothing.qcow2/download`), 404, 'not_found');
    const { client } = await userClient(admin);
    assertError(await client.api('GET', `/storage-pools/${pool.id}/volumes/data.qcow2/download`), 403, 'forbidden');

    // Refused before a byte is sent.
    const refused = [
      [admin, { ...meta, name: 'data.qcow2' }, 1000, 409, 'volume_exists'],
      [admin, { ...meta, name: '../escape' }, 1000, 400, 'invalid_name'],
      [admin, { ...meta, pool_id: '' }, 1000, 400, 'missing_metadata'],
      [admin, { ...meta, pool_id: '999999999' }, 1000, 404, 'not_found'],
      [admin, { ...meta, name: 'x.vmdk', format: 'vmdk' }, 1000, 400, 'invalid_metadata'],
      [client, { ...meta, name: 'mine.qcow2' }, 1000, 403, 'forbidden'],
    ];
    for (const [who, m, length, status, code] of refused) {
      const { res: r } = await tusCreate(who, length, m);
      assert.equal(r.status, status, `${JSON.stringify(m)}: ${r.text}`);
      assert.equal(r.body?.error?.code, code, r.text);
    }

    // A pool without the room (a 16 MiB tmpfs) takes no 64 MiB volume.
    const small = join(ROOT, `${PREFIX}-small`);
    mkdirSync(small, { recursive: true });
    files.push(small);
    run('mount', '-t', 'tmpfs', '-o', 'size=16m', 'vmm-small', small);
    mounts.push(small);
    const smallMade = await admin.api('POST', '/storage-pools', { name: `${PREFIX}-small`, type: 'dir', path: small });
    assert.equal((await finished(smallMade)).state, 'succeeded');
    const { res: full } = await tusCreate(admin, 64 << 20, { ...meta, pool_id: String(dataOf(smallMade).id), name: 'big.raw', format: 'raw' });
    assert.equal(full.status, 413, full.text);
    assert.equal(full.body?.error?.code, 'pool_full', full.text);
    run('umount', small);
    mounts.pop();
    assert.equal((await finished(await admin.api('DELETE', `/storage-pools/${dataOf(smallMade).id}`))).state, 'succeeded');

    // A hostile image (a backing file on a host file) is judged in the
    // sandbox and refused: no volume, no file.
    const hostile = join(work, 'hostile.qcow2');
    run('qemu-img', 'create', '-q', '-f', 'qcow2', '-u', '-F', 'raw', '-b', '/etc/shadow', hostile, '4K');
    const bad = await tusUpload(admin, readFileSync(hostile), { ...meta, name: 'hostile.qcow2' });
    const badJob = await waitJob(admin, bad.jobId, 90_000);
    assert.equal(badJob.state, 'failed');
    assert.match(badJob.message, /backing file/);
    assert.ok(!existsSync(join(path, 'hostile.qcow2')));
    assert.ok(!dataOf(await admin.api('GET', `/storage-pools/${pool.id}/volumes`)).some((v) => v.name === 'hostile.qcow2'));

    assert.equal((await finished(await admin.api('DELETE', `/storage-pools/${pool.id}/volumes/data.qcow2`))).state, 'succeeded');
    assert.equal((await finished(await admin.api('DELETE', `/storage-pools/${pool.id}`))).state, 'succeeded');
  });

  test('a VM created into a new dir pool boots from its disk there; the quota counts it', async () => {
    const name = `${PREFIX}-vms`;
    const path = join(ROOT, name);
    files.push(path);
    const made = await admin.api('POST', '/storage-pools', { name, type: 'dir', path });
    assert.equal((await finished(made)).state, 'succeeded');
    const pool = dataOf(made);
    const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
    const me = dataOf(await admin.api('GET', '/auth/me')).user;
    const usage = async () => dataOf(await admin.api('GET', `/users/${me.id}/quota`)).usage.disk_gb;
    const before = await usage();
    const vm = { name: `${PREFIX}-vm`, template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1 };

    // Refused before anything is made.
    const { client } = await userClient(admin);
    assertError(await client.api('POST', '/vms', { ...vm, pool: pool.id }), 403, 'forbidden');
    assertError(await admin.api('POST', '/vms', { ...vm, pool: 999999999 }), 422, 'unknown_pool');
    assertError(await admin.api('POST', '/vms', { ...vm, disk_gb: 65536, pool: pool.id }), 413, 'pool_full');
    assert.equal(sql(`SELECT COUNT(*) FROM vms WHERE name = ${q(vm.name)}`)[0][0], '0');

    const res = await createVmDone(admin, { ...vm, pool: pool.id, start: true });
    assert.equal(res.status, 201, res.text);
    vms.push(res.vm.id);
    assert.equal(res.job.state, 'succeeded', JSON.stringify(res.job));
    assert.equal(res.vm.storage_pool_id, pool.id);
    const domain = domainOf(res.vm.id);
    const disk = join(path, `${domain}.qcow2`);
    assert.ok(existsSync(disk), 'the disk is in the chosen pool');
    assert.match(virsh('dumpxml', domain), new RegExp(`<source file='${disk.replace(/[.]/g, '\\.')}'`));
    assert.ok(dataOf(await admin.api('GET', `/storage-pools/${pool.id}/volumes`)).some((v) => v.name === `${domain}.qcow2` && v.in_use));
    assert.equal(await usage(), before + 1, 'the disk quota counts it');
    await waitFor(() => /VMM-TEST: boot ok/.test(serialLog(domain)), 120_000, 500);
    assertError(await admin.api('DELETE', `/storage-pools/${pool.id}`), 409, 'pool_in_use');

    // A disk added to it goes in the pool too, and counts.
    assertError(await admin.api('POST', `/vms/${res.vm.id}/disks`, { size_gb: 65536, pool: pool.id }), 413, 'pool_full');
    const added = await admin.api('POST', `/vms/${res.vm.id}/disks`, { size_gb: 1, bus: 'virtio', pool: pool.id });
    assert.equal(added.status, 201, added.text);
    const extra = join(path, `${domain}-vdb.qcow2`);
    assert.ok(existsSync(extra), 'the added disk is in the chosen pool');
    assert.match(virsh('dumpxml', domain), new RegExp(`<source file='${extra.replace(/[.]/g, '\\.')}'`));
    const disks = dataOf(await admin.api('GET', `/vms/${res.vm.id}`)).disks;
    assert.deepEqual(disks.map((d) => [d.target, d.storage_pool_id]), [['vda', pool.id], ['vdb', pool.id]]);
    assert.equal(await usage(), before + 2);

    const gone = await admin.api('DELETE', `/vms/${res.vm.id}?delete_disks=true`);
    assert.equal(gone.status, 200, gone.text);
    vms.pop();
    assert.ok(!existsSync(disk) && !existsSync(extra), 'its disks went with it');
    assert.equal((await finished(await admin.api('DELETE', `/storage-pools/${pool.id}`))).state, 'succeeded');
  });

  test('a pool an administrator opens to users takes their VM disks; the others refuse them by field', async () => {
    const name = `${PREFIX}-users`;
    const path = join(ROOT, name);
    files.push(path);
    const made = await admin.api('POST', '/storage-pools', { name, type: 'dir', path });
    assert.equal((await finished(made)).state, 'succeeded');
    const pool = dataOf(made);
    assert.equal(pool.users_allowed, false, 'closed to users unless opened');
    const templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
    const { client, user } = await userClient(admin);
    const usage = async () => dataOf(await admin.api('GET', `/users/${user.id}/quota`)).usage.disk_gb;
    const vm = { name: `${PREFIX}-uvm`, template_id: templateId, vcpus: 1, memory_mb: 128, disk_gb: 1, start: false };

    // Closed (or no such pool): 403 naming the field, and nothing made.
    for (const id of [pool.id, 999999999]) {
      const refused = await client.api('POST', '/vms', { ...vm, pool: id });
      assertError(refused, 403, 'forbidden');
      assert.equal(refused.body.error.field, 'pool', refused.text);
    }
    assert.doesNotMatch((await client.page('/vms/new')).text, new RegExp(`<option value="${pool.id}">${name}<`));
    assert.equal(sql(`SELECT COUNT(*) FROM vms WHERE name = ${q(vm.name)}`)[0][0], '0');

    // Opened (on its page's form): the user's VM disk goes there and counts.
    await admin.page(`/storage-pools/${pool.id}`);
    const opened = await admin.postForm(`/storage-pools/${pool.id}`, { users_allowed: 'true' });
    assert.equal(opened.status, 303, opened.text);
    assert.equal(dataOf(await admin.api('GET', `/storage-pools/${pool.id}`)).users_allowed, true);
    assert.match((await client.page('/vms/new')).text, new RegExp(`<option value="${pool.id}">${name}<`));
    const before = await usage();
    const res = await createVmDone(client, { ...vm, pool: pool.id });
    assert.equal(res.status, 201, res.text);
    vms.push(res.vm.id);
    assert.equal(res.job.state, 'succeeded', JSON.stringify(res.job));
    assert.equal(res.vm.storage_pool_id, pool.id);
    const domain = domainOf(res.vm.id);
    assert.ok(existsSync(join(path, `${domain}.qcow2`)), 'the user\'s disk is in the opened pool');
    const added = await client.api('POST', `/vms/${res.vm.id}/disks`, { size_gb: 1, pool: pool.id });
    assert.equal(added.status, 201, added.text);
    assert.ok(existsSync(join(path, `${domain}-vdb.qcow2`)));
    assert.equal(await usage(), before + 2, 'the quota counts both disks in the pool');

    // Closed again: no new disk there (the ones in it stay).
    assert.equal((await admin.api('PATCH', `/storage-pools/${pool.id}`, { users_allowed: false })).status, 200);
    const again = await client.api('POST', `/vms/${res.vm.id}/disks`, { size_gb: 1, pool: pool.id });
    assertError(again, 403, 'forbidden');
    assert.equal(again.body.error.field, 'pool');

    assert.equal((await admin.api('DELETE', `/vms/${res.vm.id}?delete_disks=true`)).status, 200);
    vms.pop();
    assert.ok(!existsSync(join(path, `${domain}.qcow2`)));
    assert.equal((await finished(await admin.api('DELETE', `/storage-pools/${pool.id}`))).state, 'succeeded');
  });

  test('logical: a volume group on a loop device of our own', async (t) => {
    const image = join(ROOT, `${PREFIX}-lvm.img`);
    files.push(image);
    run('truncate', '-s', '2G', image);
    const loop = run('losetup', '-f', '--show', image).trim();
    loops.push(loop);
    const name = `${PREFIX}-lvm`;
    const made = await admin.api('POST', '/storage-pools', {
      name, type: 'logical', source_name: `${PREFIX}-vg`, source_path: loop,
    });
    const job = await finished(made);
    assert.equal(job.state, 'succeeded', job.message);
    const pool = dataOf(made);
    assert.equal(pool.path, `/dev/${PREFIX}-vg`);
    assert.match(run('vgs', '--noheadings', '-o', 'vg_name'), new RegExp(`${PREFIX}-vg`));
    const shown = dataOf(await admin.api('GET', `/storage-pools/${pool.id}`));
    assert.equal(shown.state, 'active');
    assert.ok(shown.capacity_bytes > GiB, JSON.stringify(shown));
    let deviceMapper = true;
    try { run('dmsetup', 'version'); } catch { deviceMapper = false; }
    if (deviceMapper) {
      assertError(await admin.api('POST', `/storage-pools/${pool.id}/volumes`, { name: 'lv1', capacity_gb: 1, format: 'qcow2' }), 422, 'invalid_volume');
      const vol = await finished(await admin.api('POST', `/storage-pools/${pool.id}/volumes`, { name: 'lv1', capacity_gb: 1, format: 'raw' }));
      assert.equal(vol.state, 'succeeded', vol.message);
      assert.equal((await finished(await admin.api('DELETE', `/storage-pools/${pool.id}/volumes/lv1`))).state, 'succeeded');
    } else {
      t.diagnostic('logical volumes not created: the kernel\'s device-mapper is not reachable here (dmsetup version fails), so lvcreate cannot work');
    }
    const gone = await finished(await admin.api('DELETE', `/storage-pools/${pool.id}`));
    assert.equal(gone.state, 'succeeded', gone.message);
    assert.doesNotMatch(run('vgs', '--noheadings', '-o', 'vg_name'), new RegExp(`${PREFIX}-vg`));
  });

  test('netfs: a local NFS export, mounted as libvirt mounts it', async (t) => {
    // libvirt mounts a netfs pool with mount -t nfs: the kernel needs the
    // nfs filesystem (and nfsd to serve one here). Where it has neither
    // (a container without the NFS modules), the pool is still offered and
    // its job fails at the mount, saying so, leaving nothing behind.
    const kernelHas = (fs) => {
      const has = () => new RegExp(`\\b${fs}\\b`).test(readFileSync('/proc/filesystems', 'utf8'));
      if (!has()) quietly(() => run('modprobe', '-q', fs));
      return has();
    };
    const exported = join(ROOT, `${PREFIX}-export`);
    const mount = join(ROOT, `${PREFIX}-nfs`);
    files.push(exported, mount);
    mkdirSync(exported, { recursive: true });
    const name = `${PREFIX}-nfs`;
    const body = { name, type: 'netfs', path: mount, source_host: '127.0.0.1', source_path: exported };
    if (!kernelHas('nfs') && !kernelHas('nfs4')) {
      const job = await finished(await admin.api('POST', '/storage-pools', body));
      assert.equal(job.state, 'failed', 'the mount cannot work without the nfs filesystem');
      assert.match(job.message, /nfs|mount/i, job.message);
      assert.equal(sql(`SELECT COUNT(*) FROM storage_pools WHERE name = ${q(name)}`)[0][0], '0', 'the failed job took its row');
      assert.ok(!libvirtPools().includes(name), 'and libvirt\'s definition');
      t.skip('this kernel cannot mount NFS (no nfs or nfs4 in /proc/filesystems, modprobe nfs fails): the lifecycle on a local export cannot run; the refused mount was checked');
      return;
    }
    if (!kernelHas('nfsd')) {
      t.skip('this kernel can mount NFS but has no nfsd (no nfsd in /proc/filesystems, modprobe nfsd fails): no local NFS server can run');
      return;
    }
    try {
      quietly(() => run('mount', '-t', 'nfsd', 'nfsd', '/proc/fs/nfsd'));
      run('systemctl', 'start', 'nfs-kernel-server');
    } catch {
      try { run('rpc.nfsd', '8'); run('rpc.mountd'); } catch (e) {
        t.skip(`the NFS server does not start here (${String(e.stderr ?? e).trim().split('\n')[0]})`);
        return;
      }
    }
    try {
      run('exportfs', '-o', 'rw,no_root_squash,insecure', `127.0.0.1:${exported}`);
    } catch (e) {
      t.skip(`exportfs failed (${String(e.stderr ?? e).trim().split('\n')[0]}): no local NFS server`);
      return;
    }
    try {
      const made = await admin.api('POST', '/storage-pools', body);
      const job = await finished(made);
      assert.equal(job.state, 'succeeded', job.message);
      const pool = dataOf(made);
      assert.equal(dataOf(await admin.api('GET', `/storage-pools/${pool.id}`)).state, 'active');
      assert.match(readFileSync('/proc/mounts', 'utf8'), new RegExp(` ${mount} nfs`));
      const vol = await finished(await admin.api('POST', `/storage-pools/${pool.id}/volumes`, { name: 'n1.qcow2', capacity_gb: 1 }));
      assert.equal(vol.state, 'succeeded', vol.message);
      assert.ok(existsSync(join(exported, 'n1.qcow2')), 'the volume is on the export');
      assert.equal((await finished(await admin.api('DELETE', `/storage-pools/${pool.id}/volumes/n1.qcow2`))).state, 'succeeded');
      assert.equal((await finished(await admin.api('POST', `/storage-pools/${pool.id}/stop`))).state, 'succeeded');
      assert.doesNotMatch(readFileSync('/proc/mounts', 'utf8'), new RegExp(` ${mount} nfs`));
      assert.equal((await finished(await admin.api('POST', `/storage-pools/${pool.id}/start`))).state, 'succeeded');
      const gone = await finished(await admin.api('DELETE', `/storage-pools/${pool.id}`));
      assert.equal(gone.state, 'succeeded', gone.message);
    } finally {
      quietly(() => run('exportfs', '-u', `127.0.0.1:${exported}`));
    }
  });

  test('a pool whose storage hangs: its operations give up at their deadline, the portal answers', async (t) => {
    // No NFS server runs here to be taken down; a FUSE mount whose server
    // never answers (the device opened and mounted, never read) hangs
    // every call into it in the kernel the same way, libvirtd's included.
    if (!existsSync('/dev/fuse') || !/\bfuse\b/.test(readFileSync('/proc/filesystems', 'utf8'))) {
      t.skip('no FUSE here (/dev/fuse or the fuse filesystem is missing): nothing can be made to hang');
      return;
    }
    const name = `${PREFIX}-hang`;
    const path = join(ROOT, name);
    files.push(path);
    const made = await admin.api('POST', '/storage-pools', { name, type: 'dir', path });
    assert.equal((await finished(made)).state, 'succeeded');
    const pool = dataOf(made);
    const child = spawn('bash', ['-c', 'exec 3<>/dev/fuse; mount -i -t fuse -o fd=3,rootmode=40000,user_id=0,group_id=0 '
      + `vmm-hang "$1" && echo mounted; exec sleep 600`, 'bash', path], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => { if (/mounted/.test(d)) resolve(); });
      child.on('exit', (code) => reject(new Error(`the FUSE mount failed (exit ${code})`)));
    });
    hang = { process: child, path };
    try {
      assert.throws(() => run('timeout', '-s', 'KILL', '2', 'stat', path), 'looking into the directory hangs');

      let t0 = Date.now();
      const refreshed = await admin.api('POST', `/storage-pools/${pool.id}/refresh`);
      assert.equal(refreshed.status, 202, refreshed.text);
      assert.ok(Date.now() - t0 < 3000, `the refresh answered at once (${Date.now() - t0} ms)`);
      const job = jobOf(refreshed);

      // The list and the pool's page wait [storage] info_timeout_s (3 s) at
      // most, and say the pool does not answer; other pages are untouched.
      t0 = Date.now();
      const list = await admin.api('GET', '/storage-pools');
      assert.equal(list.status, 200, list.text);
      assert.ok(Date.now() - t0 < 6000, `the list answered in ${Date.now() - t0} ms`);
      assert.equal(dataOf(list).find((p) => p.id === pool.id).state, 'not_responding');
      t0 = Date.now();
      const shown = await admin.api('GET', `/storage-pools/${pool.id}`);
      assert.equal(shown.status, 200, shown.text);
      assert.ok(Date.now() - t0 < 6000, `the pool answered in ${Date.now() - t0} ms`);
      assert.equal(dataOf(shown).state, 'not_responding');
      const page = await admin.page('/storage-pools');
      assert.equal(page.status, 200);
      assert.equal((await admin.api('GET', '/networks')).status, 200);
      // A volume's refusals are looked for within the same short deadline.
      t0 = Date.now();
      const vol = await admin.api('POST', `/storage-pools/${pool.id}/volumes`, { name: 'stuck.qcow2', capacity_gb: 1 });
      assert.ok(Date.now() - t0 < 6000, `the volume create answered in ${Date.now() - t0} ms`);
      assertError(vol, 504, 'storage_timeout');

      // The refresh gives up at [storage] op_timeout_s (10 s in the tests).
      t0 = Date.now();
      let ended;
      await waitFor(async () => {
        ended = dataOf(await admin.api('GET', `/jobs/${job.id}`));
        return !['queued', 'running'].includes(ended.state);
      }, 40_000, 250);
      assert.equal(ended.state, 'failed', JSON.stringify(ended));
      assert.match(ended.message, /did not answer within 10 seconds/);
    } finally {
      unhang();
    }
    // Once the storage answers again, so does the pool, and it goes.
    await waitFor(async () => {
      const state = dataOf(await admin.api('GET', `/storage-pools/${pool.id}`)).state;
      return state !== 'not_responding';
    }, 30_000, 500);
    const gone = await finished(await admin.api('DELETE', `/storage-pools/${pool.id}`));
    assert.equal(gone.state, 'succeeded', gone.message);
    assert.ok(!libvirtPools().includes(name));
  });
});
