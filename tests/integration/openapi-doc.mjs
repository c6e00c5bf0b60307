// The served OpenAPI description (GET /api/v1/openapi.json) as tests walk
// it: every operation with a concrete path to ask, and whether an answer is
// one the description documents. Shared by openapi.test and
// hostile-bodies.test.
import { Client, adminClient, insertVmRow, userClient } from './lib.mjs';

export const MISSING_ID = 2147483000;

export async function fetchDoc() {
  const res = await new Client('anon').request('GET', '/api/v1/openapi.json');
  if (res.status !== 200) throw new Error(`GET /api/v1/openapi.json: ${res.status} ${res.text.slice(0, 200)}`);
  return res.body;
}

/** What a walk asks with: the served description, an administrator, a
 * plain user, and a VM row of the user's so the routes under /vms/{id}
 * reach a real object (no domain: nothing may start anything); end() drops
 * them. */
export async function walkers(prefix) {
  const admin = await adminClient();
  const user = await userClient(admin);
  const vm = insertVmRow(user.user.id, prefix);
  const doc = await fetchDoc();
  return {
    admin, user, vm, doc,
    end: async () => {
      vm.remove();
      for (const c of [user.client, admin]) await c.logout();
    },
  };
}

/** Every operation of doc: [path, method, op]. */
export function operations(doc) {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => [path, method, op]));
}

/** The id of the first object the collection (template, and concrete path) lists for client. */
async function firstId(doc, client, template, concretePath) {
  if (doc.paths[template]?.get?.['x-vmm-reply'] !== 'list') return MISSING_ID;
  const res = await client.request('GET', `/api/v1${concretePath}?per_page=1`);
  const item = Array.isArray(res.body?.data) ? res.body.data[0] : null;
  return Number.isInteger(item?.id) ? item.id : MISSING_ID;
}

/** A concrete path: ids of real objects where the client has some, else a missing one. */
export async function concretePath(doc, client, path, op) {
  let template = '';
  let done = '';
  for (const part of path.split('/').slice(1)) {
    const m = /^\{([a-z_]+)\}$/.exec(part);
    if (m) {
      const param = op.parameters.find((p) => p.name === m[1] && p.in === 'path');
      done += `/${param.schema.type === 'integer' ? await firstId(doc, client, template, done) : 'vdb'}`;
    } else {
      done += `/${part}`;
    }
    template += `/${part}`;
  }
  return done;
}

/** null when res is an answer op documents (status and envelope), else what is wrong. */
export function checkAnswer(op, res, where) {
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
