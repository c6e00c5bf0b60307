// The portal on a MariaDB Galera cluster (docs/galera.md): three nodes on
// this machine and two front-ends on them (tools/galera), each front-end
// with its own write generation, as on two machines. A write through one
// front-end shows through the other within [cache] revalidate_ms; a node
// killed mid-load loses no acknowledged row and the portal keeps answering.
//
// Front-end A (127.0.88.1) uses node 1, then 3; B (127.0.88.2) node 2,
// then 3. They have no helper: only routes that need none are used.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import {
  ADMIN_PASSWORD, ADMIN_USER, BASE, Client, ROOT, STATE, newPassword, q, uniqueName, waitFor,
} from './lib.mjs';

const DIR = `${STATE}/galera`;
const PORT = new URL(BASE).port || '80';
const A = `http://127.0.88.1:${PORT}`;
const B = `http://127.0.88.2:${PORT}`;
// A replicated write may take a moment to be applied on the other node.
const APPLY_SLACK_MS = 500;
const OUTPUT = process.env.VMM_TEST_OUTPUT || STATE;

function galera(...args) {
  const log = openSync(`${OUTPUT}/galera.log`, 'a');
  execFileSync(`${ROOT}/tools/galera`, [...args.slice(0, 1), DIR, ...args.slice(1)], {
    env: { ...process.env, VMM_STATE: STATE, VMM_PORT: PORT, VMM_WORKERS: '2' },
    stdio: ['ignore', log, log],
    timeout: 240_000,
  });
}

/** Rows of a query on node n (as root over its socket). */
function nodeSql(n, query) {
  const out = execFileSync(
    'mariadb',
    ['--no-defaults', `--socket=${DIR}/node${n}/mysqld.sock`, '-u', 'root', 'vmm', '-N', '-B', '-e', query],
    { encoding: 'utf8' },
  );
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

/** A script on node n as one client session: its exit code and errors. */
function nodeScript(n, script) {
  return new Promise((resolve) => {
    execFile(
      'mariadb',
      ['--no-defaults', `--socket=${DIR}/node${n}/mysqld.sock`, '-u', 'root', 'vmm', '-N', '-B', '-e', script],
      { encoding: 'utf8', timeout: 30_000 },
      (error, stdout, stderr) => resolve({ ok: !error, stderr }),
    );
  });
}

/** The statement quota_lock() (lib/quota.c) runs, with the user id as ?. */
function quotaLockStatement() {
  const source = readFileSync(`${ROOT}/lib/quota.c`, 'utf8');
  const body = /int quota_lock\(long long user_id\)\n\{([\s\S]*?)\n\}/.exec(source);
  assert.ok(body, 'quota_lock in lib/quota.c');
  const literal = /db_exec\("([^"]+)"/.exec(body[1]);
  assert.ok(literal, "quota_lock's statement");
  return literal[1];
}

