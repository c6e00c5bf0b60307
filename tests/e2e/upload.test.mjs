// In a real browser: upload an ISO through the upload page (tus-js-client
// in the page), see the progress bar reach 100% and the import job; an
// upload cut off by a page reload continues where it stopped when the
// same file is chosen again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BASE, adminClient, createUser, launchBrowser, loggedInPage, sql, waitFor } from '../integration/lib.mjs';

const OUT = process.env.VMM_TEST_OUTPUT || new URL('../../test-output', import.meta.url).pathname;
const ISO = new URL('../../var/images/vmm-test-installer.iso', import.meta.url).pathname;
const TIMEOUT = 60000;
const CHUNK = 16 * 1024 * 1024;

let browser;
let user;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  user = await createUser(await adminClient());
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('upload an ISO through the page; a reload mid-way resumes; the bar reaches 100%', async () => {
  const { context, page } = await loggedInPage(browser, user.username, user.password,
    { locale: 'zh-CN', timeout: TIMEOUT });
  try {
    await page.click('a[href="/isos"]');
    await page.click('#upload-iso');
    assert.equal(await page.textContent('h1'), '上传镜像');

    // The second chunk never gets an answer: the tab is reloaded meanwhile.
    let patches = 0;
    let held;
    const second = new Promise((resolve) => { held = resolve; });
    await page.route('**/api/v1/uploads/*', async (route) => {
      if (route.request().method() === 'PATCH' && ++patches === 2) {
        held();
        return; // left hanging
      }
      await route.continue();
    });
    await page.fill('#name', '浏览器上传');
    await page.setInputFiles('#file', ISO);
    await second;
    assert.ok(Number(await page.getAttribute('#upload-progress', 'value')) >= 30);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.reload();

    await page.fill('#name', '浏览器上传');
    await page.setInputFiles('#file', ISO);
    await page.waitForSelector('#upload-done', { state: 'visible' });
    assert.equal(await page.isVisible('#upload-resumed'), true, 'the upload resumed');
    assert.equal(await page.getAttribute('#upload-progress', 'value'), '100');
    assert.equal(await page.textContent('#upload-percent'), '100');
    await page.screenshot({ path: join(OUT, 'e2e-upload-done.png'), fullPage: true });

    // Only the chunks after the reload were sent again: one upload, one ISO.
    await Promise.all([page.waitForURL(/\/jobs\/\d+$/), page.click('#upload-job')]);
    await waitFor(async () => {
      await page.reload();
      return (await page.getAttribute('#job', 'data-state')) === 'succeeded';
    }, TIMEOUT, 200);
    await page.goto(`${BASE}/isos`);
    assert.match(await page.textContent('#isos'), /浏览器上传/);
    const rows = sql(`SELECT size_bytes FROM isos WHERE owner_id = ${user.user.id}`);
    assert.deepEqual(rows, [[String(statSync(ISO).size)]]);
    assert.ok(statSync(ISO).size > 2 * CHUNK);
  } finally {
    await context.close();
  }
});
