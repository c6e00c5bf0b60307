// The OpenAPI 3.1 description of the JSON API (GET /api/v1/openapi.json),
// made by the build from the programs' own route tables (tools/vmm-openapi):
// valid by a real validator, the very file the build made, covering every
// API route the programs list, the docs' route reference generated from it
// unchanged, and true: every operation, asked by an administrator and by a
// plain user, answers a status it documents, in the envelope it documents.
//
// Requests change nothing: a write carries an unknown field (the probe), so
// it is refused at input validation (400), or earlier (401/403/404/415).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import {
  Client, ROOT, adminClient, insertVmRow, programRoutes, userClient,
} from './lib.mjs';

const MISSING_ID = 2147483000;

let admin;
let user;
let doc;
let vm;

before(async () => {
  admin = await adminClient();
  user = await userClient(admin);
  // A VM row of the plain user's, so the routes under /vms/{id} reach a
  // real object (no domain: nothing here may start anything).
  vm = insertVmRow(user.user.id, 'oa');
  const res = await new Client('anon').request('GET', '/api/v1/openapi.json');
  assert.equal(res.status, 200, res.text.slice(0, 200));
  doc = res.body;
});
after(async () => {
  vm?.remove();
  for (const c of [user?.client, admin]) await c?.logout();
});

test('the description is public, JSON, and the file the build made', async () => {
  const res = await new Client('anon').request('GET', '/api/v1/openapi.json');
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(res.body, JSON.parse(readFileSync(`${ROOT}api/openapi.json`, 'utf8')));
  assert.equal(doc.openapi, '3.1.0');
});

test('a real validator accepts it (@apidevtools/swagger-parser)', async () => {
  const api = await SwaggerParser.validate(structuredClone(doc));
  assert.ok(Object.keys(api.paths).length > 50);
});

test('every API route the programs list is an operation, with its role and body', () => {
  const missing = [];
  for (const route of programRoutes().filter((r) => r.kind !== 'page')) {
    const path = route.pattern.replace(/\{([a-z_]+):int\}/g, '{$1}');
    const op = doc.paths[path]?.[route.method.toLowerCase()];
    if (!op) {
      missing.push(`${route.method} ${route.pattern}`);
      continue;
    }
    assert.equal(op['x-vmm-role'], route.perm, `${route.method} ${path}`);
    assert.ok(op.summary, `${route.method} ${path} has no summary`);
    if (route.body) assert.deepEqual(op.requestBody.content['application/json'].schema, route.body);
  }
  assert.deepEqual(missing, [], `routes missing from openapi.json: ${missing.join(', ')}`);
  // The bodies are the field tables: POST /vms names its required fields and ranges.
  const create = doc.paths['/vms'].post.requestBody.content['application/json'].schema;
  assert.ok(create.required.includes('name') && create.required.includes('memory_mb'));
  assert.equal(create.properties.vcpus.minimum, 1);
  assert.equal(create.additionalProperties, false);
  assert.equal(create.properties.template.deprecated, true, "the guide's field is described too");
});

test("the guide's paths (lib/compat.c) are deprecated operations", () => {
  const restart = doc.paths['/vms/{id}/restart']?.post;
  assert.ok(restart, 'POST /vms/{id}/restart is described');
  assert.equal(restart.deprecated, true);
  assert.deepEqual(restart['x-vmm-alias-of'], { method: 'POST', path: '/vms/{id}/{action}' });
  assert.ok(doc.paths['/vms/{id}/hardware/cpu']?.put?.deprecated);
});

test('docs/api-reference.md is the one generated from it (make api-docs)', () => {
  const built = readFileSync(`${ROOT}api/api-reference.md`, 'utf8');
  const checkedIn = readFileSync(`${ROOT}docs/api-reference.md`, 'utf8');
  assert.ok(checkedIn === built, 'docs/api-reference.md differs from the build\'s: run `make api-docs` and commit it');
});

/** The id of the first object the collection (template, and concrete path) lists for client. */
async function firstId(client, template, concretePath) {
  if (doc.paths[template]?.get?.['x-vmm-reply'] !== 'list') return MISSING_ID;
  const res = await client.request('GET', `/api/v1${concretePath}?per_page=1`);
  const item = Array.isArray(res.body?.data) ? res.body.data[0] : null;
  return Number.isInteger(item?.id) ? item.id : MISSING_ID;
}

/** A concrete path: ids of real objects where the client has some, else a missing one. */
async function concrete(client, path, op) {
  let template = '';
  let done = '';
  for (const part of path.split('/').slice(1)) {
    const m = /^\{([a-z_]+)\}$/.exec(part);
    if (m) {
      const param = op.parameters.find((p) => p.name === m[1] && p.in === 'path');
      done += `/${param.schema.type === 'integer' ? await firstId(client, template, done) : 'vdb'}`;
    } else {
      done += `/${part}`;
    }
    template += `/${part}`;
  }
  return done;
}

function checkAnswer(op, res, where) {
  const documented = Object.keys(op.responses).map(Number);
  if (!documented.includes(res.status)) {
    return `${where}: ${res.status}, documented ${documented.join(' ')} (${res.text.slice(0, 120).replace(/\s+/g, ' ')})`;
  }
  if (op.deprecated && res.headers.get('deprecation') !== 'true') return `${where}: no Deprecation header`;
  const json = (res.headers.get('content-type') || '').startsWith('application/json');
  if (res.status === 204) return res.text === '' ? null : `${where}: 204 with a body`;
  if (res.status >= 400) {
    if (!json) return `${where}: ${res.status} not JSON`;
    const e = res.body?.error;
    return res.body?.success === false && typeof e?.code === 'string' && typeof e?.message === 'string'
      ? null : `${where}: error envelope ${res.text.slice(0, 120)}`;
  }
  if (op['x-vmm-reply'] === 'raw') return null;
  if (!json || res.body?.success !== true || !('data' in res.body)) return `${where}: envelope ${res.text.slice(0, 120)}`;
  const { data, meta } = res.body;
  if (res.status === 202) {
    return ['id', 'kind', 'state'].every((k) => k in (meta?.job ?? {})) ? null : `${where}: 202 without meta.job`;
  }
  if (op['x-vmm-reply'] === 'list' && res.status === 200) {
    if (!Array.isArray(data)) return `${where}: a list's data is not an array`;
    return ['total', 'page', 'per_page'].every((k) => Number.isInteger(meta?.[k])) ? null : `${where}: a list without paging`;
  }
  if (op['x-vmm-reply'] === 'items' && res.status === 200) {
    return Array.isArray(data) ? null : `${where}: data is not a list`;
  }
  return data !== null && typeof data === 'object' && !Array.isArray(data) ? null : `${where}: data is not an object`;
}

test('every operation answers as described, for an administrator and a plain user', async () => {
  const wrong = [];
  let asked = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      for (const [who, client] of [['admin', admin], ['user', user.client]]) {
        const url = `/api/v1${await concrete(client, path, op)}`;
        const headers = path.startsWith('/uploads') ? { 'Tus-Resumable': '1.0.0' } : {};
        const upper = method.toUpperCase();
        const res = ['GET', 'HEAD', 'OPTIONS'].includes(upper)
          ? await client.request(upper, url, { headers })
          : await client.request(upper, url, { headers, json: { openapi_probe: 1 } });
        asked++;
        const problem = checkAnswer(op, res, `${upper} ${url} (${path}) as ${who}`);
        if (problem) wrong.push(problem);
      }
    }
  }
  assert.ok(asked > 200, `asked ${asked}`);
  assert.deepEqual(wrong, [], `answers that differ from openapi.json:\n${wrong.join('\n')}`);
});
