// Readable and safe (issue 15), in a real browser and in both languages:
// the audit log and a VM's history in words with details as label/value
// pairs; the VM page's reason of an `error` state, recent tasks and
// history; the list's batch delete (the machines named, their number typed
// when the disks go, a result per VM); and the VM size limits an admin sets
// in the settings, which the create form follows and the API enforces.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ADMIN_PASSWORD, ADMIN_USER, BASE, Client, adminClient, assertError, createUser, createVmDone, dataOf,
  deleteVmsOf, demoTemplateId, demoVmDone, insertVmRow, launchBrowser, loggedInPage, sql, stopVmForced,
  uniqueName, userClient,
} from '../integration/lib.mjs';

const OUT = process.env.VMM_TEST_OUTPUT || new URL('../../test-output', import.meta.url).pathname;
const ZH = { headers: { 'Accept-Language': 'zh-CN' } };

let browser;
let admin;
let user;
let api;
let limitsBefore;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  admin = await adminClient();
  user = await userClient(admin);
  api = user.client;
  const settings = dataOf(await admin.api('GET', '/settings'));
  limitsBefore = Object.fromEntries(Object.entries(settings).filter(([k]) => k.startsWith('vm_')));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (limitsBefore) await admin.api('PATCH', '/settings', limitsBefore);
  await deleteVmsOf(user.user.id);
});

const newPage = (username, password, locale) =>
  loggedInPage(browser, username, password, { locale, viewport: { width: 1366, height: 900 } });

const texts = (page, selector) =>
  page.$$eval(selector, (els) => els.map((e) => e.textContent.replace(/\s+/g, ' ').trim()));

