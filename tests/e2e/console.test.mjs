// The console in a real browser: a normal user opens the console of a
// booted demo guest from its page; noVNC (through nginx's auth_request and
// QEMU's websocket) connects and draws the framebuffer. When the VM stops,
// the page says so. Screenshots go to $VMM_TEST_OUTPUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BASE, adminClient, deleteVmsOf, demoVmDone, domainOf, launchBrowser, loginInBrowser, serialLog, userClient,
  waitFor,
} from '../integration/lib.mjs';

const OUT = process.env.VMM_TEST_OUTPUT || new URL('../../test-output', import.meta.url).pathname;
const TIMEOUT = 60000;
const BOOT_DEADLINE_MS = 120_000;

let browser;
let user;
let api;
let vm;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  user = await userClient(await adminClient());
  api = user.client;
  vm = await demoVmDone(api, { name: '控制台测试', memory_mb: 256, start: true });
  await waitFor(() => serialLog(domainOf(vm.id)).includes('VMM-TEST: boot ok'), BOOT_DEADLINE_MS, 500);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await deleteVmsOf(user.user.id);
});

test('noVNC connects to a booted guest and draws it; a stopped VM is said so', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // CSP refusals and module errors show as console errors; failed loads
  // by their address (the browser's own /favicon.ico is no concern).
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(`${r.status()} ${r.url()}`);
  });
  try {
    await loginInBrowser(page, user.username, user.password);

    await page.goto(`${BASE}/vms/${vm.id}`);
    await Promise.all([page.waitForURL(`${BASE}/vms/${vm.id}/console`), page.click('#open-console')]);
    await page.waitForSelector('#console-status[data-state="connected"]');
    // noVNC's canvas has the guest's framebuffer size once ServerInit came.
    const size = await page.waitForFunction(() => {
      const canvas = document.querySelector('#console-screen canvas');
      return canvas && canvas.width > 0 && canvas.height > 0 && { w: canvas.width, h: canvas.height };
    });
    const { w, h } = await size.jsonValue();
    assert.ok(w > 0 && h > 0, `canvas ${w}x${h}`);
    // Something was drawn: the canvas is not one flat colour.
    await page.waitForFunction(() => {
      const canvas = document.querySelector('#console-screen canvas');
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 4; i < data.length; i += 4)
        if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2]) return true;
      return false;
    });
    await page.click('#console-cad');
    await page.screenshot({ path: join(OUT, 'e2e-console.png'), fullPage: true });
    assert.deepEqual(problems, [], 'no script errors (CSP, module loading)');

    // The VM goes off under the open console: the page says why it closed.
    const stop = await api.api('POST', `/vms/${vm.id}/stop`, { force: true });
    assert.equal(stop.status, 200, stop.text);
    await page.waitForSelector('#console-status[data-state="error"]');
    assert.match(await page.textContent('#console-status'), /not running/);
    // Reconnecting to a stopped VM shows the server's 409 message.
    await page.click('#console-reconnect');
    await page.waitForSelector('#console-status[data-state="error"]');
    assert.match(await page.textContent('#console-status'), /not running/);
    await page.screenshot({ path: join(OUT, 'e2e-console-stopped.png'), fullPage: true });
  } finally {
    await context.close();
  }
});
