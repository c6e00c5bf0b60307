// Real notification receivers on loopback for the alert tests: a webhook
// that verifies X-VMM-Signature (HMAC-SHA256 of the body), a
// DingTalk-compatible robot that verifies timestamp and sign exactly as
// DingTalk documents (and the keyword) and answers errcode, and an SMTP
// server (npm smtp-server) that checks the login and keeps each message.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { SMTPServer } from 'smtp-server';

function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // smtp-server's SMTPServer keeps its net.Server in .server.
    server.listen(port, '127.0.0.1', () => resolve((server.address ? server : server.server).address().port));
  });
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** POST / with the signed JSON body; messages holds the verified ones. */
export async function webhookReceiver(key, port = 0) {
  const r = { messages: [], refused: [] };
  r.server = createServer(async (req, res) => {
    const body = await readBody(req);
    const expected = `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
    const got = String(req.headers['x-vmm-signature'] || '');
    if (got.length !== expected.length || !timingSafeEqual(Buffer.from(got), Buffer.from(expected))) {
      r.refused.push(got);
      res.writeHead(401).end('bad signature');
      return;
    }
    r.messages.push(JSON.parse(body.toString('utf8')));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
  });
  r.port = await listen(r.server, port);
  r.url = `http://127.0.0.1:${r.port}/hook`;
  r.close = () => new Promise((resolve) => { r.server.closeAllConnections?.(); r.server.close(resolve); });
  return r;
}

/**
 * DingTalk's robot send API: POST /robot/send?access_token=&timestamp=&sign=
 * sign = urlencode(base64(HMAC-SHA256(secret, timestamp + "\n" + secret))),
 * timestamp in ms within an hour of now; the keyword must be in the text.
 */
export async function dingtalkReceiver({ token, secret, keyword }) {
  const r = { messages: [], errors: [] };
  r.server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url, 'http://x');
    const answer = (errcode, errmsg) => {
      if (errcode) r.errors.push(errmsg);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errcode, errmsg }));
    };
    if (url.pathname !== '/robot/send' || url.searchParams.get('access_token') !== token)
      return answer(300001, 'token is not exist');
    const timestamp = url.searchParams.get('timestamp');
    if (secret) {
      // The raw query value, as DingTalk compares it: urlencoded base64.
      const rawSign = /[?&]sign=([^&]*)/.exec(req.url)?.[1] ?? '';
      const expected = encodeURIComponent(createHmac('sha256', secret)
        .update(`${timestamp}\n${secret}`).digest('base64'));
      if (!/^\d{13}$/.test(timestamp || '') || Math.abs(Date.now() - Number(timestamp)) > 3600_000)
        return answer(310000, 'invalid timestamp');
      if (rawSign !== expected) return answer(310000, 'sign not match');
    }
    let msg;
    try {
      msg = JSON.parse(body.toString('utf8'));
    } catch {
      return answer(40035, 'invalid json');
    }
    if (msg.msgtype !== 'markdown' || !msg.markdown?.title || !msg.markdown?.text)
      return answer(40035, 'missing markdown');
    if (keyword && !`${msg.markdown.title}${msg.markdown.text}`.includes(keyword))
      return answer(310000, 'keywords not in content');
    r.messages.push({ ...msg, at: Date.now() });
    return answer(0, 'ok');
  });
  r.port = await listen(r.server);
  r.base = `http://127.0.0.1:${r.port}/robot/send`;
  r.close = () => new Promise((resolve) => { r.server.closeAllConnections?.(); r.server.close(resolve); });
  return r;
}

/** SMTP with STARTTLS (smtp-server's own certificate) and LOGIN/PLAIN. */
export async function smtpReceiver({ user, pass }) {
  const r = { messages: [], logins: [] };
  r.server = new SMTPServer({
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, session, cb) {
      r.logins.push({ username: auth.username, secure: session.secure });
      if (auth.username !== user || auth.password !== pass) return cb(new Error('Invalid username or password'));
      // The password must only ever travel inside TLS.
      if (!session.secure) return cb(new Error('Must issue STARTTLS first'));
      return cb(null, { user });
    },
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        r.messages.push({
          from: session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((t) => t.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  r.port = await listen(r.server);
  r.url = `smtp://127.0.0.1:${r.port}`;
  r.close = () => new Promise((resolve) => r.server.close(resolve));
  return r;
}

/** The Subject of a raw message, RFC 2047 "=?UTF-8?B?...?=" decoded. */
export function subjectOf(raw) {
  const line = /^Subject: (.*)$/m.exec(raw)?.[1] ?? '';
  return line.replace(/=\?UTF-8\?B\?([^?]*)\?=/gi, (_, b) => Buffer.from(b, 'base64').toString('utf8'));
}