test('the audit log, the VM history and the VM page say what happened in words, in both languages', async () => {
  const name = uniqueName('web');
  const vm = await demoVmDone(api, { name });
  const start = await api.api('POST', `/vms/${vm.id}/start`);
  assert.equal(start.status, 200, start.text);
  await stopVmForced(api, vm.id);
  const patch = await api.api('PATCH', `/vms/${vm.id}`, { description: 'front end' });
  assert.equal(patch.status, 200, patch.text);

  // The API carries the same words beside the codes.
  const history = dataOf(await api.api('GET', `/vms/${vm.id}/history`));
  const started = history.find((row) => row.action === 'vm.start');
  assert.equal(started.summary, `started VM ${name}`);
  const zhHistory = dataOf(await api.api('GET', `/vms/${vm.id}/history`, undefined, ZH));
  assert.equal(zhHistory.find((row) => row.action === 'vm.start').summary, `已启动虚拟机 ${name}`);

  for (const [locale, words] of [
    ['en-US', { start: `started VM ${name}`, create: `created VM ${name}`, change: `changed VM ${name}`,
      label: 'Description', task: 'Create virtual machine', history: 'History' }],
    ['zh-CN', { start: `已启动虚拟机 ${name}`, create: `已创建虚拟机 ${name}`, change: `已修改虚拟机 ${name}`,
      label: '描述', task: '创建虚拟机', history: '历史' }],
  ]) {
    const { context, page } = await newPage(user.username, user.password, locale);
    try {
      await page.goto(`${BASE}/audit-logs`);
      const summaries = await texts(page, '#audit .audit-summary');
      for (const phrase of [words.start, words.create, words.change])
        assert.ok(summaries.includes(phrase), `${locale}: ${phrase} in ${JSON.stringify(summaries)}`);
      const table = await page.textContent('#audit');
      assert.doesNotMatch(table, /vm\.start|vm\.create|\{"/, 'no codes, no raw JSON');
      // The change as a label with its before and after; the create's details as pairs.
      const changeRow = page.locator('#audit tbody tr', { hasText: words.change });
      assert.match(await changeRow.locator('.change').first().textContent(),
        new RegExp(`${words.label}: .*→ front end`));
      const createRow = page.locator('#audit tbody tr', { hasText: words.create });
      assert.ok((await createRow.locator('.pairs dt').count()) > 0, 'details are label/value pairs');
      await page.screenshot({ path: join(OUT, `e2e-audit-words-${locale}.png`), fullPage: true });

      await page.goto(`${BASE}/history/vm-operations`);
      assert.ok((await texts(page, '#vm-operations .audit-summary')).includes(words.start));

      // The VM page: its recent tasks and its history, in words.
      await page.goto(`${BASE}/vms/${vm.id}`);
      assert.equal((await page.textContent('#vm-history h2')).trim(), words.history);
      const rows = await texts(page, '#vm-history .audit-summary');
      assert.ok(rows.includes(words.start) && rows.includes(words.create), JSON.stringify(rows));
      assert.match(await page.textContent('#vm-jobs'), new RegExp(words.task));
    } finally {
      await context.close();
    }
  }
});

test('the VM page says why a machine is in error, in the reader language, the raw text behind details', async () => {
  // A row of its own, without a domain: the helper, which writes a real
  // VM's state from libvirt's (a lifecycle event may still come for a new
  // one), leaves the error set here alone.
  const vm = insertVmRow(user.user.id, 'broken');
  // libvirt and QEMU said this (the helper keeps it whole); a long line is
  // never cut mid-word on the page.
  const raw = 'internal error: qemu unexpectedly closed the monitor: 2026-12-02T10:00:00.000000Z ' +
    'qemu-system-x86_64: -blockdev {"driver":"file","filename":"/var/lib/vmmanager/disks/vmm-0a1b2c3d.qcow2"}: ' +
    'Could not open \'/var/lib/vmmanager/disks/vmm-0a1b2c3d.qcow2\': No such file or directory';
  sql(`UPDATE vms SET state = 'error', error_reason = NULL, error_detail = '${raw.replace(/'/g, "''")}' WHERE id = ${vm.id}`);
  try {
    const shown = dataOf(await api.api('GET', `/vms/${vm.id}`));
    assert.equal(shown.state, 'error');
    assert.equal(shown.state_error.reason, 'disk_missing');
    assert.equal(shown.state_error.detail, raw);
    for (const [locale, message] of [
      ['en-US', 'A disk or image this machine needs is missing on the host.'],
      ['zh-CN', '主机上缺少此虚拟机所需的磁盘或镜像。'],
    ]) {
      const { context, page } = await newPage(user.username, user.password, locale);
      try {
        await page.goto(`${BASE}/vms/${vm.id}`);
        assert.equal((await page.textContent('#error-reason .error-message')).trim(), message);
        assert.equal(await page.isVisible('#error-detail pre'), false, 'the raw text waits behind details');
        await page.click('#error-detail summary');
        assert.equal((await page.textContent('#error-detail pre')).trim(), raw, 'whole, not cut');
        await page.screenshot({ path: join(OUT, `e2e-vm-error-${locale}.png`), fullPage: true });
      } finally {
        await context.close();
      }
    }
    // A reason the helper named is shown as it named it.
    sql(`UPDATE vms SET error_reason = 'kvm_failed' WHERE id = ${vm.id}`);
    const zh = dataOf(await api.api('GET', `/vms/${vm.id}`, undefined, ZH));
    assert.equal(zh.state_error.message, 'KVM（硬件加速）无法在其主机上运行此虚拟机。');
    sql(`UPDATE vms SET state = 'stopped', error_reason = NULL, error_detail = NULL WHERE id = ${vm.id}`);
    assert.equal(dataOf(await api.api('GET', `/vms/${vm.id}`)).state_error, null);
  } finally {
    vm.remove();
  }
});

test('batch delete names the machines, takes their number typed when the disks go, and reports each', async () => {
  const a = await demoVmDone(api, { name: uniqueName('gone-a') });
  const b = await demoVmDone(api, { name: uniqueName('gone-b') });
  const keep = await demoVmDone(api, { name: uniqueName('keep') });
  const other = await createUser(admin);
  const otherApi = new Client(other.username);
  await otherApi.loginOk(other.username, other.password);
  const theirs = await demoVmDone(otherApi, { name: uniqueName('theirs') });

  const { context, page } = await newPage(user.username, user.password, 'zh-CN');
  try {
    await page.goto(`${BASE}/vms`);
    await page.check(`#pick-${a.id}`);
    await page.check(`#pick-${b.id}`);
    await page.selectOption('#batch-action', 'delete');
    await Promise.all([page.waitForURL(`${BASE}/vms/batch`), page.click('#batch-run')]);
    // Asked first: both named, nothing gone yet.
    assert.equal((await page.textContent('#batch-confirm h2')).trim(), '删除这些虚拟机？');
    const named = await texts(page, '#batch-confirm-names li strong');
    assert.deepEqual(named.sort(), [a.name, b.name].sort());
    assert.equal(sql(`SELECT COUNT(*) FROM vms WHERE id IN (${a.id}, ${b.id})`)[0][0], '2');
    const button = '#batch-delete-button';
    assert.equal(await page.isDisabled(button), true);
    await page.fill('#batch-confirm-count', '3');
    assert.equal(await page.isDisabled(button), true);
    await page.fill('#batch-confirm-count', '2');
    assert.equal(await page.isDisabled(button), false);
    await page.screenshot({ path: join(OUT, 'e2e-batch-delete-confirm-zh.png'), fullPage: true });
    await Promise.all([page.waitForURL(`${BASE}/vms/batch`), page.click(button)]);
    const results = await texts(page, '#batch-results tbody tr');
    assert.equal(results.length, 2);
    for (const row of results) assert.match(row, /已删除/);
    assert.equal(sql(`SELECT COUNT(*) FROM vms WHERE id IN (${a.id}, ${b.id})`)[0][0], '0');
    await page.screenshot({ path: join(OUT, 'e2e-batch-delete-done-zh.png'), fullPage: true });
  } finally {
    await context.close();
  }

  // The server checks the typed number too, whatever the page's script does.
  await api.page('/vms');
  const refused = await api.postForm('/vms/batch', { action: 'delete', ids: String(keep.id),
    confirmed: 'true', delete_disks: 'true', confirm_name: '7' });
  assert.equal(refused.status, 422);
  assert.equal(sql(`SELECT COUNT(*) FROM vms WHERE id = ${keep.id}`)[0][0], '1');

  // The API: a result per VM; someone else's machine is not found and stays.
  const res = await api.api('POST', '/vms/batch', { action: 'delete', ids: [keep.id, theirs.id],
    delete_disks: true });
  assert.equal(res.status, 200, res.text);
  const byId = Object.fromEntries(dataOf(res).map((r) => [r.id, r]));
  assert.equal(byId[keep.id].ok, true);
  assert.equal(byId[keep.id].deleted, true);
  assert.equal(byId[theirs.id].ok, false);
  assert.equal(byId[theirs.id].error.code, 'not_found');
  assert.equal(sql(`SELECT COUNT(*) FROM vms WHERE id = ${theirs.id}`)[0][0], '1');
  assert.equal(sql(`SELECT COUNT(*) FROM vms WHERE id = ${keep.id}`)[0][0], '0');
  // The audit log names what went.
  const rows = dataOf(await api.api('GET', '/audit-logs?action=vm.batch'));
  const detail = rows[0].detail_list.find((d) => d.key === 'results');
  assert.match(detail.value, new RegExp(`${keep.name}: done`));
  await otherApi.api('DELETE', `/vms/${theirs.id}?delete_disks=true`);
});

test('admins set the VM size limits in the settings; the create form follows them and the API enforces them', async () => {
  const vm = await demoVmDone(api, { name: uniqueName('sized') });
  const { context, page } = await newPage(ADMIN_USER, ADMIN_PASSWORD, 'en-US');
  try {
    await page.goto(`${BASE}/settings`);
    await page.fill('#vm_max_vcpus', '1');
    await page.fill('#vm_min_memory_mb', '96');
    await page.fill('#vm_max_memory_mb', '1024');
    await page.fill('#vm_max_disk_gb', '40');
    await Promise.all([page.waitForURL(`${BASE}/settings`), page.click('#limits-save')]);
    assert.equal((await page.textContent('#flash')).trim(), 'The settings were saved.');
    assert.equal(await page.inputValue('#vm_max_vcpus'), '1');
  } finally {
    await context.close();
  }
  const settings = dataOf(await admin.api('GET', '/settings'));
  assert.equal(settings.vm_max_vcpus, 1);
  assert.equal(settings.vm_max_memory_mb, 1024);
  assert.equal(settings.vm_max_disk_gb, 40);
  assertError(await api.api('PATCH', '/settings', { vm_max_vcpus: 64 }), 403, 'forbidden');
  assertError(await admin.api('PATCH', '/settings', { vm_min_disk_gb: 50 }), 400, 'out_of_range');

  // The create form's fields follow, in both languages.
  for (const locale of ['en-US', 'zh-CN']) {
    const { context: c, page: p } = await newPage(user.username, user.password, locale);
    try {
      await p.goto(`${BASE}/vms/new`);
      assert.equal(await p.getAttribute('#vcpus', 'max'), '1');
      assert.equal(await p.getAttribute('#memory_mb', 'min'), '96');
      assert.equal(await p.getAttribute('#memory_mb', 'max'), '1024');
      assert.equal(await p.getAttribute('#disk_gb', 'max'), '40');
      assert.equal(await p.getAttribute('#iso-vcpus', 'max'), '1');
      assert.ok(Number(await p.inputValue('#memory_mb')) <= 1024, 'the default fits the limits');
      assert.ok(Number(await p.inputValue('#vcpus')) <= 1);
    } finally {
      await c.close();
    }
  }

  // The API refuses what does not fit, naming the limit, before anything is made.
  const before = sql(`SELECT COUNT(*) FROM vms WHERE owner_id = ${user.user.id}`)[0][0];
  const base = { name: uniqueName('big'), template_id: demoTemplateId(), vcpus: 1, memory_mb: 128, disk_gb: 1 };
  let res = await api.api('POST', '/vms', { ...base, vcpus: 2 });
  assertError(res, 400, 'out_of_range');
  assert.equal(res.body.error.field, 'vcpus');
  assert.equal(res.body.error.message, 'vCPUs must be between 1 and 1 (the limits an administrator set).');
  res = await api.api('POST', '/vms', { ...base, memory_mb: 64 }, ZH);
  assertError(res, 400, 'out_of_range');
  assert.equal(res.body.error.message, '内存 (MiB) 必须在 96 到 1024 之间（管理员设定的限制）。');
  assertError(await api.api('POST', '/vms', { ...base, disk_gb: 41 }), 400, 'out_of_range');
  assert.equal(sql(`SELECT COUNT(*) FROM vms WHERE owner_id = ${user.user.id}`)[0][0], before);
  // A change too; a change that keeps the size is not refused for it.
  res = await api.api('PATCH', `/vms/${vm.id}`, { vcpus: 2 });
  assertError(res, 400, 'out_of_range');
  assert.equal(res.body.error.field, 'vcpus');
  assert.equal((await api.api('PATCH', `/vms/${vm.id}`, { description: 'small' })).status, 200);
  assertError(await api.api('PUT', `/vms/${vm.id}/memory`, { memory_mb: 2048 }), 400, 'out_of_range');
  const ok = await createVmDone(api, { ...base, memory_mb: 128 });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.job.state, 'succeeded', ok.job.message);
});