function revalidateMs() {
  const conf = readFileSync(`${DIR}/frontend-b/vmmanager.conf`, 'utf8');
  const m = /^\[cache\][^[]*?^revalidate_ms=(\d+)/m.exec(conf);
  return Number(process.env.VMM_CACHE_REVALIDATE_MS || (m ? m[1] : 1000));
}

async function adminOn(base) {
  const c = new Client(`admin@${base}`, { base });
  await c.loginOk(ADMIN_USER, ADMIN_PASSWORD);
  return c;
}

/** A new user made through front-end `admin`; a client of it logged in on `base`. */
async function userOn(admin, base) {
  const username = uniqueName('g');
  const password = newPassword();
  const made = await admin.api('POST', '/users', { username, password, role: 'user' });
  assert.equal(made.status, 201, made.text);
  const client = new Client(username, { base });
  // Its row may reach the other node a moment later.
  await waitFor(async () => (await client.login(username, password)).status === 200, 5000, 50);
  return { client, user: made.body.data, username, password };
}

/** The same session, sent to another front-end. */
function sameSessionOn(client, base) {
  const other = new Client(`${client.name}@${base}`, { base });
  other.cookies = new Map(client.cookies);
  other.csrf = client.csrf;
  return other;
}

/** Polls until cond() holds; the milliseconds it took. */
async function shows(cond, deadlineMs) {
  const start = Date.now();
  await waitFor(cond, deadlineMs, 20);
  return Date.now() - start;
}

let adminA;
let adminB;
let revalidate;
before(async () => {
  try {
    galera('down');
  } catch {
    // nothing was running
  }
  execFileSync('rm', ['-rf', DIR]);
  galera('up');
  galera('frontends');
  revalidate = revalidateMs();
  adminA = await adminOn(A);
  adminB = await adminOn(B);
});

after(() => {
  galera('down');
});

test('three nodes form one cluster, every table has a primary key and is InnoDB', () => {
  for (const n of [1, 2, 3])
    assert.equal(nodeSql(n, "SHOW STATUS LIKE 'wsrep_cluster_size'")[0][1], '3', `node ${n}`);
  // Galera replicates InnoDB rows only, and certifies rows by their key.
  const bad = nodeSql(
    1,
    'SELECT t.table_name, t.engine FROM information_schema.tables t LEFT JOIN ' +
      'information_schema.table_constraints c ON c.table_schema = t.table_schema AND ' +
      "c.table_name = t.table_name AND c.constraint_type = 'PRIMARY KEY' " +
      "WHERE t.table_schema = 'vmm' AND t.table_type = 'BASE TABLE' AND " +
      "(c.constraint_name IS NULL OR t.engine <> 'InnoDB')",
  );
  assert.deepEqual(bad, []);
});

test('a user created and renamed through one front-end shows through the other in time', async () => {
  const { client, user, username } = await userOn(adminA, B);
  // B has read (and cached) the session and its user.
  for (let i = 0; i < 6; i++) {
    const me = await client.api('GET', '/auth/me');
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.data.user.display_name, '');
  }
  assert.equal((await adminB.api('GET', `/users/${user.id}`)).status, 200);

  const renamed = await adminA.api('PATCH', `/users/${user.id}`, { display_name: 'Über Galera' });
  assert.equal(renamed.status, 200, renamed.text);
  const took = await shows(async () => {
    const me = await client.api('GET', '/auth/me');
    return me.status === 200 && me.body.data.user.display_name === 'Über Galera';
  }, revalidate + APPLY_SLACK_MS);
  assert.ok(took <= revalidate + APPLY_SLACK_MS, `${took} ms`);
  const seen = await adminB.api('GET', `/users/${user.id}`);
  assert.equal(seen.body.data.display_name, 'Über Galera', username);
});

test('a VM handed over through one front-end shows in the warm list of the other', async () => {
  const from = await userOn(adminA, A);
  const to = await userOn(adminA, B);
  const uuid = crypto.randomUUID();
  const name = uniqueName('gvm');
  nodeSql(
    1,
    'INSERT INTO vms (uuid, domain_name, name, description, owner_id, state, vcpus, memory_mb, disk_gb) ' +
      `VALUES (${q(uuid)}, ${q(`vmm-g-${uuid.slice(0, 16)}`)}, ${q(name)}, '', ${from.user.id}, 'stopped', 1, 128, 1)`,
  );
  const names = async () => {
    const list = await to.client.get('/api/v1/vms?sort=name');
    assert.equal(list.status, 200, list.text);
    return list.body.data.map((vm) => vm.name);
  };
  // Warm on every worker of B's vmm-vms: the list is cached there.
  for (let i = 0; i < 8; i++) assert.deepEqual(await names(), []);

  const gone = await adminA.api('DELETE', `/users/${from.user.id}?reassign_to=${to.user.id}`);
  assert.equal(gone.status, 200, gone.text);
  const took = await shows(async () => (await names()).includes(name), revalidate + APPLY_SLACK_MS);
  assert.ok(took <= revalidate + APPLY_SLACK_MS, `${took} ms`);
  nodeSql(1, `DELETE FROM vms WHERE uuid = ${q(uuid)}`);
});

test('a logout or a disabled account on one front-end ends the session on the other in time', async () => {
  const { client } = await userOn(adminA, A);
  const onB = sameSessionOn(client, B);
  for (let i = 0; i < 6; i++) assert.equal((await onB.api('GET', '/auth/me')).status, 200);
  assert.equal((await client.logout()).status, 200);
  let took = await shows(async () => (await onB.api('GET', '/auth/me')).status === 401,
    revalidate + APPLY_SLACK_MS);
  assert.ok(took <= revalidate + APPLY_SLACK_MS, `logout: ${took} ms`);

  const other = await userOn(adminA, B);
  for (let i = 0; i < 6; i++) assert.equal((await other.client.api('GET', '/auth/me')).status, 200);
  const off = await adminA.api('PATCH', `/users/${other.user.id}`, { enabled: false });
  assert.equal(off.status, 200, off.text);
  took = await shows(async () => (await other.client.api('GET', '/auth/me')).status === 401,
    revalidate + APPLY_SLACK_MS);
  assert.ok(took <= revalidate + APPLY_SLACK_MS, `disabled: ${took} ms`);
});

