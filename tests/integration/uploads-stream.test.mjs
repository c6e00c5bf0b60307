// tus chunks written once as they arrive (issue 13): the MD5 and SHA-256
// the library records are computed chunk by chunk and kept across resumes,
// at odd offsets and from new processes; a refused chunk, a client gone
// mid-PATCH and a second PATCH while one streams all leave them right.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { adminClient, STATE, waitFor } from './lib.mjs';
import {
  authHeaders, digest, tusCreate, tusPatch, tusRequest, waitJob,
} from './tus.mjs';

const run = promisify(execFile);
const ISO = new URL('../../var/images/vmm-test-installer.iso', import.meta.url).pathname;
const CHILD = new URL('./tus-child.mjs', import.meta.url).pathname;
const MiB = 2 ** 20;
const partPath = (id) => `${STATE}/uploads/parts/${id}`;
const idOf = (url) => Number(url.split('/').pop());
const partSize = (url) => statSync(partPath(idOf(url))).size;

let admin;
let iso;

before(async () => {
  admin = await adminClient();
  iso = readFileSync(ISO);
});

async function offsetOf(url) {
  const head = await tusRequest(admin, 'HEAD', url);
  assert.equal(head.status, 200, head.text);
  return Number(head.headers.get('upload-offset'));
}

/** A PATCH whose body the test writes itself: { req, response }. */
function streamPatch(url, offset, length, headers = {}) {
  const u = new URL(url);
  const req = http.request({
    host: u.hostname, port: u.port, path: u.pathname, method: 'PATCH',
    headers: {
      ...authHeaders(admin), 'Tus-Resumable': '1.0.0', 'Content-Type': 'application/offset+octet-stream',
      'Upload-Offset': String(offset), 'Content-Length': String(length), ...headers,
    },
  });
  const response = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
  });
  return { req, response };
}

/** The library entry an import job made. */
async function entryOf(jobId) {
  const job = await waitJob(admin, jobId);
  assert.equal(job.state, 'succeeded', job.message);
  return (await admin.api('GET', `/isos/${job.result.iso_id}`)).body.data;
}

/** The installer ISO with an odd number of random bytes after it. */
const isoWithTail = (tail) => Buffer.concat([iso, randomBytes(tail)]);

describe('chunks written once, digests as they arrive', () => {
  test('an ISO resumed at odd offsets by new processes, a refused chunk between, has its real MD5 and SHA-256', async () => {
    const data = isoWithTail(777_777);
    const dir = mkdtempSync(join(tmpdir(), 'vmm-tus-odd-'));
    const file = join(dir, 'odd.iso');
    writeFileSync(file, data);
    const storage = join(dir, 'urls.json');
    const meta = JSON.stringify({ filename: 'odd.iso', kind: 'iso' });
    const child = (mode, chunk) => run('node',
      [CHILD, file, storage, admin.cookieHeader(), admin.csrf, mode, meta],
      { env: { ...process.env, TUS_CHUNK_SIZE: String(chunk) } }).then((r) => JSON.parse(r.stdout));

    // A first process: two chunks of 1 000 003 bytes, then it is gone.
    const first = await child('stop-after-chunks:2', 1_000_003);
    let at = await offsetOf(first.url);
    assert.equal(at, 2_000_006);
    // A chunk whose checksum fails (460) leaves the offset and the digests.
    const bad = data.subarray(at, at + 333_333);
    let r = await tusPatch(admin, first.url, at, bad, { 'Upload-Checksum': `sha256 ${digest('sha256', iso.subarray(0, 10), 'base64')}` });
    assert.equal(r.status, 460, r.text);
    assert.equal(await offsetOf(first.url), at, 'the refused chunk does not count');
    // A good one with its checksum, from this process: 12 345 bytes.
    const good = data.subarray(at, at + 12_345);
    r = await tusPatch(admin, first.url, at, good, { 'Upload-Checksum': `md5 ${digest('md5', good, 'base64')}` });
    assert.equal(r.status, 204, r.text);
    at += 12_345;
    // A second process resumes with chunks of 654 321 bytes, three of them.
    const second = await child('resume,stop-after-chunks:3', 654_321);
    assert.equal(second.url, first.url, 'the same upload');
    assert.equal(second.offsetAtStart, at, 'it starts where the last one stopped');
    assert.equal(await offsetOf(first.url), at + 3 * 654_321);
    // A third finishes it.
    const third = await child('resume', 1 << 20);
    assert.ok(third.jobId > 0, 'the last PATCH answers Upload-Job');
    const entry = await entryOf(third.jobId);
    assert.equal(entry.size_bytes, data.length);
    assert.equal(entry.md5, digest('md5', data));
    assert.equal(entry.sha256, digest('sha256', data));
  });

  test('a client gone mid-PATCH keeps what arrived; the upload goes on from there with the right digests', async () => {
    const data = isoWithTail(3 * MiB + 4097);
    const { res, url } = await tusCreate(admin, data.length, { filename: 'cut.iso', kind: 'iso' });
    assert.equal(res.status, 201, res.text);
    const sent = 2 * MiB + 4097;
    const { req, response } = streamPatch(url, 0, data.length);
    response.catch(() => {});
    req.write(data.subarray(0, sent));
    // The program writes whole blocks as they come: wait for two of them.
    await waitFor(() => partSize(url) >= 2 * MiB, 10_000);
    req.destroy();
    const at = await waitFor(async () => {
      const o = await offsetOf(url);
      return o > 0 ? o : null;
    }, 10_000);
    assert.ok(at >= 2 * MiB && at <= sent, `kept ${at} of ${sent} bytes`);
    assert.equal(partSize(url), at, 'the part holds exactly what counts');
    const r = await tusPatch(admin, url, at, data.subarray(at));
    assert.equal(r.status, 204, r.text);
    const entry = await entryOf(Number(r.headers.get('upload-job')));
    assert.equal(entry.md5, digest('md5', data));
    assert.equal(entry.sha256, digest('sha256', data));
    // The worker that lost its client lives on (spawn-fcgi restarts none).
    const pids = readFileSync(`${STATE}/run/vmm-uploads.pid`, 'utf8').split(/\s+/).filter(Boolean);
    assert.ok(pids.length > 0);
    for (const pid of pids) assert.doesNotThrow(() => process.kill(Number(pid), 0), `worker ${pid} is alive`);
  });

  test('a second PATCH while one streams is refused with 423; the first one completes', async () => {
    const data = randomBytes(4 * MiB);
    const { url } = await tusCreate(admin, 2 * data.length, { filename: 'busy.iso', kind: 'iso' });
    const { req, response } = streamPatch(url, 0, data.length);
    req.write(data.subarray(0, MiB + 1));
    await waitFor(() => partSize(url) >= MiB, 10_000);
    const other = await tusPatch(admin, url, 0, data.subarray(0, 1000));
    assert.equal(other.status, 423, other.text);
    assert.equal(JSON.parse(other.text).error.code, 'upload_locked');
    assert.equal((await tusRequest(admin, 'DELETE', url)).status, 423, 'nor can it be deleted meanwhile');
    req.end(data.subarray(MiB + 1));
    const first = await response;
    assert.equal(first.status, 204, first.text);
    assert.equal(first.headers['upload-offset'], String(data.length));
    assert.equal(await offsetOf(url), data.length);
    assert.equal((await tusRequest(admin, 'DELETE', url)).status, 204);
  });
});
