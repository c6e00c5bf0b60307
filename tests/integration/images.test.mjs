// The ISO library and templates as uploads make them: import checks (ISO
// 9660, qemu-img's format and backing file, vmdk conversion, OVA with its
// OVF), list/detail/edit/delete/verify/download, and a VM that boots from
// an uploaded template.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync, mkdtempSync, readFileSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  adminClient, assertError, BASE, createVmDone, dataOf, jobOf, q, sql, STATE, uniqueName, userClient, waitFor,
} from './lib.mjs';
import { digest, tusUpload, waitJob } from './tus.mjs';

const IMAGES = new URL('../../var/images/', import.meta.url).pathname;
const ISO = join(IMAGES, 'vmm-test-installer.iso');
const QCOW2 = join(IMAGES, 'vmm-test.qcow2');
const BOOT_DEADLINE_MS = 120_000;

let admin;
let dir;
const vmsToDelete = [];

before(async () => {
  admin = await adminClient();
  dir = mkdtempSync(join(tmpdir(), 'vmm-images-'));
});

after(async () => {
  for (const id of vmsToDelete) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
});

const qemuImg = (...args) => execFileSync('qemu-img', args, { encoding: 'utf8' });
const serialLog = (domain) => {
  const path = `${STATE}/pool/consoles/${domain}.log`;
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
};

/** Uploads a file through tus and waits for its import job. */
async function importFile(client, path, metadata) {
  const up = await tusUpload(client, readFileSync(path), metadata, { chunkSize: 8 << 20 });
  return waitJob(client, up.jobId, 120_000);
}

function assertRefused(job, pattern) {
  assert.equal(job.state, 'failed', `the import should fail: ${JSON.stringify(job)}`);
  assert.match(job.message, pattern);
}

