// The task log (issue 15): /jobs and /jobs/{id} as API and pages, a real
// full clone's log lines, ETags and 304s, and the live-update stream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  adminClient, assertError, BASE, dataOf, jobOf, sql, q, uniqueName, userClient, waitFor,
} from './lib.mjs';

let admin;
let a;
let b;
const ids = {};
const cleanup = [];

function insertJob(owner, fields) {
  const cols = { kind: 'vm.create', state: 'succeeded', message: '', ...fields, owner_id: owner };
  const names = Object.keys(cols);
  sql(`INSERT INTO jobs (${names.join(', ')}) VALUES (${names.map((n) => q(cols[n])).join(', ')})`);
  return Number(sql(`SELECT MAX(id) FROM jobs WHERE owner_id = ${owner}`)[0][0]);
}

before(async () => {
  admin = await adminClient();
  a = await userClient(admin, { display_name: 'Alice Task' });
  b = await userClient(admin);
  const tag = uniqueName('jobs');
  sql(`INSERT INTO isos (name, file_name, size_bytes, md5, sha256, visibility, owner_id)
       VALUES (${q(tag)}, ${q(`${tag}.iso`)}, 1, '', '', 'private', ${a.user.id})`);
  ids.iso = Number(sql(`SELECT id FROM isos WHERE file_name = ${q(`${tag}.iso`)}`)[0][0]);
  ids.isoName = tag;
  ids.old = insertJob(a.user.id, { kind: 'upload.import', state: 'succeeded', target_type: 'upload',
    target_id: 999999, target_name: 'disk.qcow2', created_at: '2020-01-01 10:00:00',
    started_at: '2020-01-01 10:00:00', finished_at: '2020-01-01 10:03:05' });
  ids.failed = insertJob(a.user.id, { kind: 'iso.verify', state: 'failed', target_type: 'iso',
    target_id: ids.iso, target_name: tag, result: '{"match":false,"md5":"x","sha256":"y"}',
    message: 'The file no longer matches its recorded MD5 and SHA-256.' });
  sql(`INSERT INTO job_log (job_id, line) VALUES (${ids.failed}, 'Started.'),
       (${ids.failed}, 'The file no longer matches its recorded MD5 and SHA-256.'), (${ids.failed}, 'Failed.')`);
  ids.running = insertJob(a.user.id, { kind: 'vm.create', state: 'running', progress: 40,
    target_name: 'gone-vm', vm_id: 987654 });
  ids.others = insertJob(b.user.id, { kind: 'vm.stop', state: 'succeeded' });
});

after(async () => {
  for (const id of cleanup) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
  sql(`DELETE FROM jobs WHERE id IN (${[ids.old, ids.failed, ids.running, ids.others].join(', ')})`);
  sql(`DELETE FROM isos WHERE id = ${ids.iso}`);
});

describe('GET /jobs', () => {
  test('a user sees their own jobs, newest first, with kind, target, who, duration', async () => {
    const res = await a.client.api('GET', '/jobs');
    assert.equal(res.status, 200, res.text);
    const jobs = dataOf(res);
    assert.deepEqual(jobs.map((j) => j.id), [ids.running, ids.failed, ids.old]);
    assert.equal(res.body.meta.total, 3);
    const [running, failed, old] = jobs;
    assert.equal(failed.kind_label, 'Verify ISO image');
    assert.deepEqual(failed.target, { type: 'iso', id: ids.iso, name: ids.isoName,
      href: `/isos/${ids.iso}`, linked: true });
    assert.equal(failed.owner_username, a.username);
    assert.equal(failed.owner_name, 'Alice Task');
    assert.equal(failed.summary, 'The checksums differ from the recorded ones.');
    assert.equal(old.duration, '3 min 5 s');
    assert.equal(old.duration_s, 185);
    assert.equal(old.target.href, '/uploads');
    // A VM that is gone keeps the name it had, unlinked.
    assert.deepEqual(running.target, { type: 'vm', id: 987654, name: 'gone-vm', href: null, linked: false });
    assert.equal(running.cancellable, true);
    assert.equal(failed.cancellable, false);
  });

  test('filters by state and kind; admins choose mine or all', async () => {
    assert.deepEqual(dataOf(await a.client.api('GET', '/jobs?state=failed')).map((j) => j.id), [ids.failed]);
    assert.deepEqual(dataOf(await a.client.api('GET', '/jobs?kind=upload.import')).map((j) => j.id), [ids.old]);
    assert.deepEqual(dataOf(await a.client.api('GET', '/jobs?sort=created_at')).map((j) => j.id),
      [ids.old, ids.failed, ids.running]);
    assertError(await a.client.api('GET', '/jobs?state=bogus'), 400, 'invalid_parameter');
    assertError(await a.client.api('GET', '/jobs?kind=rm'), 400, 'invalid_parameter');
    assertError(await a.client.api('GET', '/jobs?mine=maybe'), 400, 'invalid_parameter');
    // A user's "all" is still their own.
    assert.ok(dataOf(await b.client.api('GET', '/jobs?mine=false')).every((j) => j.owner_id === b.user.id));
    const all = dataOf(await admin.api('GET', '/jobs?per_page=500')).map((j) => j.id);
    assert.ok(all.includes(ids.failed) && all.includes(ids.others));
    const mine = dataOf(await admin.api('GET', '/jobs?mine=true&per_page=500'));
    assert.ok(mine.every((j) => j.owner_username === 'admin'));
  });

  test('the page lists them, failed ones marked, filters kept, empty states told apart', async () => {
    const res = await a.client.get('/jobs');
    assert.equal(res.status, 200);
    assert.match(res.text, new RegExp(`<tr class="job job-failed" data-id="${ids.failed}"`));
    assert.match(res.text, /<a href="\/jobs\/\d+">Verify ISO image<\/a>/);
    assert.match(res.text, new RegExp(`<a href="/isos/${ids.iso}">${ids.isoName}</a>`));
    assert.match(res.text, /aria-current="page">Tasks</);
    const filtered = await a.client.get('/jobs?state=cancelled');
    assert.match(filtered.text, /<option value="cancelled" selected>/);
    assert.match(filtered.text, /No task matches these filters/);
    const none = await (await userClient(admin)).client.get('/jobs');
    assert.match(none.text, /No tasks yet/);
    const zh = await a.client.get('/jobs', { headers: { 'Accept-Language': 'zh-CN' } });
    assert.ok(zh.status === 200);
  });
});

