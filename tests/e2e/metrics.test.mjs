// The metrics charts in a real browser: the VM page draws CPU, memory,
// disk and network with uPlot and the performance report, and keeps
// refreshing (live, at most 5 s apart) while open; ranges switch; the host
// page has the same charts for admins; the dashboard a sparkline per VM.
// Screenshots go to $VMM_TEST_OUTPUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ADMIN_PASSWORD, ADMIN_USER, BASE, adminClient, deleteVmsOf, demoVmDone, launchBrowser, loginInBrowser,
  userClient, waitFor,
} from '../integration/lib.mjs';

const OUT = process.env.VMM_TEST_OUTPUT || new URL('../../test-output', import.meta.url).pathname;
const INTERVAL_S = Number(process.env.VMM_METRICS_INTERVAL_S || 10);
const BOOT_DEADLINE_MS = 120_000;

let browser;
let user;
let vm;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  user = await userClient(await adminClient());
  const api = user.client;
  vm = await demoVmDone(api, { name: '图表', memory_mb: 256, start: true });
  // Two samples make a rate: wait until the API has CPU points.
  await waitFor(async () => {
    const m = (await api.api('GET', `/vms/${vm.id}/metrics`)).body.data;
    return m.series.cpu_percent.filter((v) => v !== null).length >= 2;
  }, BOOT_DEADLINE_MS, 500);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await deleteVmsOf(user.user.id);
});

test('the VM page charts its metrics live, with ranges and the performance report', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Any failed request of ours (the browser's own /favicon.ico aside).
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(`${r.status()} ${r.url()}`);
  });
  await loginInBrowser(page, user.username, user.password);
  await page.goto(`${BASE}/vms/${vm.id}`);
  await page.waitForSelector('#metrics:not([hidden]) .uplot canvas', { timeout: 30000 });
  assert.equal(await page.locator('#metrics .uplot').count(), 4, 'CPU, memory, disk, network');
  assert.equal(await page.locator('#metrics .u-title').first().textContent(), 'CPU (%)');
  // Live: the charts are refreshed again within 5 s (and a bit of slack).
  const first = Number(await page.getAttribute('#metrics', 'data-updated'));
  await page.waitForFunction((t) => Number(document.getElementById('metrics').dataset.updated) > t,
    first, { timeout: 7000 });
  // The report: a row per series with numbers.
  await page.waitForSelector('#metrics-report:not([hidden]) tr[data-series="cpu_percent"]');
  const avg = await page.locator('#metrics-report tr[data-series="cpu_percent"] td').nth(1).textContent();
  assert.match(avg, /^[0-9.,]+$/);
  await page.screenshot({ path: join(OUT, 'metrics-vm.png'), fullPage: true });
  // Another range redraws the charts from the 1-minute archive.
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().includes(`/api/v1/vms/${vm.id}/metrics?range=24h`)),
    page.click('#metrics [data-range="24h"]'),
  ]);
  assert.equal((await res.json()).data.step, 60);
  await page.waitForSelector('#metrics [data-range="24h"].active');
  assert.equal(await page.locator('#metrics .uplot').count(), 4);
  assert.deepEqual(errors, []);
  await page.close();
});

test('Chinese pages label the charts in Chinese', async () => {
  const page = await browser.newPage({ locale: 'zh-CN', extraHTTPHeaders: { 'Accept-Language': 'zh-CN' } });
  await loginInBrowser(page, user.username, user.password);
  await page.goto(`${BASE}/vms/${vm.id}`);
  await page.waitForSelector('#metrics:not([hidden]) .uplot canvas', { timeout: 30000 });
  assert.equal(await page.locator('#metrics h2').textContent(), '性能');
  await page.close();
});

test('the dashboard has a CPU sparkline per VM; the host page charts the host for admins', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await loginInBrowser(page, user.username, user.password);
  await page.waitForSelector(`#metrics .metrics-sparkline[data-vm="${vm.id}"] canvas`, { timeout: 30000 });
  assert.equal(await page.locator(`#metrics .metrics-sparkline[data-vm="${vm.id}"] a`).textContent(), '图表');
  // A user has no host metrics: the section stays hidden.
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/v1/host/metrics')),
    page.goto(`${BASE}/host`),
  ]);
  assert.equal(refused.status(), 403);
  assert.equal(await page.locator('#metrics').isHidden(), true);
  await page.close();

  const adminPage = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await loginInBrowser(adminPage, ADMIN_USER, ADMIN_PASSWORD);
  await adminPage.goto(`${BASE}/host`);
  await adminPage.waitForSelector('#metrics:not([hidden]) .uplot canvas', { timeout: 30000 });
  assert.equal(await adminPage.locator('#metrics .uplot').count(), 4);
  await adminPage.screenshot({ path: join(OUT, 'metrics-host.png'), fullPage: true });
  await adminPage.close();
});
