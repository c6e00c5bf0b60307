// OVA import as a VM (issue 19): an OVA uploaded as kind "vm" is read by
// its import job in the sandbox (the disk judged by the hostile-image
// rules) into a review: what it asks for (CPUs, memory, firmware, its
// disk, its NICs) and how that maps here. The user may change the name,
// the sizes and each NIC's network, and the VM is then made by a
// vm.create job from the staged disk. Tested with the OVA of a VM the
// portal exported: the new VM really boots. Hostile packages (a disk with
// a backing file, a member or a disk reference leaving the archive, a
// descriptor naming a missing disk, absurd CPUs or memory) are refused
// with a 4xx code and leave no import, no VM and no staged file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  adminClient, assertError, BASE, dataOf, demoVmDone, domainOf, jobEnded, jobOf, serialLog, sql,
  STATE, uniqueName, userClient, waitFor,
} from './lib.mjs';
import { tusUpload, waitJob } from './tus.mjs';

let admin;
let owner;
let other;
let source;
const made = [];
const work = mkdtempSync(join(tmpdir(), 'vmm-ova-import-'));
const STAGED = `${STATE}/pool/ova-imports`;
const staged = () => (existsSync(STAGED) ? readdirSync(STAGED).sort() : []);

before(async () => {
  admin = await adminClient();
  owner = await userClient(admin);
  other = await userClient(admin);
  source = await demoVmDone(owner.client, { name: uniqueName('ova-src'), vcpus: 2, memory_mb: 192 });
  const res = await owner.client.api('POST', `/vms/${source.id}/export`, {});
  assert.equal(res.status, 202, res.text);
  const job = await jobEnded(owner.client, jobOf(res).id, 300_000);
  assert.equal(job.state, 'succeeded', JSON.stringify(job));
  const got = await fetch(BASE + job.result.download, { headers: { Cookie: owner.client.cookieHeader() } });
  assert.equal(got.status, 200);
  writeFileSync(join(work, 'vm.ova'), Buffer.from(await got.arrayBuffer()));
});

after(async () => {
  for (const id of made) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
  if (source) await admin.api('DELETE', `/vms/${source.id}?delete_disks=true`);
  for (const [id] of sql(`SELECT id FROM ova_imports WHERE owner_id = ${owner.user.id} AND state = 'review'`))
    await admin.api('DELETE', `/vms/imports/${id}`);
  rmSync(work, { recursive: true, force: true });
});

/** Uploads an OVA as kind "vm" and waits for its import job. */
async function uploadVm(client, file, name = uniqueName('ova')) {
  const { readFileSync } = await import('node:fs');
  const up = await tusUpload(client, readFileSync(file), { filename: `${name}.ova`, kind: 'vm', name });
  return waitJob(client, up.jobId, 300_000);
}

const vmCount = () => Number(sql(`SELECT COUNT(*) FROM vms WHERE owner_id = ${owner.user.id}`)[0][0]);