describe('the ISO library', () => {
  test('a text file declared as ISO is refused and leaves no library entry', async () => {
    const file = join(dir, 'notes.iso');
    writeFileSync(file, 'just some text\n'.repeat(5000));
    const before_ = sql('SELECT COUNT(*) FROM isos')[0][0];
    assertRefused(await importFile(admin, file, { filename: 'notes.iso', kind: 'iso' }), /not an ISO 9660 or UDF/);
    assert.equal(sql('SELECT COUNT(*) FROM isos')[0][0], before_);
    assert.equal(sql('SELECT COUNT(*) FROM uploads').map(Number)[0] >= 0, true);
  });

  test('list, detail, verify; a user\'s upload is private; delete is refused while a VM uses it', async () => {
    const { client, user } = await userClient(admin);
    const job = await importFile(client, ISO, { filename: 'mine.iso', kind: 'iso' });
    assert.equal(job.state, 'succeeded', job.message);
    const id = job.result.iso_id;
    let res = await client.api('GET', `/isos/${id}`);
    assert.equal(res.body.data.visibility, 'private');
    assert.equal(res.body.data.owner_id, user.id);
    // Another user neither sees nor touches it; an admin does.
    const other = (await userClient(admin)).client;
    assertError(await other.api('GET', `/isos/${id}`), 404, 'not_found');
    assertError(await other.api('DELETE', `/isos/${id}`), 404, 'not_found');
    assert.ok(!(await other.api('GET', '/isos')).body.data.some((i) => i.id === id));
    assert.ok((await client.api('GET', '/isos?q=mine')).body.data.some((i) => i.id === id));
    assert.equal((await admin.api('GET', `/isos/${id}`)).status, 200);
    // Public ISOs are everyone's to use, not to delete.
    const pub = (await admin.api('GET', '/isos?q=Demo')).body.data[0];
    assert.equal(pub.visibility, 'public');
    assertError(await client.api('DELETE', `/isos/${pub.id}`), 403, 'forbidden');

    // Verify: a job recomputing both digests.
    res = await client.api('POST', `/isos/${id}/verify`);
    assert.equal(res.status, 202, res.text);
    assert.equal(dataOf(res).id, id, 'a 202 answers the ISO it checks, its job in meta.job');
    let v = await waitJob(client, jobOf(res).id);
    assert.equal(v.state, 'succeeded', v.message);
    assert.equal(v.result.sha256, digest('sha256', readFileSync(ISO)));

    // In use by a VM: 409 with the VM; after the VM, deleted with its file.
    const made = await createVmDone(client, {
      name: 'from-iso', iso_id: id, vcpus: 1, memory_mb: 128, disk_gb: 1, start: false,
    });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.job.state, 'succeeded', made.job.message);
    const vm = made.vm;
    vmsToDelete.push(vm.id);
    assert.deepEqual((await client.api('GET', `/isos/${id}`)).body.data.in_use_by, [vm.id]);
    assertError(await client.api('DELETE', `/isos/${id}`), 409, 'in_use');
    assert.equal((await client.api('DELETE', `/vms/${vm.id}?delete_disks=true`)).status, 200);
    const file = sql(`SELECT file_name FROM isos WHERE id = ${id}`)[0][0];
    res = await client.api('DELETE', `/isos/${id}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(existsSync(`${STATE}/pool/isos/${file}`), false);
    assertError(await client.api('GET', `/isos/${id}`), 404, 'not_found');

    // A file changed behind our back fails verification.
    const job2 = await importFile(admin, ISO, { filename: 'tamper.iso', kind: 'iso' });
    const f2 = sql(`SELECT file_name FROM isos WHERE id = ${job2.result.iso_id}`)[0][0];
    const fd = openSync(`${STATE}/pool/isos/${f2}`, 'r+');
    writeSync(fd, Buffer.from('TAMPERED'), 0, 8, 40000);
    closeSync(fd);
    res = await admin.api('POST', `/isos/${job2.result.iso_id}/verify`);
    v = await waitJob(admin, jobOf(res).id);
    assert.equal(v.state, 'failed');
    assert.match(v.message, /no longer matches/);
    assert.equal((await admin.api('GET', `/isos/${job2.result.iso_id}`)).body.data.status, 'failed');
    await admin.api('DELETE', `/isos/${job2.result.iso_id}`);
  });
});

describe('templates', () => {
  test('an uploaded qcow2 becomes a template that boots a VM; edit, filters, download, delete', async () => {
    const { client, user } = await userClient(admin);
    const job = await importFile(client, QCOW2, {
      filename: 'busybox.qcow2', kind: 'template', format: 'qcow2', arch: 'x86_64',
      category: 'test', name: '上传的模板',
    });
    assert.equal(job.state, 'succeeded', job.message);
    const id = job.result.template_id;
    let t = (await client.api('GET', `/templates/${id}`)).body.data;
    assert.equal(t.name, '上传的模板');
    assert.equal(t.format, 'qcow2');
    assert.equal(t.arch, 'x86_64');
    assert.equal(t.category, 'test');
    assert.equal(t.visibility, 'private');
    assert.equal(t.owner_id, user.id);
    assert.equal(t.virtual_size_bytes, 32 << 20);
    assert.equal(t.usage_count, 0);

    let res = await client.api('PATCH', `/templates/${id}`, { os: 'busybox', min_memory_mb: 128, description: '测试' });
    assert.equal(res.status, 200, res.text);
    t = res.body.data;
    assert.equal(t.os, 'busybox');
    assert.equal(t.min_memory_mb, 128);
    assertError(await client.api('PATCH', `/templates/${id}`, { visibility: 'public' }), 403, 'forbidden');
    assertError(await client.api('PATCH', `/templates/${id}`, { arch: 'sparc' }), 400, 'invalid_choice');
    const other = (await userClient(admin)).client;
    assertError(await other.api('GET', `/templates/${id}`), 404, 'not_found');
    assertError(await other.api('PATCH', `/templates/${id}`, { os: 'x' }), 404, 'not_found');

    assert.ok((await client.api('GET', '/templates?category=test&arch=x86_64')).body.data.some((x) => x.id === id));
    assert.ok(!(await client.api('GET', '/templates?arch=aarch64')).body.data.some((x) => x.id === id));
    assert.ok((await client.api('GET', '/templates?q=busy')).body.data.some((x) => x.id === id));
    assertError(await client.api('GET', '/templates?arch=mips'), 400, 'invalid_parameter');

    // Downloaded through nginx: the very bytes uploaded.
    res = await fetch(`${BASE}/api/v1/templates/${id}/download`, { headers: { Cookie: client.cookieHeader() } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition'), /attachment; filename=".*\.qcow2"/);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(digest('sha256', bytes), digest('sha256', readFileSync(QCOW2)));
    res = await fetch(`${BASE}/_files/templates/x`, { headers: { Cookie: client.cookieHeader() } });
    assert.notEqual(res.status, 200, 'the files are reachable only through the check');

    // A VM from it boots (linked clone), and holds the template.
    const made = await createVmDone(client, {
      name: 'from-upload', template_id: id, vcpus: 1, memory_mb: 128, disk_gb: 1,
    });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.job.state, 'succeeded', made.job.message);
    const vm = made.vm;
    vmsToDelete.push(vm.id);
    const domain = sql(`SELECT domain_name FROM vms WHERE id = ${vm.id}`)[0][0];
    await waitFor(() => serialLog(domain).includes('VMM-TEST: ready'), BOOT_DEADLINE_MS, 500);
    assert.match(serialLog(domain), /VMM-TEST: boot ok/);
    t = (await client.api('GET', `/templates/${id}`)).body.data;
    assert.equal(t.usage_count, 1);
    assert.equal(t.linked_clones, 1);
    assertError(await client.api('DELETE', `/templates/${id}`), 409, 'in_use');

    assert.equal((await client.api('DELETE', `/vms/${vm.id}?delete_disks=true`)).status, 200);
    const file = sql(`SELECT file_name FROM templates WHERE id = ${id}`)[0][0];
    res = await client.api('DELETE', `/templates/${id}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(existsSync(`${STATE}/pool/templates/${file}`), false);
  });

  test('vmdk is converted to qcow2; raw stays raw', async () => {
    const vmdk = join(dir, 'disk.vmdk');
    qemuImg('convert', '-q', '-f', 'qcow2', '-O', 'vmdk', QCOW2, vmdk);
    let job = await importFile(admin, vmdk, { filename: 'disk.vmdk', kind: 'template', format: 'vmdk', name: 'from vmdk' });
    assert.equal(job.state, 'succeeded', job.message);
    let t = (await admin.api('GET', `/templates/${job.result.template_id}`)).body.data;
    assert.equal(t.format, 'qcow2');
    assert.equal(t.visibility, 'public', 'an admin\'s upload is public by default');
    const file = sql(`SELECT file_name FROM templates WHERE id = ${t.id}`)[0][0];
    assert.equal(JSON.parse(qemuImg('info', '--output=json', `${STATE}/pool/templates/${file}`)).format, 'qcow2');
    assert.equal((await admin.api('DELETE', `/templates/${t.id}`)).status, 200);

    const raw = join(dir, 'disk.raw');
    qemuImg('convert', '-q', '-f', 'qcow2', '-O', 'raw', QCOW2, raw);
    job = await importFile(admin, raw, { filename: 'disk.img', kind: 'template', format: 'raw', arch: 'aarch64' });
    assert.equal(job.state, 'succeeded', job.message);
    t = (await admin.api('GET', `/templates/${job.result.template_id}`)).body.data;
    assert.equal(t.format, 'raw');
    assert.equal(t.arch, 'aarch64');
    assert.equal(t.name, 'disk.img');
    assert.equal((await admin.api('DELETE', `/templates/${t.id}`)).status, 200);
  });

  test('an OVA gives its name, vCPUs, memory and disk from the OVF', async () => {
    const ova = join(dir, 'ova');
    execFileSync('mkdir', ['-p', ova]);
    qemuImg('convert', '-q', '-f', 'qcow2', '-O', 'vmdk', '-o', 'subformat=streamOptimized', QCOW2, join(ova, 'appliance-disk1.vmdk'));
    writeFileSync(join(ova, 'appliance.ovf'), `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:id="file1" ovf:href="appliance-disk1.vmdk"/></References>
  <DiskSection><Info>Disks</Info>
    <Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="33554432"
      ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <VirtualSystem ovf:id="appliance"><Info>A VM</Info><Name>Busybox appliance</Name>
    <VirtualHardwareSection><Info>hw</Info>
      <Item><rasd:ElementName>2 CPUs</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>256 MB</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>256</rasd:VirtualQuantity></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`);
    const file = join(dir, 'appliance.ova');
    execFileSync('tar', ['-cf', file, '-C', ova, 'appliance.ovf', 'appliance-disk1.vmdk']);
    let job = await importFile(admin, file, { filename: 'appliance.ova', kind: 'template', format: 'ova' });
    assert.equal(job.state, 'succeeded', job.message);
    const t = (await admin.api('GET', `/templates/${job.result.template_id}`)).body.data;
    assert.equal(t.name, 'Busybox appliance');
    assert.equal(t.min_vcpus, 2);
    assert.equal(t.min_memory_mb, 256);
    assert.equal(t.format, 'qcow2');
    assert.equal((await admin.api('DELETE', `/templates/${t.id}`)).status, 200);

    const bare = join(dir, 'bare.ova');
    execFileSync('tar', ['-cf', bare, '-C', ova, 'appliance-disk1.vmdk']);
    job = await importFile(admin, bare, { filename: 'bare.ova', kind: 'template', format: 'ova' });
    assertRefused(job, /no OVF descriptor/);
  });

  test('bad templates are refused and leave nothing: backing file, wrong format, truncated vmdk', async () => {
    const count = () => sql('SELECT COUNT(*) FROM templates')[0][0];
    const files = () => execFileSync('ls', [`${STATE}/pool/templates`], { encoding: 'utf8' });
    const before_ = [count(), files()];

    const overlay = join(dir, 'overlay.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', '-b', '/etc/passwd', '-F', 'raw', overlay, '32M');
    assertRefused(await importFile(admin, overlay, { filename: 'o.qcow2', kind: 'template', format: 'qcow2' }),
      /backing file/);

    assertRefused(await importFile(admin, QCOW2, { filename: 'x.img', kind: 'template', format: 'raw' }),
      /is qcow2, not raw/);
    const text = join(dir, 'text.qcow2');
    writeFileSync(text, 'hello\n'.repeat(1000));
    assertRefused(await importFile(admin, text, { filename: 'text.qcow2', kind: 'template', format: 'qcow2' }),
      /is raw, not qcow2/);

    const vmdk = join(dir, 'cut.vmdk');
    qemuImg('convert', '-q', '-f', 'qcow2', '-O', 'vmdk', QCOW2, vmdk);
    truncateSync(vmdk, Math.floor(statSync(vmdk).size / 2));
    assertRefused(await importFile(admin, vmdk, { filename: 'cut.vmdk', kind: 'template', format: 'vmdk' }),
      /truncated or damaged|cannot read/);

    assert.deepEqual([count(), files()], before_, 'no row, no file');
    assert.equal(sql("SELECT COUNT(*) FROM uploads WHERE state = 'importing'")[0][0], '0');
  });
});

