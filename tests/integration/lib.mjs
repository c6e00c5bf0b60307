// Shared helpers of the integration and e2e suites.
//
// A Client is one "browser": its own cookie jar, the CSRF token it last
// learned (from a JSON login or from a page's hidden csrf_token field), and
// plain helpers for JSON calls, form posts and page loads. Redirects are
// never followed, so tests see the 303s themselves.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  accessSync, closeSync, constants, existsSync, openSync, readdirSync, readFileSync, rmSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

export const BASE = (process.env.VMM_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const ADMIN_USER = process.env.VMM_ADMIN_USER || 'admin';
export const ADMIN_PASSWORD = process.env.VMM_ADMIN_PASSWORD || '';
export const STATE = process.env.VMM_STATE || new URL('../../var', import.meta.url).pathname;

if (!ADMIN_PASSWORD) throw new Error('VMM_ADMIN_PASSWORD is not set');

let counter = 0;
/** A user name no other test (or earlier run) has: letters, digits, '_'; at most 32 chars. */
/** The top of the tree (the programs, api/, docs/). */
export const ROOT = new URL('../../', import.meta.url).pathname;

/**
 * Every route of every FastCGI program in cgi-bin, as the binaries list
 * them (VMM_LIST_ROUTES=1, lib/web/app.c): { program, method, pattern, perm,
 * kind, reply, statuses, body, ... } each.
 */
export function programRoutes() {
  const dir = `${ROOT}cgi-bin`;
  const routes = [];
  for (const name of readdirSync(dir).filter((n) => /^vmm-[a-z0-9-]+$/.test(n)).sort()) {
    const path = `${dir}/${name}`;
    try {
      accessSync(path, constants.X_OK);
    } catch {
      continue;
    }
    const out = execFileSync(path, [], { env: { ...process.env, VMM_LIST_ROUTES: '1' }, encoding: 'utf8' });
    for (const line of out.split('\n').filter(Boolean)) routes.push({ program: name, ...JSON.parse(line) });
  }
  return routes;
}

export function uniqueName(prefix = 't') {
  counter += 1;
  const name = `${prefix}_${Date.now().toString(36)}${process.pid.toString(36)}_${counter}`;
  assert.ok(name.length <= 32, `name too long: ${name}`);
  return name;
}

/**
 * A random password the server's password check (libpwquality, cracklib)
 * accepts: cracklib refuses one with too many neighbouring characters in
 * a row ("RS", "vu", "78"), which 1 random password in a few thousand has.
 */
export function newPassword() {
  for (;;) {
    const password = `Pw-${randomBytes(9).toString('base64url')}`;
    const low = password.toLowerCase();
    let steps = 0;
    for (let i = 1; i < low.length; i++) if (Math.abs(low.charCodeAt(i) - low.charCodeAt(i - 1)) === 1) steps += 1;
    if (steps <= 2) return password;
  }
}

// nginx allows 10 requests a second (burst 50) on the login locations.
// Requests there are spaced out so that no suite ever meets that limit.
const LOGIN_PATHS = new Set(['/login', '/api/v1/auth/login']);
const LOGIN_SPACING_MS = 120;
let lastLoginRequest = 0;
async function paceLogin(path) {
  if (!LOGIN_PATHS.has(path.split('?')[0])) return;
  const wait = lastLoginRequest + LOGIN_SPACING_MS - Date.now();
  if (wait > 0) await delay(wait);
  lastLoginRequest = Date.now();
}

/** The value of a page's hidden csrf_token input (the first one), or null. */
export function formToken(html) {
  const m = /<input type="hidden" name="csrf_token" value="([^"]*)">/.exec(html);
  return m ? m[1] : null;
}

