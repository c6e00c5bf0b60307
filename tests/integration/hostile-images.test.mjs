// Images that try to make the helper (root) or qemu-img read a host file:
// a VMDK descriptor with a FLAT extent on it, a monolithicFlat VMDK, a
// sparse VMDK whose embedded descriptor names it, a qcow2 with an
// external data file or a backing file (json: and plain) on it, a raw
// file declared as qcow2, and an OVA holding such a VMDK. Each is uploaded
// as a template: the import fails with a clear message and leaves no
// template, and no file of the stack ever holds the host file's bytes.
// Then templates an earlier version let into the library: the restarted
// helper quarantines them, and they can be neither used nor downloaded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync,
  readFileSync, readlinkSync, readSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  adminClient, assertError, BASE, Client, helperPids, PROGRAM_DIR, q, sql, STATE, uniqueName, userClient, waitFor,
} from './lib.mjs';
import { tusUpload, waitJob } from './tus.mjs';

const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const CONFIG = `${STATE}/vmmanager.conf`;
const QCOW2 = join(ROOT, 'var/images/vmm-test.qcow2');

// Reading an answer: one place to change when the envelope does.
const data = (res) => res.body.data;

const qemuImg = (...args) => execFileSync('qemu-img', args, { encoding: 'utf8' });

let admin;
let dir;
let secret;          // 0600 root: only root may read it
let worldReadable;   // 0644: the sandbox user may read it, only the rules stop it
let marker;

