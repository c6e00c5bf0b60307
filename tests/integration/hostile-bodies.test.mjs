// Hostile request bodies, made from the API's own description: for every
// operation that takes a JSON body and every field of it, a body holding
// just that field with a value its schema forbids (a wrong type, one past
// a bound, a length over the limit, a control character, a value outside
// its enum, a bad array item), and bodies that are not objects at all or
// nest deeper than any parser should follow. Asked as an administrator (who
// passes every rights check, so the body is what is judged) and as a plain
// user: each answer is a documented 4xx in the error envelope, never a
// success and never a server error, and no object appears. The same for
// each query parameter's forbidden values, and for ids in paths that no
// object can have (0, -1, past int64, words, a NUL, an encoded slash).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from './lib.mjs';
import { checkAnswer, concretePath, operations, walkers } from './openapi-doc.mjs';

// The tables of things a request makes; none may grow here.
const OBJECT_TABLES = [
  'users', 'templates', 'vms', 'quotas', 'isos', 'api_tokens', 'avatars', 'uploads', 'console_tokens',
  'networks', 'vm_nics', 'ip_pools', 'ip_allocations', 'storage_pools', 'notification_channels',
  'alert_rules', 'alert_rule_channels', 'snapshots', 'snapshot_policies', 'vm_disks', 'vm_port_forwards',
  'backups', 'backup_disks', 'backup_policies', 'vm_installs', 'install_configs', 'hosts', 'jobs',
];
// Placeholders JSON.stringify keeps as strings, swapped for raw number text.
const RAW = new Map([
  ['@int64+1', '9223372036854775808'],
  ['@huge', '1e400'],
]);

let admin;
let user;
let doc;
let ends;

before(async () => {
  ({ admin, user, doc, end: ends } = await walkers('hb'));
});
after(() => ends?.());

/** Values the schema s of one field forbids, each with a word on what it
 * tries (none for the guide's untyped alias fields, which take many shapes). */
function forbidden(s) {
  if (!s.type) return [];
  const types = [s.type].flat();
  const out = [];
  const notA = (t, value, what) => { if (!types.includes(t)) out.push([what, value]); };
  if (!types.includes('null')) out.push(['null', null]);
  notA('string', 'x', 'a string');
  notA('boolean', true, 'a boolean');
  if (!types.includes('integer') && !types.includes('number')) out.push(['a number', 7]);
  notA('object', { a: 1 }, 'an object');
  notA('array', [1], 'an array');
  if (types.includes('string')) {
    if (s.maxLength !== undefined) out.push(['one character too many', 'é'.repeat(s.maxLength + 1)]);
    if (s.minLength > 0) out.push(['empty', '']);
    if (s.pattern) out.push(['a NUL byte', 'a\u0000b'], ['an escape character', 'a\u001bb']);
    if (s.enum) out.push(['outside the enum', 'zz-no-such-choice']);
  }
  if (types.includes('integer') || types.includes('number')) {
    if (types.includes('integer')) out.push(['a fraction', 1.5], ['digits in a string', '12']);
    if (s.maximum !== undefined) {
      out.push(['one past the maximum', s.maximum >= Number.MAX_SAFE_INTEGER ? '@int64+1' : s.maximum + 1]);
    }
    if (s.minimum !== undefined) out.push(['one under the minimum', s.minimum - 1]);
    out.push(['out of any range', '@huge']);
  }
  if (types.includes('array')) {
    const item = s.items ?? {};
    if (item.type === 'integer') out.push(['a string item', ['x']]);
    if (item.type === 'string') out.push(['a number item', [5]]);
    if (item.minimum !== undefined) out.push(['an item under the minimum', [item.minimum - 1]]);
    if (item.enum) out.push(['an item outside the enum', ['zz-no-such-choice']]);
    if (s.maxItems !== undefined) out.push(['too many items', Array.from({ length: s.maxItems + 1 }, (_, i) => i + 1)]);
    if (s.uniqueItems) out.push(['a repeated item', item.type === 'string' ? [item.enum?.[0] ?? 'a', item.enum?.[0] ?? 'a'] : [1, 1]]);
  }
  if (types.includes('object') && s.minProperties > 0) out.push(['an empty object', {}]);
  return out;
}

/** The raw text of a body of one field. */
function bodyText(name, value) {
  let text = JSON.stringify({ [name]: value });
  for (const [placeholder, raw] of RAW) text = text.replace(JSON.stringify(placeholder), raw);
  return text;
}

// Bodies that are not an object of fields, whatever the operation.
const NOT_OBJECTS = [
  ['null', 'null'], ['a list', '[]'], ['a string', '"x"'], ['a number', '1'],
  ['nested 100000 deep', `${'['.repeat(100000)}${']'.repeat(100000)}`],
  ['an object nested 100000 deep', `${'{"a":'.repeat(100000)}1${'}'.repeat(100000)}`],
  ['a repeated key', '{"openapi_probe":1,"openapi_probe":2}'],
];

function counts() {
  return Object.fromEntries(OBJECT_TABLES.map((t) => [t, Number(sql(`SELECT COUNT(*) FROM ${t}`)[0][0])]));
}