test('the same account changed through both front-ends at once: every change is applied', async () => {
  const { user } = await userOn(adminA, A);
  // Writes to one row through two nodes: Galera lets one commit and
  // rolls the other back (a certification conflict, seen as a deadlock),
  // which the portal runs again rather than answering 503.
  const patch = (admin, i) => admin.api('PATCH', `/users/${user.id}`, { display_name: `n${i}`, email: `n${i}@example.org` });
  const answers = await Promise.all(
    Array.from({ length: 24 }, (_, i) => patch(i % 2 ? adminA : adminB, i)),
  );
  for (const res of answers) assert.equal(res.status, 200, res.text);
  // Both nodes hold one of the values sent, the same one.
  await waitFor(() => nodeSql(1, `SELECT display_name FROM users WHERE id = ${user.id}`)[0][0] ===
    nodeSql(2, `SELECT display_name FROM users WHERE id = ${user.id}`)[0][0], 5000, 50);
  assert.match(nodeSql(3, `SELECT display_name FROM users WHERE id = ${user.id}`)[0][0], /^n\d+$/);
});

test("two quota checks of one owner on two nodes at once: one commits, the other is retried", async () => {
  // A quota check's lock must conflict across nodes: Galera's row locks
  // are local, so SELECT ... FOR UPDATE on two nodes lets both checks
  // pass. quota_lock() writes the owner's row instead; the second commit
  // fails certification (1213), and db_transaction() runs its body again,
  // reading the first one's use.
  const { user } = await userOn(adminA, A);
  await waitFor(() => nodeSql(2, `SELECT COUNT(*) FROM users WHERE id = ${user.id}`)[0][0] === '1', 5000, 50);
  const lock = quotaLockStatement().replace('?', String(user.id));
  assert.match(lock, /^UPDATE users SET /, 'the quota lock is a write');
  const check = (n) => nodeScript(n, `BEGIN; ${lock}; SELECT SLEEP(1); COMMIT;`);
  for (let round = 0; round < 3; round++) {
    const results = await Promise.all([check(1), check(2)]);
    const committed = results.filter((r) => r.ok).length;
    assert.equal(committed, 1, JSON.stringify(results));
    const loser = results.find((r) => !r.ok);
    assert.match(loser.stderr, /ERROR 1213/, 'a deadlock, which db_transaction() retries');
  }
  // Each round's one commit reached every node.
  await waitFor(() => nodeSql(3, `SELECT quota_serial FROM users WHERE id = ${user.id}`)[0][0] === '3', 5000, 50);
  // What it replaces would have let both through.
  const shared = await Promise.all([1, 2].map((n) =>
    nodeScript(n, `BEGIN; SELECT id FROM users WHERE id = ${user.id} FOR UPDATE; SELECT SLEEP(1); COMMIT;`)));
  assert.deepEqual(shared.map((r) => r.ok), [true, true]);
});

test('a node killed mid-load loses no acknowledged row, and its front-end goes on on another', async () => {
  const acked = [];
  const failed = [];
  let killedAt = 0;
  let bAfterKill = 0;
  let stop = false;
  const writer = async (admin, label) => {
    while (!stop) {
      const username = uniqueName(`load${label}`);
      const res = await admin.api('POST', '/users', { username, password: newPassword(), role: 'user' });
      if (res.status === 201) {
        acked.push(username);
        if (label === 'b' && killedAt) bAfterKill++;
      } else {
        failed.push(`${label} ${res.status} ${res.body?.error?.code ?? res.text.slice(0, 80)}`);
      }
    }
  };
  const writers = [writer(adminA, 'a'), writer(adminB, 'b'), writer(adminB, 'b')];
  try {
    await waitFor(() => acked.length >= 10, 30_000, 20);
    galera('kill', '2');
    killedAt = Date.now();
    // B's workers were on node 2: they must go on with node 3.
    await waitFor(() => bAfterKill >= 5, 60_000, 50);
  } finally {
    stop = true;
    await Promise.all(writers);
  }
  assert.ok(acked.length > 15, `only ${acked.length} writes acknowledged`);
  for (const n of [1, 3]) {
    const rows = nodeSql(n, `SELECT username FROM users WHERE username IN (${acked.map(q).join(', ')})`);
    const found = new Set(rows.map((r) => r[0]));
    const lost = acked.filter((u) => !found.has(u));
    assert.deepEqual(lost, [], `node ${n} lacks acknowledged rows`);
  }
  // What failed while the cluster noticed the loss was answered as such.
  for (const f of failed) assert.match(f, / (5\d\d|409) /, f);
  // Both front-ends answer reads on what remains.
  assert.equal((await adminB.api('GET', '/auth/me')).status, 200);
  assert.equal((await adminA.api('GET', '/users')).status, 200);
  assert.equal(nodeSql(1, "SHOW STATUS LIKE 'wsrep_cluster_size'")[0][1], '2');
});