describe('GET /jobs/{id}', () => {
  test('has the log lines, the result in words, and no Cancel when finished', async () => {
    const job = dataOf(await a.client.api('GET', `/jobs/${ids.failed}`));
    assert.deepEqual(job.log.map((l) => l.line),
      ['Started.', 'The file no longer matches its recorded MD5 and SHA-256.', 'Failed.']);
    assert.match(job.log[0].at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    const page = await a.client.get(`/jobs/${ids.failed}`);
    assert.match(page.text, /The checksums differ from the recorded ones\./);
    assert.doesNotMatch(page.text, /id="cancel"/);
    assert.match((await a.client.get(`/jobs/${ids.running}`)).text, /id="cancel"/);
    assertError(await b.client.api('GET', `/jobs/${ids.failed}`), 404, 'not_found');
  });

  test("a full clone's job names its VM and logs its steps", async () => {
    const template = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
    const res = await a.client.api('POST', '/vms', { name: 'logged', template_id: template, clone: 'full',
      vcpus: 1, memory_mb: 128, disk_gb: 1, start: false });
    assert.equal(res.status, 201, res.text);
    const [vm, started] = [dataOf(res), jobOf(res)];
    cleanup.push(vm.id);
    const done = await waitFor(async () => {
      const j = dataOf(await a.client.api('GET', `/jobs/${started.id}`));
      return ['succeeded', 'failed', 'cancelled'].includes(j.state) && j;
    }, 120_000, 200);
    assert.equal(done.state, 'succeeded', done.message);
    assert.deepEqual(done.target, { type: 'vm', id: vm.id, name: 'logged', href: `/vms/${vm.id}`, linked: true });
    // The runner's lines: queued, taken by a worker, each tenth of the copy, done.
    const lines = done.log.map((l) => l.line);
    assert.deepEqual([lines[0], lines[1], lines.at(-1)], ['Queued.', 'Started.', 'Finished.']);
    assert.ok(lines.slice(2, -1).every((l) => /^\d+% done\.$/.test(l)), lines.join(' | '));
    assert.ok(lines.length > 3, 'the copy reports its progress in the log');
    assert.equal(done.summary, 'The virtual machine was made.');
    // The VM's page lists its tasks.
    const vmPage = await a.client.get(`/vms/${vm.id}`);
    assert.match(vmPage.text, new RegExp(`<a href="/jobs/${started.id}">Create virtual machine</a>`));
    const zh = dataOf(await a.client.api('GET', `/jobs/${started.id}`, undefined,
      { headers: { 'Accept-Language': 'zh-CN' } }));
    assert.notEqual(zh.log[0].line, 'Started.');
  });
});

describe('ETags and the live stream', () => {
  test('a GET answered before is a bodyless 304 until what it shows changes', async () => {
    const first = await a.client.get('/jobs');
    const etag = first.headers.get('etag');
    assert.match(etag, /^(W\/)?"[0-9a-f]{24}"$/);   // weak once nginx compresses it
    // An unrelated write moves the generation but not this page.
    sql(`UPDATE users SET display_name = 'Someone' WHERE id = ${b.user.id}`);
    const again = await a.client.get('/jobs', { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.text, '');
    sql(`UPDATE jobs SET progress = 55 WHERE id = ${ids.running}`);
    const changed = await a.client.get('/jobs', { headers: { 'If-None-Match': etag } });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get('etag'), etag);
  });

  test('/events streams the write generation; only EventSource and only when logged in', async () => {
    const anon = await fetch(`${BASE}/events`, { headers: { Accept: 'text/event-stream' } });
    assert.equal(anon.status, 401);
    const plain = await a.client.get('/events');
    assert.equal(plain.status, 406);

    const controller = new AbortController();
    const res = await fetch(`${BASE}/events`, {
      headers: { Accept: 'text/event-stream', Cookie: a.client.cookieHeader() },
      signal: controller.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const generations = () => [...text.matchAll(/^data: (\d+)$/gm)].map((m) => Number(m[1]));
    const readUntil = async (cond, ms) => {
      const deadline = Date.now() + ms;
      while (!cond()) {
        assert.ok(Date.now() < deadline, `stream so far: ${JSON.stringify(text)}`);
        const { value, done } = await Promise.race([reader.read(),
          new Promise((r) => setTimeout(() => r({ value: undefined, done: false }), deadline - Date.now()))]);
        if (done) break;
        if (value) text += decoder.decode(value, { stream: true });
      }
    };
    try {
      await readUntil(() => generations().length >= 1, 5000);
      const t0 = Date.now();
      const first = generations()[0];
      // A write through VMManager (SQL by hand does not move the counter).
      assert.equal((await b.client.api('PATCH', '/me', { display_name: 'Bee' })).status, 200);
      await readUntil(() => generations().some((g) => g > first), 2000);
      assert.ok(Date.now() - t0 < 2000);
    } finally {
      controller.abort();
    }
  });
});
