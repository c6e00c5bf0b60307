// The programs' database connections dropped by the server (a MariaDB
// restart or idle timeout looks the same to them): the next request
// reconnects and answers as if nothing happened. A change whose
// connection is lost half way is not made at all, and says so (503).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { adminClient, userClient, sql, waitFor, assertError, STATE } from './lib.mjs';

test('every worker reconnects after the server drops its connection', async () => {
  const admin = await adminClient();
  // Touch the workers so each holds a connection.
  for (let i = 0; i < 12; i++) assert.equal((await admin.api('GET', '/auth/me')).status, 200);
  const ids = sql("SELECT id FROM information_schema.processlist WHERE user = 'vmm'").map((r) => r[0]);
  assert.ok(ids.length > 0, 'the programs connect as vmm');
  for (const id of ids) sql(`KILL CONNECTION ${id}`);

  // Every worker of every program must answer on its first request after that.
  for (let i = 0; i < 12; i++) {
    assert.equal((await admin.api('GET', '/auth/me')).status, 200);
    assert.equal((await admin.api('GET', '/users?per_page=1')).status, 200);
    assert.equal((await admin.api('GET', '/vms?per_page=1')).status, 200);
  }
  const after = sql("SELECT id FROM information_schema.processlist WHERE user = 'vmm'").map((r) => r[0]);
  assert.ok(after.every((id) => !ids.includes(id)), 'new connections replaced the killed ones');
});

/** A root client on the stack's socket that holds a transaction open. */
function rootSession() {
  const child = spawn('mariadb', ['--no-defaults', `--socket=${STATE}/run/mysqld.sock`, '-u', 'root',
    '--unbuffered', '-N', '-B', 'vmm'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  return {
    send: (text) => child.stdin.write(`${text}\n`),
    output: () => out,
    end: () => new Promise((resolve) => { child.on('close', resolve); child.stdin.end('ROLLBACK;\n'); }),
  };
}

test('an account change whose connection is lost half way is not made, and answers 503', async () => {
  const admin = await adminClient();
  const { client: erin, user } = await userClient(admin, { display_name: 'Erin' });
  // Hold a lock on erin's session, so the change waits inside its
  // transaction after the display name and enabled flag are written.
  const root = rootSession();
  root.send(`START TRANSACTION; SELECT 'locked', id FROM sessions WHERE user_id = ${user.id} FOR UPDATE;`);
  await waitFor(() => root.output().includes('locked'), 10_000);

  const answer = admin.api('PATCH', `/users/${user.id}`, { display_name: 'Changed', enabled: false });
  const waiting = await waitFor(() => sql(
    "SELECT id FROM information_schema.processlist WHERE user = 'vmm' AND info LIKE 'DELETE FROM sessions%'",
  )[0]?.[0], 10_000);
  sql(`KILL CONNECTION ${waiting}`);
  const res = await answer;
  await root.end();
  assertError(res, 503, 'database_unavailable');

  // Nothing of it was applied: the name, the flag and the session stand.
  assert.deepEqual(sql(`SELECT display_name, enabled FROM users WHERE id = ${user.id}`), [['Erin', '1']]);
  assert.equal((await erin.api('GET', '/auth/me')).status, 200);
  // The audit row says it failed.
  const [[result, status]] = sql(`SELECT result, status FROM audit_log WHERE action = 'user.update' AND target_id = ${user.id} ORDER BY id DESC LIMIT 1`);
  assert.deepEqual([result, status], ['failure', '503']);
  // And the next change goes through on a new connection.
  const again = await admin.api('PATCH', `/users/${user.id}`, { display_name: 'Changed', enabled: false });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(sql(`SELECT display_name, enabled FROM users WHERE id = ${user.id}`), [['Changed', '0']]);
  assert.equal((await erin.api('GET', '/auth/me')).status, 401);
});
