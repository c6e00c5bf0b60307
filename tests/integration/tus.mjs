// tus helpers of the upload suites: a real tus client (tus-js-client, as
// a browser page or Uppy would use it) with the session of a Client, and
// raw tus requests for what a well-behaved client never sends.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tus from 'tus-js-client';
import { BASE, waitFor } from './lib.mjs';

export const ENDPOINT = `${BASE}/api/v1/uploads`;

/** Headers that carry a Client's session and CSRF token. */
export function authHeaders(client) {
  return { Cookie: client.cookieHeader(), 'X-CSRF-Token': client.csrf };
}

/**
 * Uploads data (Buffer or stream) with tus-js-client. Resolves with
 * { url, jobId, progress: [percent...] }; rejects with the client's error.
 */
export function tusUpload(client, data, metadata, opts = {}) {
  return new Promise((resolve, reject) => {
    const progress = [];
    const upload = new tus.Upload(data, {
      endpoint: ENDPOINT,
      headers: authHeaders(client),
      metadata,
      chunkSize: opts.chunkSize ?? 1 << 20,
      uploadSize: opts.uploadSize,
      retryDelays: null,
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => progress.push(Math.floor((sent / total) * 100)),
      onSuccess: (payload) => resolve({
        url: upload.url, jobId: Number(payload.lastResponse.getHeader('Upload-Job')), progress,
      }),
      onError: reject,
      ...opts.tus,
    });
    upload.start();
  });
}

/** A raw tus request with the client's session (Tus-Resumable unless told). */
export async function tusRequest(client, method, url, { headers = {}, body, version = '1.0.0' } = {}) {
  const h = { ...authHeaders(client), ...headers };
  if (version) h['Tus-Resumable'] = version;
  const res = await fetch(url.startsWith('http') ? url : BASE + url, { method, headers: h, body });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { json = null; }
  return { status: res.status, headers: res.headers, text, body: json };
}

/** Upload-Metadata from an object. */
export function metadataHeader(meta) {
  return Object.entries(meta)
    .map(([k, v]) => `${k} ${Buffer.from(String(v)).toString('base64')}`)
    .join(',');
}

/** POSTs a new upload; returns its absolute URL (asserting 201 is the caller's). */
export async function tusCreate(client, length, meta) {
  const res = await tusRequest(client, 'POST', '/api/v1/uploads', {
    headers: { 'Upload-Length': String(length), 'Upload-Metadata': metadataHeader(meta) },
  });
  return { res, url: res.headers.get('location') ? BASE + res.headers.get('location') : null };
}

export function tusPatch(client, url, offset, body, headers = {}) {
  return tusRequest(client, 'PATCH', url, {
    headers: { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset), ...headers },
    body,
  });
}

export function digest(algorithm, data, encoding = 'hex') {
  return createHash(algorithm).update(data).digest(encoding);
}

/** Waits for a job to finish; returns it. */
export async function waitJob(client, id, deadlineMs = 60_000) {
  return waitFor(async () => {
    const res = await client.api('GET', `/jobs/${id}`);
    const job = res.body?.data;
    return job && ['succeeded', 'failed', 'cancelled'].includes(job.state) ? job : null;
  }, deadlineMs, 100);
}

/** Uploads the file at path and waits for its import; returns the job's result ({template_id} or {iso_id}). */
export async function importFile(client, path, metadata, deadlineMs = 120_000) {
  const up = await tusUpload(client, readFileSync(path), metadata, { chunkSize: 8 << 20 });
  const job = await waitJob(client, up.jobId, deadlineMs);
  if (job.state !== 'succeeded') throw new Error(`import of ${path}: ${job.state}: ${job.message}`);
  return job.result;
}
