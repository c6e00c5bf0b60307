// Bench (issue 15): what a live page costs on the wire, measured in
// Chromium through a byte-counting TCP proxy in front of nginx.
//
//   VMM_TEST_FILES=tests/bench/live.mjs tools/dev test
//
// 1. The VM list of 100 VMs (seeded rows): its weight over the wire and the
//    time until its last row is in the document;
// 2. the same page left idle for BENCH_IDLE_S seconds (default 60): the
//    bytes both ways per minute (budget: a few hundred);
// 3. a change made elsewhere: the time until the page shows it (budget 2 s)
//    and what the refresh cost;
// 4. every main page's weight (budget: 50 KB each).
// Prints a table and writes test-output/bench-live.txt. Budgets missed
// fail the run, so that a regression is seen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminClient, BASE, Client, createUser, insertVmRows, launchBrowser, sql } from '../integration/lib.mjs';
import { countingProxy } from './proxy.mjs';

const OUT = process.env.VMM_TEST_OUTPUT || new URL('../../test-output', import.meta.url).pathname;
const IDLE_S = Number(process.env.BENCH_IDLE_S || 60);
const VMS = 100;

let proxy;
let proxyBase;
let browser;
let newVm;
let user;
let admin;
const lines = [];

function report(name, value, budget, ok) {
  lines.push(`${name.padEnd(44)} ${String(value).padStart(12)}   ${budget.padEnd(14)} ${ok ? 'ok' : 'MISSED'}`);
}

before(async () => {
  mkdirSync(OUT, { recursive: true });
  proxy = await countingProxy(BASE);
  proxyBase = proxy.base;

  admin = await adminClient();
  user = await createUser(admin, { prefix: 'bench' });
  insertVmRows(user.user.id, VMS);
  // Room for the one VM the bench makes through the API.
  const quota = await admin.api('PUT', `/users/${user.user.id}/quota`, { max_vms: VMS + 10,
    max_vcpus: 1000, max_memory_mb: 1048576, max_disk_gb: 10000 });
  assert.equal(quota.status, 200, quota.text);
  // The one VM is the test image's size, under the guide's default minimums.
  const limits = await admin.api('PATCH', '/settings', { vm_min_memory_mb: 64, vm_min_disk_gb: 1 });
  assert.equal(limits.status, 200, limits.text);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (newVm) await admin.api('DELETE', `/vms/${newVm}?delete_disks=true`);
  if (user) sql(`DELETE FROM vms WHERE owner_id = ${user.user.id}`);
  proxy?.close();
  const text = `bench-live: ${new Date().toISOString()}\n${'measure'.padEnd(44)} ${'value'.padStart(12)}   budget\n${lines.join('\n')}\n`;
  writeFileSync(join(OUT, 'bench-live.txt'), text);
  process.stdout.write(`\n${text}`);
});

async function libraryBytes(page, path) {
  return page.evaluate((p) => {
    const entry = performance.getEntriesByType('resource').find((e) => e.name.endsWith(p));
    return entry ? entry.transferSize || entry.encodedBodySize : 0;
  }, path);
}

async function login(page) {
  await page.goto(`${proxyBase}/login`);
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await Promise.all([page.waitForURL(`${proxyBase}/`), page.click('#login-form button[type=submit]')]);
}

test('an idle list of 100 VMs, and a change made elsewhere', async () => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  try {
    await login(page);
    const before = proxy.counted.bytes;
    await page.goto(`${proxyBase}/vms?per_page=100&sort=name`, { waitUntil: 'domcontentloaded' });
    assert.equal(await page.locator('#vms a:text("bench-099")').count(), 1);
    // Server-rendered: the last row is in the document when it is parsed.
    const lastRowMs = Math.round(await page.evaluate(() =>
      performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd));
    await page.waitForSelector('html[data-live-open]');
    await page.waitForLoadState('load');
    const weight = proxy.counted.bytes - before;
    report('VM list (100 VMs): last row parsed (DCL), ms', lastRowMs, '< 200 (~1/20 Cockpit)', lastRowMs < 200);
    report('VM list (100 VMs): bytes both ways', weight, '< 50 KB', weight < 50 * 1024);

    const idleStart = proxy.counted.bytes;
    await page.waitForTimeout(IDLE_S * 1000);   // the measure itself: nothing may happen meanwhile
    const perMinute = Math.round((proxy.counted.bytes - idleStart) * 60 / IDLE_S);
    report(`idle, bytes a minute (over ${IDLE_S} s)`, perMinute, '< 600', perMinute < 600);

    const api = new Client(user.username);
    await api.loginOk(user.username, user.password);
    const template = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
    const changeStart = proxy.counted.bytes;
    const t1 = Date.now();
    const made = await api.api('POST', '/vms', { name: 'aaa-new', template_id: template, vcpus: 1,
      memory_mb: 128, disk_gb: 1, start: false });
    assert.equal(made.status, 201, made.text);
    newVm = made.body.data.id;
    await page.waitForSelector('#vms a:text("aaa-new")', { timeout: 5000 });
    const shownMs = Date.now() - t1;
    report('a VM made elsewhere shown after, ms', shownMs, '< 2000', shownMs < 2000);
    report('that refresh, bytes both ways (API call excl.)', proxy.counted.bytes - changeStart, '(info)', true);
  } finally {
    await context.close();
  }
});

test('every main page weighs under 50 KB over the wire', async () => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  try {
    await login(page);
    for (const path of ['/', '/vms', '/vms/new', '/jobs', '/isos', '/templates', '/uploads', '/host',
      '/audit-logs', '/profile']) {
      const start = proxy.counted.bytes;
      await page.goto(`${proxyBase}${path}`, { waitUntil: 'load' });
      const bytes = proxy.counted.bytes - start;
      // The uploader's library (tus-js-client) is outside the budget.
      const library = path === '/uploads' ? await libraryBytes(page, '/static/vendor/tus.min.js') : 0;
      report(`page ${path}, bytes both ways${library ? ' (excl. tus)' : ''}`, bytes - library, '< 50 KB',
        bytes - library < 50 * 1024);
    }
  } finally {
    await context.close();
  }
  assert.ok(lines.every((l) => !l.endsWith('MISSED')), lines.join('\n'));
});
