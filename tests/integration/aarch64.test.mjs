// aarch64 guests (issue 18): images carry their architecture (an ISO's is
// detected from its boot entries), the form and the API offer only what
// the host runs, and an aarch64 VM made through the API boots on the
// `virt` machine under UEFI and TCG to the test guest's ready marker
// (tests/images/build-aarch64, the same markers as the x86_64 guest, on
// ttyAMA0) and goes through every action, each checked on its serial
// console.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  adminClient, assertError, countOf, createVmDone, dataOf, domainOf, jobEnded, jobOf, restartHelper,
  serialLog, sql, STATE, userClient, virsh, waitFor,
} from './lib.mjs';
import { importFile } from './tus.mjs';
import { guestShell } from './guest-shell.mjs';

const IMAGES = new URL('../../var/images/', import.meta.url).pathname;
// TCG emulating arm64 on a shared 2-core machine: UEFI and the kernel take
// ~11 s alone, several times that when the machine is busy.
const BOOT_MS = 240_000;

let admin;
let owner; // { client, user }
let other;
let templateId;
let work;
const cleanup = [];

/** A tiny ISO whose only boot loader is EFI/BOOT/BOOTAA64.EFI (what arm64 installers carry). */
function arm64Iso() {
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'EFI/BOOT'), { recursive: true });
  writeFileSync(join(tree, 'EFI/BOOT/BOOTAA64.EFI'), 'not really a loader');
  const iso = join(work, 'arm64.iso');
  execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-V', 'ARM64_TEST', '-o', iso, tree],
    { stdio: 'ignore' });
  return iso;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'vmm-aarch64-'));
  admin = await adminClient();
  owner = await userClient(admin);
  other = await userClient(admin);
  // The uploader names the template's architecture.
  const made = await importFile(owner.client, join(IMAGES, 'vmm-test-aarch64.qcow2'), {
    kind: 'template', format: 'qcow2', arch: 'aarch64', filename: 'vmm-test-aarch64.qcow2',
    name: 'arm64 测试', os: 'Debian arm64 + busybox',
  });
  templateId = made.template_id;
});

after(async () => {
  for (const id of cleanup) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
  rmSync(work, { recursive: true, force: true });
});

describe('images carry an architecture', () => {
  test('a template keeps the one its uploader named, and is found by it', async () => {
    const t = dataOf(await owner.client.api('GET', `/templates/${templateId}`));
    assert.equal(t.arch, 'aarch64');
    const arm = dataOf(await owner.client.api('GET', '/templates?arch=aarch64')).map((x) => x.id);
    const x86 = dataOf(await owner.client.api('GET', '/templates?arch=x86_64')).map((x) => x.id);
    assert.ok(arm.includes(templateId));
    assert.ok(!x86.includes(templateId));
  });

  test("an ISO's is detected from its boot loaders and El Torito entries; its uploader may correct it", async () => {
    const arm = await importFile(owner.client, arm64Iso(), { kind: 'iso', filename: 'debian-arm64.iso' });
    const x86 = await importFile(owner.client, join(IMAGES, 'vmm-test-installer.iso'),
      { kind: 'iso', filename: 'installer.iso' });
    assert.equal(dataOf(await owner.client.api('GET', `/isos/${arm.iso_id}`)).arch, 'aarch64');
    assert.equal(dataOf(await owner.client.api('GET', `/isos/${x86.iso_id}`)).arch, 'x86_64',
      'isolinux boots through a BIOS El Torito entry');
    const listed = dataOf(await owner.client.api('GET', '/isos?arch=aarch64')).map((i) => i.id);
    assert.ok(listed.includes(arm.iso_id));
    assert.ok(!listed.includes(x86.iso_id));
    assertError(await owner.client.api('GET', '/isos?arch=sparc'), 400, 'invalid_parameter');

    // Named at upload, it is not guessed.
    const named = await importFile(owner.client, arm64Iso(), { kind: 'iso', filename: 'b.iso', arch: 'x86_64' });
    assert.equal(dataOf(await owner.client.api('GET', `/isos/${named.iso_id}`)).arch, 'x86_64');

    // Its uploader (and an admin) set it; others cannot even see the ISO.
    let r = await owner.client.api('PATCH', `/isos/${named.iso_id}`, { arch: 'aarch64' });
    assert.equal(r.status, 200, r.text);
    assert.equal(dataOf(r).arch, 'aarch64');
    assertError(await owner.client.api('PATCH', `/isos/${named.iso_id}`, { arch: 'mips' }), 400, 'invalid_choice');
    assertError(await other.client.api('PATCH', `/isos/${named.iso_id}`, { arch: 'x86_64' }), 404, 'not_found');
    r = await admin.api('PATCH', `/isos/${named.iso_id}`, { arch: 'x86_64' });
    assert.equal(dataOf(r).arch, 'x86_64');
    const page = await owner.client.page(`/isos/${arm.iso_id}`);
    assert.match(page.text, /<td id="arch">aarch64<\/td>/);

    // An ISO and a template of different architectures make no VM.
    const before = sql('SELECT COUNT(*) FROM vms')[0][0];
    const mixed = await owner.client.api('POST', '/vms', {
      name: 'mixed', template_id: templateId, iso_id: x86.iso_id, vcpus: 1, memory_mb: 256,
    });
    assertError(mixed, 422, 'arch_mismatch');
    assertError(await owner.client.api('POST', '/vms', {
      name: 'named', template_id: templateId, arch: 'x86_64', vcpus: 1, memory_mb: 256,
    }), 422, 'arch_mismatch');
    assertError(await owner.client.api('POST', '/vms', {
      name: 'x86 cpu', template_id: templateId, cpu_model: 'qemu64', vcpus: 1, memory_mb: 256,
    }), 422, 'arch_mismatch');
    assert.equal(sql('SELECT COUNT(*) FROM vms')[0][0], before, 'nothing was made');
    for (const id of [arm.iso_id, x86.iso_id, named.iso_id]) await owner.client.api('DELETE', `/isos/${id}`);
  });
});

