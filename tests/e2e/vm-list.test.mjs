// The VM list (issue 15), in a real browser: empty states that say why,
// search and filters that stay put, sorting by column, paging, and batch
// actions with a result per VM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BASE, adminClient, dataOf, deleteVmsOf, demoVmDone, launchBrowser, loggedInPage, userClient,
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

const WIDE = { viewport: { width: 1366, height: 900 } };

const names = async (page) => page.$$eval('#vms tbody tr[data-id] td:nth-child(2) a', (as) => as.map((a) => a.textContent));

test('the list: empty states, search kept, sorting, paging, batch actions', async () => {
  const { context, page } = await loggedInPage(browser, user.username, user.password, WIDE);
  try {
    await page.goto(`${BASE}/vms`);
    assert.match(await page.textContent('#vms-empty'), /No virtual machines yet/);
    assert.equal(await page.locator('#vms-empty a[href="/vms/new"]').count(), 1);

    const ids = {};
    for (const name of ['alpha', 'beta', 'gamma']) {
      ids[name] = (await demoVmDone(api, { name })).id;
    }

    await page.goto(`${BASE}/vms`);
    await page.fill('#vm-q', 'alp');
    await page.selectOption('#vm-state', 'stopped');
    await Promise.all([page.waitForURL(/q=alp/), page.click('#vm-filters button[type=submit]')]);
    assert.deepEqual(await names(page), ['alpha']);
    assert.equal(await page.inputValue('#vm-q'), 'alp');
    assert.equal(await page.inputValue('#vm-state'), 'stopped');
    // Every state can be chosen, the transitional ones too.
    const states = await page.$$eval('#vm-state option', (os) => os.map((o) => o.value));
    for (const s of ['creating', 'running', 'error', 'starting', 'stopping', 'deleting']) assert.ok(states.includes(s), s);

    await page.goto(`${BASE}/vms?q=zzz`);
    assert.match(await page.textContent('#vms-empty'), /No virtual machine matches this search/);

    await page.goto(`${BASE}/vms`);
    await page.click('#vms th a:text("Name")');
    assert.deepEqual(await names(page), ['alpha', 'beta', 'gamma']);
    await page.click('#vms th a:text("Name")');
    assert.deepEqual(await names(page), ['gamma', 'beta', 'alpha']);
    assert.equal(await page.getAttribute('#vms th[aria-sort]', 'aria-sort'), 'descending');

    await page.goto(`${BASE}/vms?per_page=2&sort=name`);
    assert.deepEqual(await names(page), ['alpha', 'beta']);
    await page.click('.pager a[rel=next]');
    assert.deepEqual(await names(page), ['gamma']);

    // Batch: start two, a result for each; then force them off.
    await page.goto(`${BASE}/vms?sort=name`);
    await page.check(`#pick-${ids.alpha}`);
    await page.check(`#pick-${ids.beta}`);
    await page.selectOption('#batch-action', 'start');
    await Promise.all([page.waitForURL(`${BASE}/vms/batch`), page.click('#batch-run')]);
    const rows = await page.$$eval('#batch-results tbody tr', (trs) => trs.map((tr) => tr.textContent.replace(/\s+/g, ' ').trim()));
    assert.deepEqual(rows, ['alpha Done', 'beta Done']);
    await page.screenshot({ path: join(OUT, 'e2e-vms-batch.png'), fullPage: true });
    assert.equal(dataOf(await api.api('GET', `/vms/${ids.alpha}`)).state, 'running');

    await page.goto(`${BASE}/vms?sort=name`);
    await page.check(`#pick-${ids.alpha}`);
    await page.check(`#pick-${ids.gamma}`);
    await page.selectOption('#batch-action', 'stop');
    await page.check('#batch-force');
    await Promise.all([page.waitForURL(`${BASE}/vms/batch`), page.click('#batch-run')]);
    const after = await page.$$eval('#batch-results tbody tr', (trs) => trs.map((tr) => tr.className));
    // gamma was not running: its own failure, alpha's success.
    assert.deepEqual(after, ['batch-ok', 'batch-failed']);
    assert.match(await page.textContent(`#batch-results tr[data-id="${ids.gamma}"]`), /Failed/);
    await page.screenshot({ path: join(OUT, 'e2e-vms-batch-mixed.png'), fullPage: true });

    // 400 px: no horizontal scrolling.
    await page.setViewportSize({ width: 400, height: 800 });
    await page.goto(`${BASE}/vms`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the list is ${overflow} px too wide at 400 px`);
    await page.screenshot({ path: join(OUT, 'e2e-vms-400.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

test('the create form: name focused, the guide\'s defaults, a failed submit keeps what was typed', async () => {
  const { context, page } = await loggedInPage(browser, user.username, user.password, WIDE);
  try {
    await page.goto(`${BASE}/vms/new`);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'name');
    await page.selectOption('#template_id', { label: 'Demo (busybox) (Debian kernel + busybox, x86_64)' });
    assert.equal(await page.inputValue('#vcpus'), '2');
    assert.equal(await page.inputValue('#memory_mb'), '2048');
    assert.equal(await page.inputValue('#disk_gb'), '20');
    assert.equal(await page.isChecked('#clone-linked'), true);
    await page.fill('#name', 'too-big');
    await page.check('#clone-full');
    // Within the form's max (the VM size limits, 32 GiB by default) and
    // more than this host has (24 GiB).
    await page.fill('#memory_mb', '32768');
    await page.click('#new-vm-form button[type=submit]');
    await page.waitForSelector('#error');
    assert.equal(await page.inputValue('#name'), 'too-big');
    assert.equal(await page.inputValue('#memory_mb'), '32768');
    assert.equal(await page.isChecked('#clone-full'), true);
    assert.match(await page.inputValue('#template_id'), /^\d+$/);
    await page.screenshot({ path: join(OUT, 'e2e-vm-new-error.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

