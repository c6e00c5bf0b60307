// tus uploads through nginx with a real tus client (tus-js-client): whole
// uploads, an upload resumed by a new process, checksums, offsets,
// concurrency, termination, expiry and limits. The import of what arrives
// is covered by images.test.mjs.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import {
  adminClient, Client, sql, STATE, userClient, waitFor,
} from './lib.mjs';
import {
  digest, metadataHeader, tusCreate, tusPatch, tusRequest, tusUpload, waitJob,
} from './tus.mjs';

const run = promisify(execFile);
const ISO = new URL('../../var/images/vmm-test-installer.iso', import.meta.url).pathname;
const partPath = (id) => `${STATE}/uploads/parts/${id}`;
const idOf = (url) => Number(url.split('/').pop());

let admin;
let iso;

before(async () => {
  admin = await adminClient();
  iso = readFileSync(ISO);
});

function tusError(res, status, code) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text.slice(0, 300)}`);
  assert.equal(res.headers.get('tus-resumable'), '1.0.0');
  if (code) assert.equal(res.body?.error?.code, code, res.text);
}

describe('the tus protocol', () => {
  test('OPTIONS lists the version, extensions, checksum algorithms and the size limit', async () => {
    const res = await tusRequest(new Client(), 'OPTIONS', '/api/v1/uploads', { version: null });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('tus-version'), '1.0.0');
    assert.deepEqual(res.headers.get('tus-extension').split(','),
      ['creation', 'termination', 'checksum', 'expiration']);
    assert.deepEqual(res.headers.get('tus-checksum-algorithm').split(','), ['md5', 'sha1', 'sha256']);
    assert.ok(Number(res.headers.get('tus-max-size')) >= 1 << 30);
  });

  test('a whole ISO through tus-js-client, in chunks, becomes a library entry', async () => {
    const up = await tusUpload(admin, iso, { filename: 'installer.iso', kind: 'iso', name: '安装盘' },
      { chunkSize: 4 << 20 });
    assert.equal(up.progress.at(-1), 100);
    assert.ok(up.jobId > 0, 'the last PATCH answers Upload-Job');
    const job = await waitJob(admin, up.jobId);
    assert.equal(job.state, 'succeeded', job.message);
    const res = await admin.api('GET', `/isos/${job.result.iso_id}`);
    assert.equal(res.status, 200);
    const entry = res.body.data;
    assert.equal(entry.name, '安装盘');
    assert.equal(entry.status, 'ready');
    assert.equal(entry.size_bytes, iso.length);
    assert.equal(entry.md5, digest('md5', iso));
    assert.equal(entry.sha256, digest('sha256', iso));
    assert.equal(entry.volume_label, 'VMMTEST_INSTALL');
    // The upload is gone once imported: its row, its file, its URL.
    assert.equal(sql(`SELECT COUNT(*) FROM uploads WHERE id = ${idOf(up.url)}`)[0][0], '0');
    assert.equal(existsSync(partPath(idOf(up.url))), false);
    assert.equal((await tusRequest(admin, 'HEAD', up.url)).status, 404);
  });

  test('an upload interrupted by a closed process resumes from a new one where it stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmm-tus-'));
    const file = join(dir, 'big.iso');
    writeFileSync(file, iso);
    const storage = join(dir, 'urls.json');
    const child = new URL('./tus-child.mjs', import.meta.url).pathname;
    const meta = JSON.stringify({ filename: 'resumed.iso', kind: 'iso' });
    const env = { ...process.env };
    const args = (mode) => [child, file, storage, admin.cookieHeader(), admin.csrf, mode, meta];

    const first = JSON.parse((await run('node', args('stop-after-chunks:5'), { env })).stdout);
    assert.equal(first.chunks, 5);
    const head = await tusRequest(admin, 'HEAD', first.url);
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('upload-offset')), 5 << 20, 'five 1 MiB chunks are kept');
    assert.equal(Number(head.headers.get('upload-length')), iso.length);
    assert.ok(head.headers.get('upload-expires'));
    assert.equal(head.headers.get('cache-control'), 'no-store');

    const second = JSON.parse((await run('node', args('resume'), { env })).stdout);
    assert.equal(second.url, first.url, 'the same upload');
    assert.equal(second.offsetAtStart, 5 << 20, 'no byte sent twice');
    const job = await waitJob(admin, second.jobId);
    assert.equal(job.state, 'succeeded', job.message);
    const entry = (await admin.api('GET', `/isos/${job.result.iso_id}`)).body.data;
    assert.equal(entry.sha256, digest('sha256', iso), 'the resumed file is the original');
  });

  test('a chunk that fails its checksum is refused (460) and the upload stays at its last good offset', async () => {
    const data = randomBytes(3 << 20);
    const { res, url } = await tusCreate(admin, data.length, { filename: 'c.iso', kind: 'iso' });
    assert.equal(res.status, 201, res.text);
    const one = data.subarray(0, 1 << 20);
    let r = await tusPatch(admin, url, 0, one, { 'Upload-Checksum': `sha1 ${digest('sha1', one, 'base64')}` });
    assert.equal(r.status, 204, r.text);
    assert.equal(r.headers.get('upload-offset'), String(1 << 20));
    const two = data.subarray(1 << 20, 2 << 20);
    r = await tusPatch(admin, url, 1 << 20, two, { 'Upload-Checksum': `sha256 ${digest('sha256', one, 'base64')}` });
    tusError(r, 460, 'checksum_mismatch');
    r = await tusRequest(admin, 'HEAD', url);
    assert.equal(r.headers.get('upload-offset'), String(1 << 20));
    assert.equal(readFileSync(partPath(idOf(url))).length, 1 << 20, 'nothing of the bad chunk was kept');
    r = await tusPatch(admin, url, 1 << 20, two, { 'Upload-Checksum': `md5 ${digest('md5', two, 'base64')}` });
    assert.equal(r.status, 204, r.text);
    tusError(await tusPatch(admin, url, 2 << 20, two, { 'Upload-Checksum': 'crc32 AAAA' }), 400, 'checksum_algorithm');
    assert.equal((await tusRequest(admin, 'DELETE', url)).status, 204);
  });

  test('offsets, versions and content types are checked', async () => {
    const data = randomBytes(1 << 20);
    const { url } = await tusCreate(admin, data.length, { filename: 'o.iso', kind: 'iso' });
    tusError(await tusPatch(admin, url, 4096, data.subarray(0, 4096)), 409, 'offset_mismatch');
    tusError(await tusRequest(admin, 'PATCH', url, {
      headers: { 'Content-Type': 'application/octet-stream', 'Upload-Offset': '0' }, body: data,
    }), 415, 'unsupported_media_type');
    const old = await tusRequest(admin, 'PATCH', url, {
      headers: { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '0' }, body: data,
      version: '0.2.2',
    });
    tusError(old, 412, 'tus_version');
    assert.equal(old.headers.get('tus-version'), '1.0.0');
    tusError(await tusRequest(admin, 'PATCH', url, {
      headers: { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '-1' }, body: data,
    }), 400, 'invalid_offset');
    tusError(await tusPatch(admin, url, 0, Buffer.concat([data, data])), 413, 'upload_too_large');
    const r = await tusPatch(admin, url, 0, data);
    assert.equal(r.status, 204);
    assert.ok(Number(r.headers.get('upload-job')) > 0);
    // Complete: importing (409) or already imported and gone (404).
    const after = await tusPatch(admin, url, data.length, data);
    assert.ok([404, 409].includes(after.status), after.text);
  });

  test('a second PATCH on the same upload while one runs is refused; concurrent uploads all finish', async () => {
    const data = randomBytes(16 << 20);
    const { url } = await tusCreate(admin, data.length * 2, { filename: 'race.iso', kind: 'iso' });
    const results = await Promise.all([tusPatch(admin, url, 0, data), tusPatch(admin, url, 0, data)]);
    const codes = results.map((r) => r.status).sort();
    assert.equal(codes[0], 204, `one PATCH wins: ${codes}`);
    assert.ok([409, 423].includes(codes[1]), `the other is refused: ${codes}`);
    const head = await tusRequest(admin, 'HEAD', url);
    assert.equal(head.headers.get('upload-offset'), String(data.length));
    assert.equal(readFileSync(partPath(idOf(url))).length, data.length);
    assert.equal((await tusRequest(admin, 'DELETE', url)).status, 204);

    const { client } = await userClient(admin);
    const files = [0, 1, 2].map(() => randomBytes(3 << 20));
    const ups = await Promise.all(files.map((f, i) => tusUpload(i === 1 ? client : admin, f,
      { filename: `p${i}.iso`, kind: 'iso' }, { chunkSize: 1 << 20 })));
    for (const up of ups) {
      const job = await waitJob(up === ups[1] ? client : admin, up.jobId);
      assert.equal(job.state, 'failed', 'random bytes are no ISO');
      assert.match(job.message, /not an ISO 9660 or UDF image/);
    }
  });

  test('DELETE aborts an upload: its file and row go', async () => {
    const { url } = await tusCreate(admin, 2 << 20, { filename: 'd.iso', kind: 'iso' });
    await tusPatch(admin, url, 0, randomBytes(1 << 20));
    assert.ok(existsSync(partPath(idOf(url))));
    assert.equal((await tusRequest(admin, 'DELETE', url)).status, 204);
    assert.equal(existsSync(partPath(idOf(url))), false);
    assert.equal((await tusRequest(admin, 'HEAD', url)).status, 404);
  });

  test('an upload is its owner\'s alone', async () => {
    const { client } = await userClient(admin);
    const { url } = await tusCreate(client, 1 << 20, { filename: 'mine.iso', kind: 'iso' });
    assert.equal((await tusRequest(admin, 'HEAD', url)).status, 404);
    tusError(await tusPatch(admin, url, 0, randomBytes(1024)), 404, 'not_found');
    tusError(await tusRequest(admin, 'DELETE', url), 404, 'not_found');
    assert.equal((await tusRequest(new Client(), 'HEAD', url)).status, 401);
    assert.equal((await tusRequest(client, 'HEAD', url)).status, 200);
    // A cookie without the CSRF token cannot write.
    const res = await fetch(url, {
      method: 'DELETE', headers: { Cookie: client.cookieHeader(), 'Tus-Resumable': '1.0.0' },
    });
    assert.equal(res.status, 403);
  });

  test('abandoned uploads expire: file and row are removed without a cron daemon', async () => {
    const { url } = await tusCreate(admin, 2 << 20, { filename: 'old.iso', kind: 'iso' });
    await tusPatch(admin, url, 0, randomBytes(1 << 20));
    sql(`UPDATE uploads SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 MINUTE WHERE id = ${idOf(url)}`);
    assert.equal((await tusRequest(admin, 'HEAD', url)).status, 404, 'expired at once for the client');
    // The next creation sweeps.
    const next = await tusCreate(admin, 10, { filename: 'n.iso', kind: 'iso' });
    assert.equal(next.res.status, 201);
    assert.equal(existsSync(partPath(idOf(url))), false);
    assert.equal(sql(`SELECT COUNT(*) FROM uploads WHERE id = ${idOf(url)}`)[0][0], '0');
    await tusRequest(admin, 'DELETE', next.url);
  });

  test('limits: Upload-Length above the maximum (413), above a user\'s quota (413), bad metadata (400)', async () => {
    let { res } = await tusCreate(admin, 2 ** 50, { filename: 'huge.iso', kind: 'iso' });
    tusError(res, 413, 'upload_too_large');
    const { client, user } = await userClient(admin);
    // The user's own image quota (issue 6's quotas): 1 GiB. Unfinished
    // uploads count with their whole length.
    assert.equal((await admin.api('PUT', `/users/${user.id}/quota`, {
      max_vms: 10, max_vcpus: 16, max_memory_mb: 32768, max_disk_gb: 500, max_image_gb: 1,
    })).status, 200);
    ({ res } = await tusCreate(client, 2 ** 30 + 1, { filename: 'big.iso', kind: 'iso' }));
    tusError(res, 413, 'quota_exceeded');
    const held = await tusCreate(client, 2 ** 29, { filename: 'half.iso', kind: 'iso' });
    assert.equal(held.res.status, 201);
    const usage = (await admin.api('GET', `/users/${user.id}/quota`)).body.data.usage;
    assert.equal(usage.image_bytes, 2 ** 29);
    ({ res } = await tusCreate(client, 2 ** 29 + 1, { filename: 'more.iso', kind: 'iso' }));
    tusError(res, 413, 'quota_exceeded');
    await tusRequest(client, 'DELETE', held.url);
    ({ res } = await tusCreate(client, 100, { filename: 'x', kind: 'movie' }));
    tusError(res, 400, 'invalid_metadata');
    ({ res } = await tusCreate(client, 100, { filename: 'x' }));
    tusError(res, 400, 'missing_metadata');
    ({ res } = await tusCreate(client, 100, { filename: 'x', kind: 'template', format: 'qcow2', visibility: 'public' }));
    tusError(res, 403, 'forbidden');
    res = await tusRequest(client, 'POST', '/api/v1/uploads', {
      headers: { 'Upload-Length': '100', 'Upload-Metadata': 'kind !!!notbase64' },
    });
    tusError(res, 400);
    res = await tusRequest(client, 'POST', '/api/v1/uploads', { headers: { 'Upload-Defer-Length': '1' } });
    tusError(res, 400, 'defer_length');
    res = await tusRequest(client, 'POST', '/api/v1/uploads', { headers: { 'Upload-Length': 'abc' } });
    tusError(res, 400, 'invalid_length');
    // A chunk past the announced length is refused before a byte is written.
    const small = await tusCreate(client, 10, { filename: 's.iso', kind: 'iso' });
    tusError(await tusPatch(client, small.url, 0, randomBytes(11)), 413, 'upload_too_large');
    assert.equal(statSync(partPath(idOf(small.url))).size, 0, 'nothing of it was kept');
    await tusRequest(client, 'DELETE', small.url);
  });

  test('a file name with a path and control characters is stored as text, never used as a path', async () => {
    const name = '../../etc/passwd\u0001\u001b[31m';
    const up = await tusUpload(admin, iso, { filename: name, kind: 'iso' }, { chunkSize: 16 << 20 });
    const job = await waitJob(admin, up.jobId);
    assert.equal(job.state, 'succeeded', job.message);
    const entry = (await admin.api('GET', `/isos/${job.result.iso_id}`)).body.data;
    assert.equal(entry.name, '../../etc/passwd__[31m');
    const file = sql(`SELECT file_name FROM isos WHERE id = ${job.result.iso_id}`)[0][0];
    assert.match(file, /^iso-[0-9a-f]{16}\.iso$/);
    assert.ok(existsSync(`${STATE}/pool/isos/${file}`));
    assert.equal((await admin.api('DELETE', `/isos/${job.result.iso_id}`)).status, 200);
  });
});

describe('the upload page', () => {
  test('lists the caller\'s unfinished uploads with their progress; Discard ends one', async () => {
    const owner = await userClient(admin);
    const other = await userClient(admin);
    const made = await tusCreate(owner.client, 4000, { filename: '半截.iso', kind: 'iso' });
    assert.equal(made.res.status, 201);
    assert.equal((await tusPatch(owner.client, made.url, 0, Buffer.alloc(1000, 7))).status, 204);

    let page = await owner.client.page('/uploads');
    assert.equal(page.status, 200);
    assert.match(page.text, /<td>半截\.iso<\/td>/);
    assert.match(page.text, /25% \(1000 \/ 4000\)/);
    assert.ok(!(await other.client.page('/uploads')).text.includes('半截.iso'), 'only the owner sees it');
    await other.client.page('/uploads');
    assert.equal((await other.client.postForm(`/uploads/${idOf(made.url)}/delete`, {})).status, 404);

    const res = await owner.client.postForm(`/uploads/${idOf(made.url)}/delete`, {});
    assert.equal(res.status, 303);
    assert.equal(res.location, '/uploads');
    assert.equal((await tusRequest(owner.client, 'HEAD', made.url)).status, 404);
    assert.equal(existsSync(partPath(idOf(made.url))), false);
    page = await owner.client.page('/uploads');
    assert.ok(!page.text.includes('半截.iso'));
  });
});

describe('a full disk', () => {
  // The upload area on a 48 MiB tmpfs for this test (the stack runs as root).
  const MiB = 2 ** 20;
  const dir = `${STATE}/uploads`;

  test('507 at creation when the file cannot fit, 507 mid-upload keeping the last chunk; no library entry', async () => {
    const subdirs = ['parts'].map((name) => ({ name, st: statSync(`${dir}/${name}`) }));
    await run('mount', ['-t', 'tmpfs', '-o', 'size=48m,mode=0755', 'tmpfs', dir]);
    try {
      for (const { name, st } of subdirs) {
        mkdirSync(`${dir}/${name}`, { mode: st.mode & 0o7777 });
        chownSync(`${dir}/${name}`, st.uid, st.gid);
      }
      const { client, user } = await userClient(admin);
      const isos = () => sql('SELECT COUNT(*) FROM isos')[0][0];
      const before = isos();

      let { res } = await tusCreate(client, 64 * MiB, { filename: 'huge.iso', kind: 'iso' });
      tusError(res, 507, 'insufficient_storage');
      assert.equal(sql(`SELECT COUNT(*) FROM uploads WHERE owner_id = ${user.id}`)[0][0], '0',
        'no upload row is left by a refused creation');

      const made = await tusCreate(client, 40 * MiB, { filename: 'fills.iso', kind: 'iso' });
      assert.equal(made.res.status, 201, made.res.text);
      res = await tusPatch(client, made.url, 0, Buffer.alloc(24 * MiB, 1));
      assert.equal(res.status, 204, res.text);
      // Another file fills the disk meanwhile (44 of 48 MiB): the 16 MiB
      // chunk stops a few MiB in.
      writeFileSync(`${dir}/filler`, Buffer.alloc(20 * MiB));
      res = await tusPatch(client, made.url, 24 * MiB, Buffer.alloc(16 * MiB, 2));
      tusError(res, 507, 'insufficient_storage');
      res = await tusRequest(client, 'HEAD', made.url);
      assert.equal(res.headers.get('upload-offset'), String(24 * MiB), 'the upload keeps its last good chunk');
      assert.equal(statSync(partPath(idOf(made.url))).size, 24 * MiB, 'the part is cut back');
      assert.equal(isos(), before, 'no library entry');
      res = await tusRequest(client, 'DELETE', made.url);
      assert.equal(res.status, 204, res.text);
    } finally {
      await run('umount', [dir]);
    }
  });
});