before(async () => {
  admin = await adminClient();
  dir = mkdtempSync(join(tmpdir(), 'vmm-hostile-'));
  chmodSync(dir, 0o755);   // the file's own mode is what keeps others out
  marker = `VMM-HOST-SECRET-${randomBytes(12).toString('hex')}`;
  secret = join(dir, 'secret');
  // Sector-sized, so a FLAT extent of 8 sectors covers the marker.
  writeFileSync(secret, marker.padEnd(4096, '#'), { mode: 0o600 });
  chmodSync(secret, 0o600);
  worldReadable = join(dir, 'world-readable');
  writeFileSync(worldReadable, marker.padEnd(4096, '*'), { mode: 0o644 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Every regular file under root, for the marker hunt. */
function filesUnder(root) {
  if (!existsSync(root)) return [];
  const out = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Whether the file holds the marker, read in blocks (disks are large). */
function holdsMarker(path) {
  const needle = Buffer.from(marker);
  const block = Buffer.alloc(4 << 20);
  let fd;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    let carry = Buffer.alloc(0);
    for (;;) {
      const n = readSync(fd, block, 0, block.length, null);
      if (n === 0) return false;
      const chunk = Buffer.concat([carry, block.subarray(0, n)]);
      if (chunk.includes(needle)) return true;
      carry = chunk.subarray(Math.max(0, chunk.length - needle.length));
    }
  } finally {
    closeSync(fd);
  }
}

function assertNoMarkerInStack() {
  const leaked = [`${STATE}/pool`, `${STATE}/uploads`].flatMap(filesUnder).filter(holdsMarker);
  assert.deepEqual(leaked, [], 'no file of the stack holds the host file\'s bytes');
}

function descriptor(createType, extentLine) {
  return `# Disk DescriptorFile
version=1
CID=fffffffe
parentCID=ffffffff
createType="${createType}"

# Extent description
${extentLine}

ddb.virtualHWVersion = "4"
ddb.geometry.cylinders = "1"
ddb.geometry.heads = "1"
ddb.geometry.sectors = "8"
ddb.adapterType = "ide"
`;
}

/** A sparse VMDK (KDMV) whose header says capacity 0 and whose embedded
 * descriptor names another file: qemu then opens that descriptor's extents. */
function sparseWithForeignExtent(path, target) {
  qemuImg('create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicSparse', path, '1M');
  const bytes = readFileSync(path);
  const descOffset = Number(bytes.readBigUInt64LE(28)) * 512;
  const descSize = Number(bytes.readBigUInt64LE(36)) * 512;
  bytes.writeBigUInt64LE(0n, 12);   // capacity
  const text = Buffer.from(descriptor('monolithicFlat', `RW 8 FLAT "${target}" 0`));
  assert.ok(text.length < descSize);
  bytes.fill(0, descOffset, descOffset + descSize);
  text.copy(bytes, descOffset);
  writeFileSync(path, bytes);
}

function ovaWith(name, diskFile) {
  const ova = join(dir, `${name}-ova`);
  mkdirSync(ova, { recursive: true });
  copyFileSync(diskFile, join(ova, 'disk1.vmdk'));
  writeFileSync(join(ova, 'appliance.ovf'), `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References><File ovf:id="file1" ovf:href="disk1.vmdk"/></References>
  <DiskSection><Info>Disks</Info>
    <Disk ovf:diskId="d1" ovf:fileRef="file1" ovf:capacity="4096"
      ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <VirtualSystem ovf:id="hostile"><Info>A VM</Info><Name>hostile</Name></VirtualSystem>
</Envelope>
`);
  const file = join(dir, `${name}.ova`);
  execFileSync('tar', ['-cf', file, '-C', ova, 'appliance.ovf', 'disk1.vmdk']);
  return file;
}

/** The hostile images, each with the format it is declared as and what the refusal says. */
function hostileImages() {
  const images = [];
  const add = (name, format, file, message) => images.push({ name, format, file, message });

  let f = join(dir, 'flat-extent.vmdk');
  writeFileSync(f, descriptor('monolithicFlat', `RW 8 FLAT "${secret}" 0`));
  add('a VMDK descriptor with a FLAT extent on the host file', 'vmdk', f, /descriptor that refers to other files/);

  f = join(dir, 'vmfs.vmdk');
  writeFileSync(f, descriptor('vmfs', `RW 8 VMFS "${worldReadable}"`));
  add('a vmfs VMDK descriptor on a world-readable file', 'vmdk', f, /descriptor that refers to other files/);

  f = join(dir, 'made-flat.vmdk');
  qemuImg('create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', f, '1M');
  add('a monolithicFlat VMDK as qemu-img makes it', 'vmdk', f, /descriptor that refers to other files/);

  f = join(dir, 'sparse-foreign.vmdk');
  sparseWithForeignExtent(f, worldReadable);
  add('a sparse VMDK whose embedded descriptor names a world-readable file', 'vmdk', f,
    /refers to a file outside itself|single-file VMDK/);

  f = join(dir, 'sparse-secret.vmdk');
  sparseWithForeignExtent(f, secret);
  // Root could open it, and qemu-img would describe it; vmm-img may not.
  add('a sparse VMDK whose embedded descriptor names the root-only file', 'vmdk', f,
    /qemu-img cannot read the image/);

  f = join(dir, 'data-file.qcow2');
  qemuImg('create', '-q', '-f', 'qcow2', '-o', `data_file=${secret},data_file_raw=on`, f, '4K');
  add('a qcow2 with its data file on the host file', 'qcow2', f, /external data file/);

  f = join(dir, 'data-file-world.qcow2');
  qemuImg('create', '-q', '-f', 'qcow2', '-o', `data_file=${worldReadable},data_file_raw=on`, f, '4K');
  add('a qcow2 with its data file on a world-readable file', 'qcow2', f, /external data file/);

  f = join(dir, 'backing-json.qcow2');
  qemuImg('create', '-q', '-f', 'qcow2', '-u', '-F', 'raw', '-b',
    `json:{"driver":"raw","file":{"driver":"file","filename":"${secret}"}}`, f, '4K');
  add('a qcow2 with a json: backing file on the host file', 'qcow2', f, /backing file/);

  f = join(dir, 'backing-plain.qcow2');
  qemuImg('create', '-q', '-f', 'qcow2', '-u', '-F', 'raw', '-b', secret, f, '4K');
  add('a qcow2 with a backing file on the host file', 'qcow2', f, /backing file/);

  f = join(dir, 'raw-as-qcow2.qcow2');
  writeFileSync(f, Buffer.alloc(1 << 20));
  add('a raw file declared as qcow2', 'qcow2', f, /is raw, not qcow2/);

  add('an OVA holding a VMDK descriptor on the host file', 'ova',
    ovaWith('flat', join(dir, 'flat-extent.vmdk')), /descriptor that refers to other files/);
  add('an OVA holding a sparse VMDK that names a world-readable file', 'ova',
    ovaWith('sparse', join(dir, 'sparse-foreign.vmdk')), /refers to a file outside itself|single-file VMDK/);
  return images;
}

describe('hostile uploads', () => {
  test('each route to a host file is refused: no template, no download, no VM, no byte of it anywhere', async () => {
    const { client } = await userClient(admin);
    const before_ = sql('SELECT COUNT(*) FROM templates')[0][0];
    for (const image of hostileImages()) {
      const name = uniqueName('hostile');
      const up = await tusUpload(client, readFileSync(image.file), {
        filename: `${name}.${image.format}`, kind: 'template', format: image.format, name,
      });
      const job = await waitJob(client, up.jobId, 60_000);
      assert.equal(job.state, 'failed', `${image.name}: the import should fail: ${JSON.stringify(job)}`);
      assert.match(job.message, image.message, image.name);
      assert.equal(sql(`SELECT COUNT(*) FROM templates WHERE name = ${q(name)}`)[0][0], '0', image.name);
      assert.ok(!data(await client.api('GET', `/templates?q=${name}`)).some((t) => t.name === name));
      assert.ok(!data(await admin.api('GET', `/templates?q=${name}`)).some((t) => t.name === name));
    }
    assert.equal(sql('SELECT COUNT(*) FROM templates')[0][0], before_, 'no template row is left');
    assert.equal(sql("SELECT COUNT(*) FROM uploads WHERE state = 'importing'")[0][0], '0');
    assert.deepEqual(filesUnder(`${STATE}/pool/sandbox`), [], 'no sandbox is left behind');
    assertNoMarkerInStack();
    // Without a template there is nothing to download or start.
    const ghost = Number(sql('SELECT COALESCE(MAX(id), 0) + 1 FROM templates')[0][0]);
    assertError(await client.api('GET', `/templates/${ghost}/download`), 404, 'not_found');
    assertError(await client.api('POST', '/vms', {
      name: 'hostile', template_id: ghost, vcpus: 1, memory_mb: 128, disk_gb: 1, start: false,
    }), 404, 'unknown_template');
  });

  test('qemu-img reads uploads as the sandbox user, in the sandbox directory, never as root', async (t) => {
    // A qcow2 whose data file is root-only: root would open it, vmm-img cannot.
    // Watching the processes: every qemu-img of our stack runs as vmm-img.
    const uid = Number(execFileSync('id', ['-u', 'vmm-img'], { encoding: 'utf8' }));
    const [helper] = helperPids();
    const seen = new Map();   // pid -> "uid cwd" of each qemu-img the helper started
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const entry of readdirSync('/proc')) {
          if (!/^\d+$/.test(entry) || seen.has(entry)) continue;
          try {
            const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
            if (!argv[0].endsWith('qemu-img')) continue;
            const status = readFileSync(`/proc/${entry}/status`, 'utf8');
            if (Number(/^PPid:\s+(\d+)/m.exec(status)[1]) !== helper) continue;
            seen.set(entry, `${/^Uid:\s+(\d+)/m.exec(status)[1]} ${readlinkSync(`/proc/${entry}/cwd`)}`);
          } catch {
            // gone meanwhile
          }
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const f = join(dir, 'big.vmdk');
    qemuImg('convert', '-q', '-f', 'qcow2', '-O', 'vmdk', QCOW2, f);
    const up = await tusUpload(admin, readFileSync(f), {
      filename: 'big.vmdk', kind: 'template', format: 'vmdk', name: uniqueName('sandboxed'),
    });
    const job = await waitJob(admin, up.jobId, 120_000);
    watching = false;
    await watch;
    assert.equal(job.state, 'succeeded', job.message);
    // A quick run may slip between two looks; whatever was seen ran as vmm-img.
    // (The root-only extent above is the deterministic proof: only an
    // unprivileged qemu-img fails to open it.)
    t.diagnostic(`qemu-img runs seen: ${[...seen.values()].join(', ')}`);
    for (const what of seen.values())
      assert.match(what, new RegExp(`^${uid} ${STATE}/pool/sandbox/[0-9a-f]{16}$`), 'qemu-img ran as vmm-img in a sandbox');
    assert.equal((await admin.api('DELETE', `/templates/${job.result.template_id}`)).status, 200);
  });
});

describe('templates already in the library', () => {
  test('the restarted helper quarantines those that refer outside themselves; they cannot be used or downloaded', async () => {
    const owner = await userClient(admin);
    const other = await userClient(admin);
    // What an earlier version would have left: a pool file and a ready row.
    const planted = [];
    const plant = (name, makeFile, visibility, ownerId) => {
      const file = `tpl-${randomBytes(8).toString('hex')}.qcow2`;
      const path = `${STATE}/pool/templates/${file}`;
      makeFile(path);
      chmodSync(path, 0o644);
      sql(`INSERT INTO templates (name, format, file_name, virtual_size_bytes, description, visibility, owner_id, status)
           VALUES (${q(name)}, 'qcow2', ${q(file)}, 4096, '', ${q(visibility)}, ${ownerId ?? 'NULL'}, 'ready')`);
      const id = Number(sql(`SELECT id FROM templates WHERE file_name = ${q(file)}`)[0][0]);
      planted.push({ id, path });
      return id;
    };
    const readyBefore = sql("SELECT id FROM templates WHERE status = 'ready'").map(([id]) => Number(id));
    const dataName = uniqueName('q-data');
    const dataFile = plant(dataName, (p) => qemuImg('create', '-q', '-f', 'qcow2', '-o',
      `data_file=${secret},data_file_raw=on`, p, '4K'), 'private', owner.user.id);
    const backing = plant(uniqueName('q-backing'), (p) => qemuImg('create', '-q', '-f', 'qcow2', '-u',
      '-F', 'raw', '-b', `json:{"driver":"raw","file":{"driver":"file","filename":"${secret}"}}`, p, '4K'),
    'public', null);
    const good = plant(uniqueName('q-good'), (p) => qemuImg('create', '-q', '-f', 'qcow2', p, '4K'),
      'public', null);
    try {
      await restartHelper();
      const status = (id) => sql(`SELECT status, quarantine_reason FROM templates WHERE id = ${id}`)[0];
      await waitFor(() => status(dataFile)[0] === 'quarantined' && status(backing)[0] === 'quarantined',
        60_000, 200);
      assert.match(status(dataFile)[1], /external data file/);
      assert.match(status(backing)[1], /backing file/);
      assert.equal(status(good)[0], 'ready', 'a self-contained template stays ready');
      for (const id of readyBefore)
        assert.equal(status(id)[0], 'ready', `template ${id} of the library stays ready`);

      // Admins see why, in the API and on the pages.
      let t = data(await admin.api('GET', `/templates/${dataFile}`));
      assert.equal(t.status, 'quarantined');
      assert.match(t.quarantine_reason, /external data file/);
      assert.equal(data(await admin.api('GET', `/templates/${good}`)).quarantine_reason, null);
      const listed = data(await admin.api('GET', '/templates?per_page=100')).find((x) => x.id === backing);
      assert.equal(listed?.status, 'quarantined');
      assert.match(listed.quarantine_reason, /backing file/);
      let page = await admin.page(`/templates/${backing}`);
      assert.match(page.text, /id="quarantine-reason">[^<]*backing file/);
      assert.ok(!page.text.includes(`/templates/${backing}/download`), 'no download button');
      page = await admin.page('/templates?per_page=100');
      assert.match(page.text, /class="quarantine-reason">[^<]*backing file/);

      // Its owner sees it as unavailable; other users no longer see it.
      t = data(await owner.client.api('GET', `/templates/${dataFile}`));
      assert.equal(t.status, 'quarantined');
      assertError(await other.client.api('GET', `/templates/${backing}`), 404, 'not_found');
      assert.ok(!data(await other.client.api('GET', '/templates?per_page=100')).some((x) => x.id === backing));

      // Neither usable nor downloadable.
      const vm = { name: 'from-quarantine', vcpus: 1, memory_mb: 128, disk_gb: 1, start: false };
      assertError(await owner.client.api('POST', '/vms', { ...vm, template_id: dataFile }), 409, 'template_quarantined');
      assertError(await admin.api('POST', '/vms', { ...vm, template_id: backing }), 409, 'template_quarantined');
      assertError(await other.client.api('POST', '/vms', { ...vm, template_id: backing }), 404, 'unknown_template');
      assertError(await admin.api('GET', `/templates/${backing}/download`), 409, 'template_quarantined');
      assertError(await owner.client.api('GET', `/templates/${dataFile}/download`), 409, 'template_quarantined');
      const res = await fetch(`${BASE}/templates/${dataFile}/download`, { headers: { Cookie: admin.cookieHeader() } });
      assert.equal(res.status, 409);
      assert.ok(!Buffer.from(await res.arrayBuffer()).includes(Buffer.from(marker)));
      assert.equal(sql(`SELECT COUNT(*) FROM vms WHERE template_id IN (${dataFile}, ${backing})`)[0][0], '0');
      assert.ok(!(await owner.client.page('/vms/new')).text.includes(dataName), 'not offered for a new VM');

      // In Chinese for a Chinese reader.
      const zh = new Client('zh', { headers: { 'Accept-Language': 'zh-CN,zh;q=0.9' } });
      await zh.loginOk(owner.username, owner.password);
      assert.match(data(await zh.api('GET', `/templates/${dataFile}`)).quarantine_reason, /外部数据文件/);
      const refused = await zh.api('POST', '/vms', { ...vm, template_id: dataFile });
      assertError(refused, 409, 'template_quarantined');
      assert.match(refused.body.error.message, /已被隔离/);

      // The helper refuses it too, whoever asks (a row that got past the program).
      const tag = uniqueName('qvm');
      sql(`INSERT INTO vms (uuid, domain_name, name, description, owner_id, vcpus, memory_mb, disk_gb, template_id)
           VALUES (UUID(), ${q(tag)}, ${q(tag)}, '', ${owner.user.id}, 1, 128, 1, ${dataFile})`);
      const vmId = Number(sql(`SELECT id FROM vms WHERE domain_name = ${q(tag)}`)[0][0]);
      try {
        const reply = await helperCall({ op: 'vm.create', args: { vm_id: vmId, start: false }, actor: owner.user.id });
        assert.equal(reply.ok, false, JSON.stringify(reply));
        assert.equal(reply.error.code, 'template_quarantined');
        assert.equal(reply.error.status, 409);
      } finally {
        sql(`DELETE FROM vms WHERE id = ${vmId}`);
      }

      // An admin clears it away.
      assert.equal((await admin.api('DELETE', `/templates/${dataFile}`)).status, 200);
      assert.equal(existsSync(planted[0].path), false);
    } finally {
      for (const { id, path } of planted) {
        sql(`DELETE FROM templates WHERE id = ${id}`);
        rmSync(path, { force: true });
      }
    }
    assertNoMarkerInStack();
  });
});

/** One request to this stack's helper over its socket (as root, as the programs do). */
function helperCall(request) {
  return new Promise((resolve, reject) => {
    const socket = createConnection(`${STATE}/run/vmm-helper.sock`);
    let got = Buffer.alloc(0);
    socket.on('connect', () => {
      const body = Buffer.from(JSON.stringify(request));
      const header = Buffer.alloc(4);
      header.writeUInt32BE(body.length);
      socket.write(Buffer.concat([header, body]));
    });
    socket.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
        socket.end();
        resolve(JSON.parse(got.subarray(4, 4 + got.readUInt32BE(0)).toString()));
      }
    });
    socket.on('error', reject);
  });
}


/** Stops this stack's helper (ours only, by pid) and starts it the way tools/dev does. */
async function restartHelper() {
  const pids = helperPids();
  assert.equal(pids.length, 1, 'one helper runs for this stack');
  process.kill(pids[0], 'SIGTERM');
  await waitFor(() => helperPids().length === 0, 10_000, 50);
  rmSync(`${STATE}/run/vmm-helper.sock`, { force: true });
  const log = openSync(`${STATE}/log/vmm-helper.log`, 'a');
  const child = spawn(`${PROGRAM_DIR}/vmm-helper`, [], {
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'VMM_ADMIN_PASSWORD')),
      VMM_CONFIG: CONFIG, VMM_DATABASE_USER: 'root',
    },
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  closeSync(log);
  await waitFor(async () => (await admin.api('GET', '/host')).status === 200, 30_000, 200);
  assert.ok(statSync(`${STATE}/run/vmm-helper.sock`));
}