describe('an aarch64 VM', () => {
  test('boots under UEFI on virt (TCG) and goes through every action, seen on its serial console', async () => {
    const { client } = owner;
    // The form offers it, with its architecture.
    const form = await client.page('/vms/new');
    assert.match(form.text, /arm64 测试 \(Debian arm64 \+ busybox, aarch64\)/);

    const t0 = Date.now();
    const made = await createVmDone(client, { name: 'arm64 测试机', template_id: templateId, vcpus: 1,
      memory_mb: 256, disk_gb: 1 });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.job.state, 'succeeded', made.job.message);
    const vm = made.vm;
    cleanup.push(vm.id);
    assert.equal(vm.arch, 'aarch64');
    assert.equal(vm.state, 'running');
    const domain = domainOf(vm.id);
    const xml = virsh('dumpxml', domain);
    assert.match(xml, /<domain type='qemu'/, 'TCG: KVM does not run another architecture');
    assert.match(xml, /<type arch='aarch64' machine='virt[^']*'>hvm<\/type>/);
    assert.match(xml, /<loader [^>]*type='pflash'[^>]*>\/usr\/share\/AAVMF\/AAVMF_CODE\.fd</);
    assert.match(xml, /<model fallback='forbid'>cortex-a57<\/model>|<model>cortex-a57<\/model>/);
    assert.match(xml, /<emulator>\/usr\/bin\/qemu-system-aarch64<\/emulator>/);
    assert.match(xml, /<disk type='file' device='disk'>[\s\S]*?<target dev='vda' bus='virtio'\/>/);
    const log = () => serialLog(domain);

    await waitFor(() => log().includes('VMM-TEST: ready'), BOOT_MS, 500);
    console.log(`# aarch64 guest ready ${((Date.now() - t0) / 1000).toFixed(1)} s after POST /vms`);
    assert.match(log(), /EFI stub: Booting Linux Kernel/, 'booted by the UEFI firmware');
    assert.match(log(), /VMM-TEST: boot ok/);
    assert.match(await guestShell(domain, 'uname -m'), /aarch64/);

    // Pause and resume: the guest's shell answers again afterwards.
    let r = await client.api('POST', `/vms/${vm.id}/pause`);
    assert.equal(dataOf(r).state, 'paused', r.text);
    assert.equal(virsh('domstate', domain).trim(), 'paused');
    r = await client.api('POST', `/vms/${vm.id}/resume`);
    assert.equal(dataOf(r).state, 'running', r.text);
    assert.match(await guestShell(domain, 'echo resumed-$((40+2))'), /resumed-42/);

    // Graceful reboot: the ACPI power button, then libvirt starts it again
    // in the same QEMU (the log goes on); forced reboot: a reset.
    r = await client.api('POST', `/vms/${vm.id}/reboot`, { mode: 'graceful' });
    assert.equal(r.status, 200, r.text);
    await waitFor(() => countOf(log(), 'VMM-TEST: ready') === 2, BOOT_MS, 500);
    assert.equal(countOf(log(), 'VMM-TEST: shutdown'), 1, 'the guest saw the power button');
    r = await client.api('POST', `/vms/${vm.id}/reboot`, { mode: 'force' });
    assert.equal(r.status, 200, r.text);
    await waitFor(() => countOf(log(), 'VMM-TEST: ready') === 3, BOOT_MS, 500);
    assert.equal(countOf(log(), 'VMM-TEST: shutdown'), 1, 'a reset is not a shutdown');

    // Graceful stop: the guest powers itself off.
    r = await client.api('POST', `/vms/${vm.id}/stop`, { timeout: 120 });
    assert.ok([200, 202].includes(r.status), r.text);
    if (r.status === 202) assert.equal((await jobEnded(client, jobOf(r).id)).state, 'succeeded');
    await waitFor(async () => dataOf(await client.api('GET', `/vms/${vm.id}`)).state === 'stopped', 30_000, 200);
    assert.equal(countOf(log(), 'VMM-TEST: shutdown'), 2);
    assert.doesNotMatch(await (await client.api('GET', `/vms/${vm.id}`)).text, /forced off/);
    assert.equal(virsh('domstate', domain).trim(), 'shut off');

    // Start (a fresh console log), then a forced stop: no shutdown marker.
    r = await client.api('POST', `/vms/${vm.id}/start`);
    assert.equal(dataOf(r).state, 'running', r.text);
    await waitFor(() => log().includes('VMM-TEST: ready'), BOOT_MS, 500);
    r = await client.api('POST', `/vms/${vm.id}/stop`, { force: true });
    assert.equal(dataOf(r).state, 'stopped', r.text);
    assert.doesNotMatch(log(), /VMM-TEST: shutdown/);

    // Suspend to disk (the UEFI variables stay beside it) and wake up: the
    // same boot goes on.
    r = await client.api('POST', `/vms/${vm.id}/start`);
    await waitFor(() => log().includes('VMM-TEST: ready'), BOOT_MS, 500);
    assert.match(await guestShell(domain, 'echo before > /tmp/mark; cat /tmp/mark'), /before/);
    r = await client.api('POST', `/vms/${vm.id}/suspend`);
    assert.equal(dataOf(r).state, 'suspended', r.text);
    assert.match(virsh('dominfo', domain), /Managed save:\s+yes/);
    r = await client.api('POST', `/vms/${vm.id}/wakeup`);
    assert.equal(dataOf(r).state, 'running', r.text);
    assert.match(await guestShell(domain, 'cat /tmp/mark'), /before/, 'the memory came back');

    // Delete: the domain, its disk and its UEFI variables are gone.
    // (libvirt 9.0 picks the firmware at start: the live definition names it.)
    const nvram = (virsh('dumpxml', domain).match(/<nvram[^>]*>([^<]+)<\/nvram>/) || [])[1];
    assert.ok(nvram && existsSync(nvram), 'a UEFI guest has its own variables');
    r = await client.api('DELETE', `/vms/${vm.id}?delete_disks=true`);
    assert.equal(r.status, 200, r.text);
    assert.ok(!virsh('list', '--all', '--name').split('\n').includes(domain));
    assert.ok(!existsSync(`${STATE}/pool/disks/${domain}.qcow2`));
    assert.ok(!existsSync(nvram));
    cleanup.pop();
  });
});

describe('a host without aarch64', () => {
  // libvirt's test driver stands for it: its capabilities have no aarch64.
  before(async () => restartHelper({ VMM_HELPER_LIBVIRT_URI: 'test:///default' }));
  after(async () => restartHelper({}));

  test('the form does not offer aarch64 images and the API refuses them, making nothing', async () => {
    const form = await owner.client.page('/vms/new');
    assert.equal(form.status, 200);
    assert.doesNotMatch(form.text, /arm64 测试/);
    const before = sql('SELECT COUNT(*) FROM vms')[0][0];
    const r = await owner.client.api('POST', '/vms', { name: 'arm', template_id: templateId, vcpus: 1,
      memory_mb: 256, disk_gb: 1 });
    assertError(r, 422, 'arch_unsupported');
    assert.match(r.body.error.message, /aarch64/);
    assert.equal(sql('SELECT COUNT(*) FROM vms')[0][0], before);
  });
});