describe('an OVA imported as a VM', () => {
  let importId;
  let defaultNetwork;

  test('the import job reads it into a review of what it asks for and how it maps here', async () => {
    defaultNetwork = Number(sql("SELECT id FROM networks WHERE name = 'default'")[0][0]);
    const job = await uploadVm(owner.client, join(work, 'vm.ova'), 'from ova');
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    importId = job.result.ova_import_id;
    assert.ok(importId > 0);
    assert.equal(job.target.href, `/vms/imports/${importId}`, 'the task links to the review');
    assert.match(job.summary, /review/i);

    const review = dataOf(await owner.client.api('GET', `/vms/imports/${importId}`));
    assert.equal(review.state, 'review');
    assert.equal(review.name, 'from ova');
    assert.equal(review.vcpus, 2);
    assert.equal(review.memory_mb, 192);
    assert.equal(review.firmware, 'bios');
    assert.equal(review.firmware_supported, true);
    assert.deepEqual(review.disks.map((d) => [d.source_format, d.format, d.disk_gb, d.virtual_size_bytes]),
      [['vmdk', 'qcow2', 1, 1024 ** 3]]);
    assert.equal(review.nics.length, 1);
    assert.equal(review.nics[0].network, 'default');
    assert.equal(review.nics[0].model, 'E1000');
    assert.equal(review.nics[0].network_id, defaultNetwork, 'mapped onto our network of that name');
    assert.equal(staged().length >= 1, true, 'the disk waits, staged');

    // Only its owner (and admins) see it.
    assertError(await other.client.api('GET', `/vms/imports/${importId}`), 404, 'not_found');
    assertError(await other.client.api('POST', `/vms/imports/${importId}`, { name: 'stolen' }), 404, 'not_found');
    assertError(await other.client.api('DELETE', `/vms/imports/${importId}`), 404, 'not_found');
    assert.equal((await admin.api('GET', `/vms/imports/${importId}`)).status, 200);

    // The page: the mapping and the form that may change it.
    const page = await owner.client.page(`/vms/imports/${importId}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /id="import-vcpus">2</);
    assert.match(page.text, /id="import-memory">192 MiB</);
    assert.match(page.text, /id="import-form"/);
    assert.match(page.text, new RegExp(`<option value="${defaultNetwork}" selected>default</option>`));
  });

  test('a review with bad choices is refused and makes nothing', async () => {
    const before_ = vmCount();
    const ask = (body) => owner.client.api('POST', `/vms/imports/${importId}`, body);
    assertError(await ask({ name: 'two', network_ids: [defaultNetwork, defaultNetwork + 100000] }), 422, 'nic_count');
    assertError(await ask({ name: 'nonet', network_ids: [defaultNetwork + 100000] }), 404, 'unknown_network');
    assertError(await ask({ name: 'tiny', memory_mb: 10 }), 400, 'out_of_range');
    assertError(await ask({ name: 'many', vcpus: 1000 }), 400, 'out_of_range');
    assertError(await ask({ name: '' }), 400, 'invalid_length');
    assertError(await ask({ name: 'host', host_id: 1 }), 403, 'forbidden');
    assert.equal(vmCount(), before_, 'no VM row');
    assert.equal(dataOf(await owner.client.api('GET', `/vms/imports/${importId}`)).state, 'review');
  });

  test('the reviewed import becomes a VM that boots; the import is then done', async () => {
    const [[diskFile]] = sql(`SELECT disk_file FROM ova_imports WHERE id = ${importId}`);
    const res = await owner.client.api('POST', `/vms/imports/${importId}`, {
      name: '导入 imported', network_ids: [defaultNetwork], memory_mb: 160,
    });
    assert.equal(res.status, 201, res.text);
    const vm = dataOf(res);
    made.push(vm.id);
    assert.equal(vm.name, '导入 imported');
    const job = await jobEnded(owner.client, jobOf(res).id, 300_000);
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    const now = dataOf(await owner.client.api('GET', `/vms/${vm.id}`));
    assert.equal(now.vcpus, 2);
    assert.equal(now.memory_mb, 160, 'the size changed in the review');
    assert.equal(now.disk_gb, 1);
    const dom = domainOf(vm.id);
    await waitFor(() => serialLog(dom).includes('VMM-TEST: ready'), 300_000, 500);

    const review = dataOf(await owner.client.api('GET', `/vms/imports/${importId}`));
    assert.equal(review.state, 'done');
    assert.equal(review.vm_id, vm.id);
    assert.ok(!staged().includes(diskFile), 'the staged disk is gone');
    assertError(await owner.client.api('POST', `/vms/imports/${importId}`, { name: 'again' }), 409, 'wrong_state');
    assertError(await owner.client.api('DELETE', `/vms/imports/${importId}`), 409, 'wrong_state');
    const page = await owner.client.page(`/vms/imports/${importId}`);
    assert.match(page.text, new RegExp(`id="import-made"[^]*href="/vms/${vm.id}"`));
  });

  test('an import may be discarded before its VM is made: row and staged disk go', async () => {
    const job = await uploadVm(owner.client, join(work, 'vm.ova'));
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    const id = job.result.ova_import_id;
    const [[diskFile]] = sql(`SELECT disk_file FROM ova_imports WHERE id = ${id}`);
    assert.ok(staged().includes(diskFile));
    const res = await owner.client.api('DELETE', `/vms/imports/${id}`);
    assert.equal(res.status, 200, res.text);
    assert.ok(!staged().includes(diskFile));
    assertError(await owner.client.api('GET', `/vms/imports/${id}`), 404, 'not_found');
  });
});

/** A package of an OVF and files, written by Python's tarfile (member
 * names exactly as given, "../" too, which tar(1) would strip). */
function ova(name, ovf, members) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.ovf'), ovf);
  const entries = [['package.ovf', join(dir, 'package.ovf')], ...members];
  const file = join(work, `${name}.ova`);
  execFileSync('python3', ['-c', `
import sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.USTAR_FORMAT) as t:
    for i in range(2, len(sys.argv), 2):
        t.add(sys.argv[i + 1], arcname=sys.argv[i])
`, file, ...entries.flat()]);
  return file;
}

function descriptorWith({ href = 'disk1.vmdk', format = 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized', cpus = 1, memory = 128, disks = 1 } = {}) {
  const extra = disks > 1 ? '<Disk ovf:diskId="d2" ovf:fileRef="file1" ovf:capacity="1048576"/>' : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:id="file1" ovf:href="${href}"/></References>
  <DiskSection><Info>Disks</Info>
    <Disk ovf:diskId="d1" ovf:fileRef="file1" ovf:capacity="1048576" ovf:format="${format}"/>${extra}
  </DiskSection>
  <VirtualSystem ovf:id="hostile"><Info>A VM</Info><Name>hostile</Name>
    <VirtualHardwareSection><Info>hw</Info>
      <Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>${cpus}</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>${memory}</rasd:VirtualQuantity></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;
}

describe('hostile OVAs are refused whole', () => {
  test('backing file, paths out of the archive, a missing disk, absurd hardware: a 4xx code, nothing made', async () => {
    const vmdk = join(work, 'small.vmdk');
    execFileSync('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'subformat=streamOptimized', vmdk, '1M']);
    const backed = join(work, 'backed.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-u', '-F', 'raw', '-b', '/etc/shadow', backed, '1M']);
    const qcowFormat = 'http://www.gnome.org/~markmc/qcow-image-format.html';
    const cases = [
      ['a qcow2 disk with a backing file', ova('backed', descriptorWith({ href: 'disk1.qcow2', format: qcowFormat }),
        [['disk1.qcow2', backed]]), 'backing_file', /backing file/],
      ['a member whose path leaves the archive', ova('escape', descriptorWith(),
        [['../disk1.vmdk', vmdk]]), 'ova_path_escape', /outside it/],
      ['a descriptor naming its disk by a path out of the archive', ova('href', descriptorWith({ href: '../../disk1.vmdk' }),
        [['disk1.vmdk', vmdk]]), 'ova_path_escape', /by a path/],
      ['a descriptor naming a missing disk', ova('missing', descriptorWith({ href: 'disk9.vmdk' }),
        [['disk1.vmdk', vmdk]]), 'bad_ova', /not in the package/],
      ['absurd CPUs', ova('cpus', descriptorWith({ cpus: 100000 }), [['disk1.vmdk', vmdk]]),
        'ova_absurd_hardware', /100000 virtual CPUs/],
      ['absurd memory', ova('memory', descriptorWith({ memory: 99999999999 }), [['disk1.vmdk', vmdk]]),
        'ova_absurd_hardware', /MiB of memory/],
      ['two disks', ova('disks', descriptorWith({ disks: 2 }), [['disk1.vmdk', vmdk]]),
        'ova_many_disks', /2 disks/],
    ];
    const imports = () => sql(`SELECT COUNT(*) FROM ova_imports WHERE owner_id = ${other.user.id}`)[0][0];
    const vms = () => sql(`SELECT COUNT(*) FROM vms WHERE owner_id = ${other.user.id}`)[0][0];
    const stagedBefore = staged();
    for (const [what, file, code, message] of cases) {
      const job = await uploadVm(other.client, file);
      assert.equal(job.state, 'failed', `${what}: ${JSON.stringify(job)}`);
      assert.equal(job.error_code, code, `${what}: ${job.message}`);
      assert.match(job.message, message, what);
      assert.equal(job.result?.ova_import_id, undefined, what);
    }
    assert.equal(imports(), '0', 'no import row');
    assert.equal(vms(), '0', 'no VM row');
    assert.deepEqual(staged(), stagedBefore, 'no staged disk');
    assert.deepEqual(existsSync(`${STATE}/pool/sandbox`) ? readdirSync(`${STATE}/pool/sandbox`) : [], [],
      'no sandbox left');
    assert.equal(sql(`SELECT COUNT(*) FROM uploads WHERE owner_id = ${other.user.id}`)[0][0], '0');
  });
});
