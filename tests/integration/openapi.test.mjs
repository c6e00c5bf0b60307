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
  Client, ROOT, programRoutes,
} from './lib.mjs';
import { checkAnswer, concretePath, walkers } from './openapi-doc.mjs';

let admin;
let user;
let doc;
let ends;

before(async () => {
  ({ admin, user, doc, end: ends } = await walkers('oa'));
});
after(() => ends?.());

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

test("the guide's paths (lib/web/compat.c) are deprecated operations", () => {
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


test('every operation answers as described, for an administrator and a plain user', async () => {
  const wrong = [];
  let asked = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      for (const [who, client] of [['admin', admin], ['user', user.client]]) {
        const url = `/api/v1${await concretePath(doc, client, path, op)}`;
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