describe('the detail pages', () => {
  test('a template\'s page shows it and its owner edits it by form; the ISO page shows its checksums', async () => {
    const owner = await userClient(admin);
    const other = await userClient(admin);
    const tag = uniqueName('page');
    sql(`INSERT INTO templates (name, file_name, virtual_size_bytes, description, visibility, owner_id)
         VALUES (${q(tag)}, ${q(`${tag}.qcow2`)}, ${2 ** 30}, 'old', 'private', ${owner.user.id})`);
    const tid = Number(sql(`SELECT id FROM templates WHERE file_name = ${q(`${tag}.qcow2`)}`)[0][0]);
    const sha = 'ab'.repeat(32);
    sql(`INSERT INTO isos (name, file_name, size_bytes, md5, sha256, visibility, owner_id)
         VALUES (${q(tag)}, ${q(`${tag}.iso`)}, 2048, ${q('cd'.repeat(16))}, ${q(sha)}, 'private', ${owner.user.id})`);
    const iid = Number(sql(`SELECT id FROM isos WHERE file_name = ${q(`${tag}.iso`)}`)[0][0]);
    try {
      const page = await owner.client.page(`/templates/${tid}`);
      assert.equal(page.status, 200);
      assert.match(page.text, new RegExp(`<h1>[^<]*${tag}</h1>`));
      assert.match(page.text, /id="edit-template"/);
      assert.ok(!page.text.includes('name="visibility"'), 'only admins publish');
      assert.match((await owner.client.page('/templates')).text, new RegExp(`href="/templates/${tid}"`));

      await owner.client.page(`/templates/${tid}`);
      let res = await owner.client.postForm(`/templates/${tid}`, {
        name: '新模板', category: 'linux', os: 'Debian 12', min_vcpus: '2', min_memory_mb: '512',
        min_disk_gb: '3', description: '说明',
      });
      assert.equal(res.status, 303, res.text.slice(0, 300));
      assert.equal(res.location, `/templates/${tid}`);
      const t = (await owner.client.api('GET', `/templates/${tid}`)).body.data;
      assert.deepEqual([t.name, t.category, t.os, t.min_vcpus, t.min_memory_mb, t.min_disk_gb, t.description],
        ['新模板', 'linux', 'Debian 12', 2, 512, 3, '说明']);
      // The change history has before and after, and nothing of the page's own.
      const changes = JSON.parse(sql(`SELECT changes FROM audit_log WHERE action = 'template.update'
        AND target_id = ${tid} ORDER BY id DESC LIMIT 1`)[0][0]);
      assert.deepEqual(changes.name, { before: tag, after: '新模板' });
      assert.deepEqual(changes.min_vcpus, { before: 1, after: 2 });
      assert.equal(changes.may_edit, undefined);

      // A bad value: the page again, with the error and what was typed.
      await owner.client.page(`/templates/${tid}`);
      res = await owner.client.postForm(`/templates/${tid}`, { name: '新模板', min_vcpus: '0' });
      assert.equal(res.status, 400);
      assert.match(res.text, /id="error"/);
      assert.equal((await owner.client.api('GET', `/templates/${tid}`)).body.data.min_vcpus, 2);

      // Someone else's private template and ISO do not exist for them.
      assert.equal((await other.client.page(`/templates/${tid}`)).status, 404);
      await other.client.page('/templates');
      assert.equal((await other.client.postForm(`/templates/${tid}`, { name: 'stolen' })).status, 404);
      assert.equal((await other.client.page(`/isos/${iid}`)).status, 404);

      const iso = await owner.client.page(`/isos/${iid}`);
      assert.equal(iso.status, 200);
      assert.match(iso.text, new RegExp(`<code id="sha256" title="${sha}">${sha}</code>`));
      assert.match((await owner.client.page('/isos')).text, new RegExp(`href="/isos/${iid}"`));
    } finally {
      sql(`DELETE FROM templates WHERE id = ${tid}`);
      sql(`DELETE FROM isos WHERE id = ${iid}`);
    }
  });
});
