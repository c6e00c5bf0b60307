// The console page: noVNC's RFB client against /console/ws.
//
// Each connection first asks /api/v1/vms/ID/console for a one-time token
// (good for 60 s, used up by nginx's auth_request when the websocket
// opens) and the VM's VNC password; the page itself carries neither. The
// token goes as a websocket subprotocol (ws_protocols), never in the URL,
// which nginx would log. The
// messages shown come from the page's data-msg-* attributes, so they are
// translated with the rest of the page.
import RFB from '/static/novnc/core/rfb.js';
import keysyms from '/static/novnc/core/input/keysymdef.js';

const XK_Return = 0xff0d;
const XK_Tab = 0xff09;

const root = document.getElementById('console');
const screen = document.getElementById('console-screen');
const status = document.getElementById('console-status');
const scale = document.getElementById('console-scale');
const vmId = root.dataset.vmId;
let rfb = null;

function show(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

const message = (name) => root.dataset[`msg${name[0].toUpperCase()}${name.slice(1)}`];

async function getJson(path) {
  const res = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  return { status: res.status, body };
}

const on = (state) => state === 'running' || state === 'paused';
const pause = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// Why the console closed: the session, the machine, or just the line. A
// machine going off closes the console a moment before its state says
// so, hence a few looks before "the connection was closed".
async function explainClose() {
  for (let look = 0; look < 5; look += 1) {
    if (look) await pause(600);
    const { status: code, body } = await getJson(`/api/v1/vms/${vmId}`);
    if (rfb) return; // reconnected meanwhile
    if (code === 401) return show('error', message('session'));
    if (code === 200 && !on(body.data.state)) return show('error', message('stopped'));
  }
  return show('closed', message('closed'));
}

async function connect() {
  if (rfb) {
    const old = rfb;
    rfb = null;
    old.disconnect();
  }
  show('connecting', message('connecting'));
  let ticket;
  try {
    ticket = await getJson(`/api/v1/vms/${vmId}/console`);
  } catch {
    show('error', message('failed'));
    return;
  }
  if (ticket.status === 401) {
    show('error', message('session'));
    return;
  }
  if (ticket.status !== 200) {
    show('error', ticket.body?.error?.message || message('failed'));
    return;
  }
  const { ws_path: wsPath, ws_protocols: wsProtocols, password } = ticket.body.data;
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const client = new RFB(screen, `${scheme}//${window.location.host}${wsPath}`, {
    credentials: password ? { password } : {},
    wsProtocols,
  });
  client.scaleViewport = scale.checked;
  client.resizeSession = false;
  client.focusOnClick = true;
  client.addEventListener('connect', () => {
    if (client !== rfb) return;
    show('connected', message('connected'));
    client.focus();
  });
  client.addEventListener('disconnect', () => {
    if (client !== rfb) return;
    rfb = null;
    explainClose().catch(() => show('closed', message('closed')));
  });
  client.addEventListener('securityfailure', () => {
    if (client === rfb) show('error', message('denied'));
  });
  client.addEventListener('credentialsrequired', () => {
    if (client !== rfb) return;
    show('error', message('denied'));
    client.disconnect();
  });
  rfb = client;
}

// Each character as the key that types it; newlines as Return.
function typeText(text) {
  if (!rfb) return;
  for (const ch of text.replace(/\r\n?/g, '\n')) {
    const keysym = ch === '\n' ? XK_Return : ch === '\t' ? XK_Tab : keysyms.lookup(ch.codePointAt(0));
    rfb.sendKey(keysym, null);
  }
  rfb.focus();
}

document.getElementById('console-cad').addEventListener('click', () => rfb?.sendCtrlAltDel());
document.getElementById('console-reconnect').addEventListener('click', () => connect());
document.getElementById('console-fullscreen').addEventListener('click', () => {
  if (document.fullscreenElement) document.exitFullscreen();
  else screen.requestFullscreen?.();
});
scale.addEventListener('change', () => {
  if (rfb) rfb.scaleViewport = scale.checked;
});
document.getElementById('console-paste').addEventListener('submit', (event) => {
  event.preventDefault();
  const field = document.getElementById('console-paste-text');
  typeText(field.value);
  field.value = '';
});

connect();