/** The text of the element with this id (tags stripped), or null. */
export function elementText(html, id) {
  const m = new RegExp(`<(\\w+)[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  return m ? m[2].replace(/<[^>]*>/g, '').trim() : null;
}

export class Client {
  /** base: another front-end's URL (tests/integration/galera.test.mjs). */
  constructor(name = 'client', { headers = {}, base = BASE } = {}) {
    this.name = name;
    this.base = base.replace(/\/$/, '');
    this.cookies = new Map();
    this.csrf = null;
    this.headers = headers;
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  cookie(name) {
    return this.cookies.get(name);
  }

  storeCookies(setCookies) {
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const maxAge = attrs.map((a) => a.trim()).find((a) => /^max-age=/i.test(a));
      if (value === '' || (maxAge && Number(maxAge.split('=')[1]) <= 0)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /**
   * One request. opts: json (object → JSON body), form (object → urlencoded),
   * body + type (raw), headers, csrf (true: send X-CSRF-Token when known).
   * Returns { status, headers, text, body (parsed JSON or null), location,
   * requestId, setCookies }.
   */
  async request(method, path, opts = {}) {
    await paceLogin(path);
    const headers = { ...this.headers, ...(opts.headers || {}) };
    let body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['Content-Type'] ??= 'application/json';
    } else if (opts.form !== undefined) {
      body = new URLSearchParams(opts.form).toString();
      headers['Content-Type'] ??= 'application/x-www-form-urlencoded';
    } else if (opts.body !== undefined) {
      body = opts.body;
      if (opts.type) headers['Content-Type'] = opts.type;
    }
    if (opts.csrf !== false && this.csrf && !['GET', 'HEAD'].includes(method))
      headers['X-CSRF-Token'] ??= this.csrf;
    const cookie = this.cookieHeader();
    if (cookie) headers.Cookie = cookie;
    const res = await fetch(this.base + path, { method, headers, body, redirect: 'manual' });
    const setCookies = res.headers.getSetCookie();
    this.storeCookies(setCookies);
    const text = await res.text();
    let parsed = null;
    if ((res.headers.get('content-type') || '').startsWith('application/json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    return {
      status: res.status,
      headers: res.headers,
      text,
      body: parsed,
      location: res.headers.get('location'),
      requestId: res.headers.get('x-request-id'),
      setCookies,
    };
  }

  get(path, opts) {
    return this.request('GET', path, opts);
  }

  /** A JSON API call; path is relative to /api/v1. */
  api(method, path, json, opts = {}) {
    return this.request(method, `/api/v1${path}`, json === undefined ? opts : { ...opts, json });
  }

  /** Loads a page and remembers the CSRF token of its forms. */
  async page(path, opts) {
    const res = await this.get(path, opts);
    const token = formToken(res.text);
    if (token) this.pageToken = token;
    return res;
  }

  /** Posts a form with the token of the last page loaded (unless given). */
  postForm(path, fields, opts = {}) {
    const form = { csrf_token: this.pageToken ?? '', ...fields };
    return this.request('POST', path, { ...opts, form, csrf: false });
  }

  async login(username, password) {
    const res = await this.api('POST', '/auth/login', { username, password });
    if (res.status === 200) this.csrf = res.body.data.csrf_token;
    return res;
  }

  async loginOk(username, password) {
    const res = await this.login(username, password);
    assert.equal(res.status, 200, `login of ${username}: ${res.text}`);
    return res.body.data.user;
  }

  /** The browser way: load /login, post its form. */
  async loginForm(username, password, next = '/') {
    await this.page(`/login?next=${encodeURIComponent(next)}`);
    return this.postForm('/login', { username, password, next });
  }

  logout() {
    return this.api('POST', '/auth/logout');
  }
}

export async function adminClient() {
  const admin = new Client('admin');
  await admin.loginOk(ADMIN_USER, ADMIN_PASSWORD);
  return admin;
}

/** Creates a user through the API as admin; returns { user, username, password }. */
export async function createUser(admin, fields = {}) {
  const username = fields.username ?? uniqueName(fields.prefix ?? 'u');
  const password = fields.password ?? newPassword();
  const json = { username, password, role: fields.role ?? 'user' };
  for (const k of ['display_name', 'email']) if (fields[k] !== undefined) json[k] = fields[k];
  const res = await admin.api('POST', '/users', json);
  assert.equal(res.status, 201, `create ${username}: ${res.text}`);
  return { user: res.body.data, username, password };
}

/** A logged-in client of a new normal user. */
export async function userClient(admin, fields = {}) {
  const created = await createUser(admin, fields);
  const client = new Client(created.username);
  await client.loginOk(created.username, created.password);
  return { client, ...created };
}

/** A new personal API token of client's user (POST /me/tokens): its secret. */
export async function apiTokenOf(client, name = 'test scripts') {
  const res = await client.api('POST', '/me/tokens', { name });
  assert.equal(res.status, 201, res.text);
  return res.body.data.secret;
}

/** Rows of a query on the stack's database (as root over its socket), tab-separated fields. */
export function sql(query) {
  const out = execFileSync(
    'mariadb',
    ['--no-defaults', `--socket=${STATE}/run/mysqld.sock`, '-u', 'root', 'vmm', '-N', '-B', '-e', query],
    { encoding: 'utf8' },
  );
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/** virsh on qemu:///system (the helper's libvirtd); its output. */
export function virsh(...args) {
  return execFileSync('virsh', ['-q', '-c', 'qemu:///system', ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The serial console log of a domain (what its guest printed this boot). */
export function serialLog(domain) {
  const path = `${STATE}/pool/consoles/${domain}.log`;
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** The libvirt domain name of VM vmId, or null when there is no such row. */
export function domainOf(vmId) {
  const rows = sql(`SELECT domain_name FROM vms WHERE id = ${Number(vmId)}`);
  return rows.length ? rows[0][0] : null;
}

/** SQL string literal. */
/**
 * A stopped VM row of ownerId's without a domain (nothing can start it):
 * a real object for routes under /vms/{id}. Returns { id, uuid, remove() }.
 */
export function insertVmRow(ownerId, prefix = 'row') {
  const uuid = crypto.randomUUID();
  sql(
    'INSERT INTO vms (uuid, domain_name, name, description, owner_id, state, vcpus, memory_mb, disk_gb) ' +
      `VALUES (${q(uuid)}, ${q(`vmm-${prefix}-${uuid.slice(0, 16)}`)}, ${q(uniqueName(prefix))}, '', ${ownerId}, 'stopped', 1, 128, 1)`,
  );
  const id = Number(sql(`SELECT id FROM vms WHERE uuid = ${q(uuid)}`)[0][0]);
  return { id, uuid, remove: () => sql(`DELETE FROM vms WHERE id = ${id}`) };
}

/**
 * count stopped VM rows of ownerId's without a domain, named prefix-000,
 * prefix-001, … (the guide's default size: 2 vCPUs, 2 GiB, 20 GiB), in one
 * INSERT: a long list to page through (the benchmarks' seed).
 */
export function insertVmRows(ownerId, count, prefix = 'bench') {
  const values = [];
  for (let i = 0; i < count; i++) {
    const uuid = crypto.randomUUID();
    values.push(`(${q(uuid)}, ${q(`vmm-${prefix}-${uuid.slice(0, 18)}`)}, ${q(`${prefix}-${String(i).padStart(3, '0')}`)},
      '', ${Number(ownerId)}, 'stopped', 2, 2048, 20)`);
  }
  sql(`INSERT INTO vms (uuid, domain_name, name, description, owner_id, state, vcpus, memory_mb, disk_gb)
       VALUES ${values.join(', ')}`);
}

export function q(value) {
  return `'${String(value).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Polls cond() until it returns a truthy value or the deadline passes. */
export async function waitFor(cond, deadlineMs = 5000, stepMs = 50) {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await cond();
    if (value) return value;
    if (Date.now() > end) throw new Error(`condition not met within ${deadlineMs} ms`);
    await delay(stepMs);
  }
}

/**
 * The object (or list) a success answer carries, after checking the
 * envelope: {"success": true, "data": <the object itself>, "meta"?}.
 */
export function dataOf(res) {
  assert.ok(res.body && res.body.success === true, `not a success answer (${res.status}): ${res.text.slice(0, 300)}`);
  assert.ok('data' in res.body, `no data: ${res.text.slice(0, 300)}`);
  assert.equal(res.body.error, undefined);
  return res.body.data;
}

/** The job a 202 answer started (its meta.job), or undefined. */
export function jobOf(res) {
  return res.body?.meta?.job;
}

/** Asserts an API error answer: status, code and the JSON error shape. */
export function assertError(res, status, code) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text.slice(0, 300)}`);
  assert.ok(res.body && res.body.error, `no JSON error body: ${res.text.slice(0, 300)}`);
  assert.equal(res.body.success, false, `no "success": false: ${res.text.slice(0, 300)}`);
  assert.equal(res.body.data, undefined);
  assert.equal(res.body.error.code, code);
  assert.equal(typeof res.body.error.message, 'string');
}

/** Logs a browser page in through the login form; it lands on the dashboard. */
export async function loginInBrowser(page, username, password) {
  await page.goto(`${BASE}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${BASE}/`), page.click('#login-form button[type=submit]')]);
}

/** Debian's Chromium, headless, with what a closed network and root need. */
export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * A new browser context (en-US, 1280x900 unless options say otherwise; any
 * of newContext's options) with a page logged in as username, its actions
 * waiting at most timeout ms. Returns { context, page }: close the context.
 */
export async function loggedInPage(browser, username, password, { timeout = 30_000, ...options } = {}) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 }, ...options });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    await loginInBrowser(page, username, password);
    return { context, page };
  } catch (e) {
    await context.close();
    throw e;
  }
}

// ---- jobs and VMs made in them ----

/** The id of the demo template (the busybox guest every test stack has). */
export function demoTemplateId() {
  return Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
}

/**
 * A VM of the demo template made by client to the end (its creation job
 * succeeded, asserted): 1 vCPU, 128 MiB, 1 GiB, stopped, unless fields say
 * otherwise. Returns the VM as it is then.
 */
export async function demoVmDone(client, fields) {
  const made = await createVmDone(client, { template_id: demoTemplateId(), vcpus: 1, memory_mb: 128,
    disk_gb: 1, start: false, ...fields });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.job.state, 'succeeded', made.job.message);
  return made.vm;
}

/** Deletes every VM of user userId, disks too, as admin (a test's after()). */
export async function deleteVmsOf(userId) {
  const admin = await adminClient();
  for (const [id] of sql(`SELECT id FROM vms WHERE owner_id = ${Number(userId)}`))
    await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
}

/** Polls job id until it has ended (succeeded, failed, cancelled); returns it. */
export async function jobEnded(client, id, deadlineMs = 180_000) {
  return waitFor(async () => {
    const j = dataOf(await client.api('GET', `/jobs/${id}`));
    return ['succeeded', 'failed', 'cancelled'].includes(j.state) && j;
  }, deadlineMs, 100);
}

/**
 * POST /vms, and when it is made (201, the VM still `creating`: the helper
 * makes it in the job of meta.job) waits for that job. Returns { status, text, res (the answer), job (ended,
 * or null when refused), vm (as it is now, or null when refused or gone) }.
 */
export async function createVmDone(client, fields, deadlineMs = 180_000) {
  const res = await client.api('POST', '/vms', fields);
  const made = { status: res.status, text: res.text, res, job: null, vm: null };
  if (res.status !== 201) return made;
  made.job = await jobEnded(client, jobOf(res).id, deadlineMs);
  const now = await client.api('GET', `/vms/${dataOf(res).id}`);
  made.vm = now.status === 200 ? dataOf(now) : null;
  return made;
}


/** Forces VM vmId off and waits until libvirt says so. */
export async function stopVmForced(client, vmId, deadlineMs = 60_000) {
  const res = await client.api('POST', `/vms/${vmId}/stop`, { force: true });
  assert.ok([200, 202].includes(res.status), res.text);
  const domain = domainOf(vmId);
  await waitFor(() => execFileSync('virsh', ['-q', '-c', 'qemu:///system', 'domstate', domain],
    { encoding: 'utf8' }).trim() === 'shut off', deadlineMs, 250);
}

// ---- this stack's helper ----

const CONFIG = `${STATE}/vmmanager.conf`;
/** Where this stack's programs are: the install tools/dev staged in the state dir. */
export const PROGRAM_DIR = process.env.VMM_LIBEXEC_DIR || `${STATE}/install/usr/local/libexec/vmmanager`;

/** Live processes of PROGRAM (e.g. vmm-helper) started with this stack's config. */
export function stackPids(program) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv0 = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0];
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (argv0.endsWith(`/${program}`) && env.includes(`VMM_CONFIG=${CONFIG}`) && state !== 'Z')
        pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The helper of this stack: vmm-helper processes started with our config. */
export function helperPids() {
  return stackPids('vmm-helper');
}
/** The schedulers of this stack. */
export const schedulerPids = () => stackPids('vmm-scheduler');

/** Starts a scheduler the way tools/dev does (user vmm-sched); its pid once it runs. */
export async function startScheduler() {
  const known = schedulerPids();
  const logPath = `${STATE}/log/vmm-scheduler.log`;
  const log = openSync(logPath, 'a');
  const child = spawn('setpriv', ['--reuid=vmm-sched', '--regid=vmm-sched', '--clear-groups', '--',
    `${PROGRAM_DIR}/vmm-scheduler`], {
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'VMM_ADMIN_PASSWORD')),
      VMM_CONFIG: CONFIG, VMM_DATABASE_USER: 'vmm-sched',
    },
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  closeSync(log);
  // setpriv execs the scheduler: same pid. It says so once it runs.
  await waitFor(() => new RegExp(`running as \\S+:${child.pid}$`, 'm').test(readFileSync(logPath, 'utf8')), 10_000, 100);
  assert.ok(!known.includes(child.pid));
  return child.pid;
}

/** Stops every scheduler of this stack and waits until they are gone. */
export async function stopSchedulers() {
  for (const pid of schedulerPids()) process.kill(pid, 'SIGTERM');
  await waitFor(() => schedulerPids().length === 0, 10_000, 100);
}

/**
 * Starts the helper the way tools/dev does (as root, MariaDB root over the
 * socket), with extra environment (config overrides such as
 * VMM_HELPER_LIBVIRT_URI). Returns its pid.
 */
export function startHelper(extraEnv = {}) {
  rmSync(`${STATE}/run/vmm-helper.sock`, { force: true });
  const log = openSync(`${STATE}/log/vmm-helper.log`, 'a');
  const child = spawn(`${PROGRAM_DIR}/vmm-helper`, [], {
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'VMM_ADMIN_PASSWORD')),
      VMM_CONFIG: CONFIG, VMM_DATABASE_USER: 'root', ...extraEnv,
    },
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  closeSync(log);
  return child.pid;
}

/** Stops this stack's helper (SIGTERM, then SIGKILL) and waits until it is gone. */
export async function stopHelper() {
  for (const pid of helperPids()) process.kill(pid, 'SIGTERM');
  try {
    await waitFor(() => helperPids().length === 0, 5000, 50);
  } catch {
    for (const pid of helperPids()) process.kill(pid, 'SIGKILL');
    await waitFor(() => helperPids().length === 0, 5000, 50);
  }
}

/** Replaces this stack's helper by one with extraEnv, answering at the socket again. */
export async function restartHelper(extraEnv = {}) {
  await stopHelper();
  startHelper(extraEnv);
  await waitFor(() => existsSync(`${STATE}/run/vmm-helper.sock`), 20_000, 50);
}

// IPv4 /24 blocks ('192.168.N', without the last octet) that overlap
// neither this host's own addresses nor any libvirt network: the portal
// refuses overlapping networks, and hosts differ (a CI machine may sit in
// any private range), so tests never hard-code theirs.
export function freeBlocks(count) {
  const toNum = (a) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const taken = []; // [first, last] address numbers
  const add = (addr, prefix) => {
    const size = 2 ** (32 - prefix);
    const first = Math.floor(toNum(addr) / size) * size;
    taken.push([first, first + size - 1]);
  };
  for (const m of execFileSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' })
    .matchAll(/inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/g)) add(m[1], Number(m[2]));
  const virsh = (...args) => execFileSync('virsh', ['-q', '-c', 'qemu:///system', ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  for (const name of virsh('net-list', '--all', '--name').split('\n').map((s) => s.trim()).filter(Boolean)) {
    let xml;
    try { xml = virsh('net-dumpxml', '--inactive', name); } catch { continue; } // gone meanwhile
    for (const m of xml.matchAll(/<ip [^>]*address='([\d.]+)'[^>]*?(?:netmask='([\d.]+)'|prefix='(\d+)')/g)) {
      const prefix = m[3] ? Number(m[3])
        : m[2].split('.').reduce((n, o) => n + (Number(o) >>> 0).toString(2).replace(/0/g, '').length, 0);
      add(m[1], prefix);
    }
  }
  // From a random place in the range, so stacks running side by side on
  // one libvirtd seldom reach for the same blocks.
  const blocks = [];
  const start = Math.floor(Math.random() * 95);
  for (let i = 0; i < 95 && blocks.length < count; i++) {
    const n = 160 + ((start + i) % 95);
    const first = toNum(`192.168.${n}.0`);
    if (!taken.some(([lo, hi]) => first <= hi && first + 255 >= lo)) blocks.push(`192.168.${n}`);
  }
  if (blocks.length < count) throw new Error(`only ${blocks.length} free /24 blocks in 192.168.160-254`);
  return blocks;
}
// ---- guests on this stack's libvirt ----


/** How often marker occurs in text. */
export const countOf = (text, marker) => text.split(marker).length - 1;
