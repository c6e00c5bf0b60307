// The programs' database connections dropped by the server (a MariaDB
// restart or idle timeout looks the same to them): the next request
// reconnects and answers as if nothing happened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, sql } from './lib.mjs';

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
