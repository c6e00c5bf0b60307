// The create form's maximum memory (room for hot-add) and CPU model
// (issue 17), in a real browser: a VM made with them has both in libvirt's
// definition; a maximum below the memory gets the API's own 422 on the
// page and makes nothing; the form speaks Chinese too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BASE, adminClient, dataOf, deleteVmsOf, demoTemplateId, domainOf, jobEnded, launchBrowser, loggedInPage, sql,
  userClient, virsh,
} from '../integration/lib.mjs';

const OUT = process.env.VMM_TEST_OUTPUT || new URL('../../test-output', import.meta.url).pathname;

let browser;
let user;
let api;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  user = await userClient(await adminClient());
  api = user.client;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await deleteVmsOf(user.user.id);
});

const TALL = { viewport: { width: 1280, height: 1100 } };

const vmsOf = () => sql(`SELECT id FROM vms WHERE owner_id = ${user.user.id}`).map(([id]) => Number(id));

test('a VM made on the form with a maximum memory and a CPU model has both', async () => {
  const { context, page } = await loggedInPage(browser, user.username, user.password, TALL);
  try {
    await page.goto(`${BASE}/vms/new`);
    const models = await page.$$eval('#cpu_model option', (os) => os.map((o) => o.value));
    assert.deepEqual(models.slice(0, 2), ['host-model', 'host-passthrough']);
    assert.equal(await page.inputValue('#cpu_model'), 'host-model', 'the default');
    // A named model where libvirt offers one here, else the other host mode.
    const model = models.find((m) => !m.startsWith('host-')) || 'host-passthrough';
    const fill = async (name, max) => {
      await page.fill('#name', name);
      await page.selectOption('#template_id', String(demoTemplateId()));
      await page.fill('#vcpus', '1');
      await page.fill('#memory_mb', '256');
      await page.fill('#max_memory_mb', max);
      await page.fill('#disk_gb', '1');
      await page.selectOption('#cpu_model', model);
      await page.uncheck('#new-vm-form input[name=start]');
    };

    // Below the memory: the API's check, said on the page; nothing made.
    await fill('formbad', '128');
    await page.click('#new-vm-form button[type=submit]');
    await page.waitForSelector('#error');
    assert.match(await page.textContent('#error'), /max_memory_mb must be at least memory_mb \(256\)/);
    assert.deepEqual(vmsOf(), []);

    await page.goto(`${BASE}/vms/new`);
    await fill('formhw', '768');
    await page.screenshot({ path: join(OUT, 'vm-new-hardware.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/vms\/\d+$/), page.click('#new-vm-form button[type=submit]')]);
    const id = Number(page.url().match(/\/vms\/(\d+)$/)[1]);
    const job = sql(`SELECT id FROM jobs WHERE vm_id = ${id} AND kind = 'vm.create'`)[0][0];
    assert.equal((await jobEnded(api, Number(job))).state, 'succeeded');
    const vm = dataOf(await api.api('GET', `/vms/${id}`));
    assert.equal(vm.memory_mb, 256);
    assert.equal(vm.max_memory_mb, 768);
    assert.equal(vm.cpu_model, model);
    const xml = virsh('dumpxml', '--inactive', domainOf(id));
    assert.match(xml, /<maxMemory [^>]*>786432<\/maxMemory>/, 'room for hot-add in the definition');
    assert.match(xml, model.startsWith('host-') ? new RegExp(`<cpu mode='${model}'`) : new RegExp(`<model[^>]*>${model}</model>`));
  } finally {
    await context.close();
  }
});

test('the form in Chinese', async () => {
  const { context, page } = await loggedInPage(browser, user.username, user.password, { ...TALL, locale: 'zh-CN' });
  try {
    await page.goto(`${BASE}/vms/new`);
    assert.equal((await page.textContent('label[for=max_memory_mb]')).trim(), '最大内存（MiB）');
    assert.match(await page.textContent('#max-memory-help'), /128 MiB/);
    assert.match(await page.textContent('#cpu-model-help'), /host-model 复制主机的 CPU/);
    await page.screenshot({ path: join(OUT, 'vm-new-hardware-zh.png'), fullPage: true });
  } finally {
    await context.close();
  }
});