test('every field of every JSON body, given what its schema forbids, is refused with a documented 4xx', async (t) => {
  const before = counts();
  const wrong = [];
  let asked = 0;
  let fieldAsked = 0;   // the admin's one-field bodies
  let fieldNamed = 0;   // ... refused with a 400 naming that field
  for (const [path, method, op] of operations(doc)) {
    const schema = op.requestBody?.content?.['application/json']?.schema;
    if (!schema) continue;
    const bodies = NOT_OBJECTS.map(([what, text]) => [what, text]);
    for (const [name, s] of Object.entries(schema.properties ?? {})) {
      for (const [what, value] of forbidden(s)) bodies.push([`${name}: ${what}`, bodyText(name, value), name]);
    }
    for (const [who, client] of [['admin', admin], ['user', user.client]]) {
      const url = `/api/v1${await concretePath(doc, client, path, op)}`;
      const headers = path.startsWith('/uploads') ? { 'Tus-Resumable': '1.0.0' } : {};
      for (const [what, text, field] of bodies) {
        const res = await client.request(method.toUpperCase(), url, { headers, body: text, type: 'application/json' });
        asked++;
        if (field && who === 'admin') {
          fieldAsked++;
          if (res.status === 400 && res.body?.error?.field === field) fieldNamed++;
        }
        const where = `${method.toUpperCase()} ${path} as ${who}, ${what}`;
        if (res.status < 400) wrong.push(`${where}: accepted (${res.status} ${res.text.slice(0, 100)})`);
        else {
          const problem = checkAnswer(op, res, where);
          if (problem) wrong.push(problem);
        }
      }
    }
  }
  assert.ok(asked > 1000, `asked ${asked}`);
  t.diagnostic(`${asked} bodies; ${fieldNamed} of the admin's ${fieldAsked} one-field bodies refused naming their field`);
  // The rest are numbers past int64 or double (400 invalid_json), the
  // guide's routes (422) and objects the admin has none of (404): were most
  // refusals for another reason, the bodies would be judged by nothing.
  assert.ok(fieldNamed > fieldAsked * 0.75, 'most one-field bodies are refused for that field');
  assert.deepEqual(wrong, [], `answers to forbidden bodies:\n${wrong.join('\n')}`);
  const grown = Object.entries(counts()).filter(([t, n]) => n > before[t]).map(([t, n]) => `${t} ${before[t]} -> ${n}`);
  assert.deepEqual(grown, [], 'no object was made');
});

/** Query values (URL-encoded) the schema s of one parameter forbids. An
 * empty value is not among them: it is what a form's blank field sends,
 * and means "not given". */
function forbiddenQuery(s) {
  const out = [['a NUL byte', '%00'], ['invalid UTF-8', '%FF%FE']];
  if (s.type === 'integer') {
    out.push(['a word', 'x'], ['a fraction', '1.5'], ['past int64', '9223372036854775808']);
    if (s.minimum !== undefined) out.push(['one under the minimum', String(s.minimum - 1)]);
    if (s.maximum !== undefined) out.push(['one past the maximum', String(s.maximum + 1)]);
  }
  return out;
}

test('every query parameter, given what its schema forbids, is refused with a documented 4xx', async () => {
  const wrong = [];
  let asked = 0;
  for (const [path, method, op] of operations(doc)) {
    const params = (op.parameters ?? []).filter((p) => p.in === 'query');
    for (const [who, client] of params.length ? [['admin', admin], ['user', user.client]] : []) {
      const url = `/api/v1${await concretePath(doc, client, path, op)}`;
      for (const p of params) {
        for (const [what, value] of forbiddenQuery(p.schema ?? {})) {
          const res = await client.request(method.toUpperCase(), `${url}?${p.name}=${value}`);
          asked++;
          const where = `${method.toUpperCase()} ${path}?${p.name} as ${who}, ${what}`;
          if (res.status < 400) wrong.push(`${where}: accepted (${res.status})`);
          else {
            const problem = checkAnswer(op, res, where);
            if (problem) wrong.push(problem);
          }
        }
      }
    }
  }
  assert.ok(asked > 100, `asked ${asked}`);
  assert.deepEqual(wrong, [], `answers to forbidden query values:\n${wrong.join('\n')}`);
});

test('every id in a path, given what no object has, answers a 4xx, never a success or a server error', async () => {
  const BAD_IDS = ['0', '-1', '1.5', '0x10', '99999999999999999999', 'abc', '%00', '1%2F2'];
  const wrong = [];
  let asked = 0;
  for (const [path, method, op] of operations(doc)) {
    const ids = (op.parameters ?? []).filter((p) => p.in === 'path' && p.schema?.type === 'integer');
    for (const bad of ids.length ? BAD_IDS : []) {
      const url = `/api/v1${path.replace(/\{[a-z_]+\}/g, (m) => (ids.some((p) => `{${p.name}}` === m) ? bad : 'vdb'))}`;
      const upper = method.toUpperCase();
      const res = ['GET', 'HEAD', 'OPTIONS'].includes(upper)
        ? await admin.request(upper, url)
        : await admin.request(upper, url, { json: {} });
      asked++;
      const where = `${upper} ${url} as admin`;
      if (res.status < 400) wrong.push(`${where}: accepted (${res.status})`);
      else if (res.status >= 500) wrong.push(`${where}: ${res.status} ${res.text.slice(0, 100)}`);
    }
  }
  assert.ok(asked > 200, `asked ${asked}`);
  assert.deepEqual(wrong, [], `answers to ids no object has:\n${wrong.join('\n')}`);
});
