// The helper believes an actor id only with the proof the web program was
// given: the raw session or API token, live in the database and of that
// user. Here a process with the web user's uid (vmm) talks to the helper
// socket directly, as any such process could.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { adminClient, userClient, sql, STATE, ADMIN_USER, q, dataOf } from './lib.mjs';

const CLIENT = new URL('./helper-client.mjs', import.meta.url).pathname;
const uid = Number(execFileSync('id', ['-u', 'vmm'], { encoding: 'utf8' }));
const gid = Number(execFileSync('id', ['-g', 'vmm'], { encoding: 'utf8' }));

/** Runs helper-client.mjs as the vmm user. */
function asWebUser(mode, arg) {
  const out = execFileSync(process.execPath, [CLIENT, mode, arg], {
    uid, gid, encoding: 'utf8', env: { VMM_STATE: STATE, PATH: process.env.PATH },
  });
  return JSON.parse(out);
}

const calls = (requests) => asWebUser('calls', JSON.stringify(requests));
const errorOf = (reply) => [reply.ok, reply.error?.status, reply.error?.code];

function helperLog() {
  return readFileSync(`${STATE}/log/vmm-helper.log`, 'utf8');
}

test('a forged or borrowed actor is refused; the real credential is accepted', async () => {
  const admin = await adminClient();
  const adminId = dataOf(await admin.api('GET', '/auth/me')).user.id;
  const { client: bob, user: bobUser } = await userClient(admin);
  const adminSession = admin.cookie('vmm_session');
  const bobSession = bob.cookie('vmm_session');
  assert.match(adminSession, /^[0-9a-f]{64}$/);
  const [[adminDigest]] = sql(`SELECT token_hash FROM sessions WHERE user_id = ${adminId} ORDER BY id DESC LIMIT 1`);

  const forbidden = [false, 403, 'forbidden'];
  const reconcile = (actor, credential) => ({ op: 'host.reconcile', actor, credential, request_id: 'feedface01' });
  const replies = calls([
    reconcile(adminId),                                           // an id alone
    reconcile(adminId, { session: adminDigest }),                 // the digest the vmm user can read
    reconcile(adminId, { session: bobSession }),                  // another user's session
    reconcile(bobUser.id, { session: bobSession }),               // bob's own, but he is no admin
    reconcile(adminId, { session: adminSession, api_token: 'x' }),// two proofs
    reconcile(adminId, { session: adminSession }),                // the real one
    { op: 'ping', actor: bobUser.id, credential: { session: bobSession } },
  ]);
  assert.deepEqual(replies.slice(0, 5).map(errorOf), [forbidden, forbidden, forbidden, forbidden, forbidden]);
  assert.equal(replies[3].error.message, 'This operation is for administrators.');
  assert.equal(replies[5].ok, true, JSON.stringify(replies[5]));
  assert.ok(Array.isArray(replies[5].data.orphan_domains));
  assert.equal(replies[6].ok, true);
  assert.match(helperLog(), /refused op host\.reconcile for actor \d+ from uid \d+ pid \d+ \(request feedface01\): no credential, or more than one/);

  // A session that ended proves nothing any more.
  assert.equal((await bob.logout()).status, 200);
  const [afterLogout] = calls([{ op: 'ping', actor: bobUser.id, credential: { session: bobSession } }]);
  assert.deepEqual(errorOf(afterLogout), forbidden);
});

test('an API token proves its user until it is revoked', async () => {
  const admin = await adminClient();
  const { client: carol, user } = await userClient(admin);
  const made = await carol.api('POST', '/me/tokens', { name: 'automation' });
  assert.equal(made.status, 201, made.text);
  const token = dataOf(made);
  const { secret } = token;
  const asCarol = { op: 'ping', actor: user.id, credential: { api_token: secret } };
  const asAdmin = { op: 'host.reconcile', actor: Number(sql(`SELECT id FROM users WHERE username = ${q(ADMIN_USER)}`)[0][0]), credential: { api_token: secret } };
  let [ok, borrowed] = calls([asCarol, asAdmin]);
  assert.equal(ok.ok, true);
  assert.deepEqual(errorOf(borrowed), [false, 403, 'forbidden']);

  // Through the web, the bearer token reaches the helper the same way.
  const bearer = { headers: { Authorization: `Bearer ${secret}` } };
  const host = await carol.request('GET', '/api/v1/host', bearer);
  assert.equal(host.status, 200, host.text);

  assert.equal((await carol.api('DELETE', `/me/tokens/${token.id}`)).status, 200);
  [ok] = calls([asCarol]);
  assert.deepEqual(errorOf(ok), [false, 403, 'forbidden']);
});

test('the web programs still act through the helper with their session', async () => {
  const admin = await adminClient();
  const res = await admin.api('GET', '/host/reconcile');
  assert.equal(res.status, 200, res.text);
  const { client: dave } = await userClient(admin);
  assert.equal((await dave.api('GET', '/host')).status, 200);
  assert.equal((await dave.api('GET', '/host/reconcile')).status, 403);
});

test('a client that sends nothing, or half a frame, is dropped; others are served meanwhile', () => {
  for (const bytes of ['', '000001']) {
    const { closedAfterMs, pingMs, ping } = asWebUser('idle', bytes);
    assert.equal(ping.ok, true);
    assert.ok(pingMs < 2000, `ping took ${pingMs} ms`);
    // [helper] client_idle_timeout_s is 5.
    assert.ok(closedAfterMs >= 4000 && closedAfterMs < 12_000, `dropped after ${closedAfterMs} ms`);
  }
  assert.match(helperLog(), /dropped a connection from uid \d+ pid \d+: no whole request within 5000 ms/);
});
