// Live pages and the task log in a real browser (issue 15): changes made
// elsewhere (here: the API, as another tab or a script would) show within
// 2 s without a reload, and what the user typed stays. Screenshots of the
// task log in both languages and at 400 px go to $VMM_TEST_OUTPUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BASE, adminClient, dataOf, deleteVmsOf, demoTemplateId, jobEnded, jobOf, launchBrowser, loginInBrowser, sql,
  userClient,
} from '../integration/lib.mjs';

const OUT = process.env.VMM_TEST_OUTPUT || new URL('../../test-output', import.meta.url).pathname;
const LIVE_MS = 2000;

let browser;
let user;
let api;
let templateId;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  user = await userClient(await adminClient(), { display_name: 'Live Tester' });
  api = user.client;
  templateId = demoTemplateId();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await deleteVmsOf(user.user.id);
});

async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  await loginInBrowser(page, user.username, user.password);
  return { context, page };
}

/** Marks the document so that a reload (which would drop the mark) is seen. */
async function markDocument(page) {
  await page.evaluate(() => { window.__notReloaded = true; });
}

test('the VM list shows a VM made elsewhere within 2 s, keeping the typed search', async () => {
  const { context, page } = await newPage();
  try {
    await page.goto(`${BASE}/vms`);
    await page.waitForSelector('html[data-live-open]');
    await markDocument(page);
    await page.fill('input[name=q]', 'half-typed');
    const res = await api.api('POST', '/vms', { name: 'live-one', template_id: templateId, vcpus: 1,
      memory_mb: 128, disk_gb: 1, start: false });
    assert.equal(res.status, 201, res.text);
    const vm = dataOf(res);
    await page.waitForSelector(`#vms a[href="/vms/${vm.id}"]`, { timeout: LIVE_MS });
    assert.equal(await page.inputValue('input[name=q]'), 'half-typed');
    assert.equal(await page.evaluate(() => window.__notReloaded), true);
    // Listed at once while `creating`; its creation job makes it (stopped).
    const made = await jobEnded(api, jobOf(res).id);
    assert.equal(made.state, 'succeeded', made.message);

    // The VM's page follows its state: started by the API, it shows running
    // and the actions a running VM has.
    await page.goto(`${BASE}/vms/${vm.id}`);
    await page.waitForSelector('html[data-live-open]');
    await markDocument(page);
    assert.equal(await page.getAttribute('#state', 'data-state'), 'stopped');
    assert.equal((await api.api('POST', `/vms/${vm.id}/start`, {})).status, 200);
    await page.waitForSelector('#state[data-state="running"]', { timeout: LIVE_MS });
    await page.waitForSelector('#actions #force-stop', { timeout: LIVE_MS });
    assert.equal(await page.evaluate(() => window.__notReloaded), true);
    await api.api('POST', `/vms/${vm.id}/stop`, { force: true });
  } finally {
    await context.close();
  }
});

test('the task log shows a job started elsewhere and its end, and its page tells the story', async () => {
  const { context, page } = await newPage({ locale: 'zh-CN' });
  try {
    await page.goto(`${BASE}/jobs`);
    await page.waitForSelector('html[data-live-open]');
    await markDocument(page);
    await page.selectOption('#filter-kind', 'vm.create');   // chosen, not yet applied: must stay
    const res = await api.api('POST', '/vms', { name: 'live-full', template_id: templateId, clone: 'full',
      vcpus: 1, memory_mb: 128, disk_gb: 1, start: false });
    assert.equal(res.status, 201, res.text);
    const job = jobOf(res);
    await page.waitForSelector(`#jobs tr[data-id="${job.id}"]`, { timeout: LIVE_MS });
    await page.waitForSelector(`#jobs tr[data-id="${job.id}"][data-state="succeeded"]`, { timeout: 60000 });
    assert.equal(await page.inputValue('#filter-kind'), 'vm.create');
    assert.equal(await page.evaluate(() => window.__notReloaded), true);
    assert.match(await page.textContent(`#jobs tr[data-id="${job.id}"]`), /创建虚拟机/);
    assert.match(await page.textContent(`#jobs tr[data-id="${job.id}"]`), /Live Tester/);
    await page.screenshot({ path: join(OUT, 'e2e-jobs-zh.png'), fullPage: true });

    await page.click(`#jobs tr[data-id="${job.id}"] a[href="/jobs/${job.id}"]`);
    await page.waitForURL(`${BASE}/jobs/${job.id}`);
    assert.equal(await page.getAttribute('#job', 'data-state'), 'succeeded');
    assert.match(await page.textContent('#job-target'), /live-full/);
    // The runner's story: queued first, finished last (progress lines between).
    const lines = await page.locator('#job-log li').allTextContents();
    assert.match(lines[0], /已排队/, lines.join(' | '));
    assert.match(lines[lines.length - 1], /已完成/, lines.join(' | '));
    // Times read in the reader's language, the exact time on hover.
    const title = await page.getAttribute('#job-finished time', 'title');
    assert.ok(title && title.length > 5, title);
    await page.screenshot({ path: join(OUT, 'e2e-job-zh.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

test('a failed task stands out, and the task log fits 400 px in English', async () => {
  sql(`INSERT INTO jobs (kind, state, owner_id, message, finished_at, target_type, target_id, target_name)
       VALUES ('iso.verify', 'failed', ${user.user.id}, 'The file no longer matches its recorded MD5 and SHA-256.',
       UTC_TIMESTAMP(), 'iso', 999999, 'old-installer.iso')`);
  const { context, page } = await newPage({ locale: 'en-US', viewport: { width: 400, height: 800 } });
  try {
    await page.goto(`${BASE}/jobs`);
    const row = page.locator('#jobs tr.job-failed').first();
    assert.match(await row.textContent(), /old-installer\.iso/);
    const color = await row.locator('.state').evaluate((el) => getComputedStyle(el).color);
    assert.equal(color, 'rgb(180, 35, 24)');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
    await page.screenshot({ path: join(OUT, 'e2e-jobs-400.png'), fullPage: true });
  } finally {
    await context.close();
  }
});
