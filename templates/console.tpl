{{%AUTOESCAPE context="HTML"}}{{#vm}}
<h1>{{_ Console}}: {{name}}</h1>
<p><a href="/vms/{{id}}">{{_ Back to the virtual machine}}</a></p>
{{! The script fetches a one-time token (and the VNC password) from
    /api/v1/vms/ID/console; neither is ever written into this page. }}
<section class="card console" id="console" data-vm-id="{{id}}"
  data-msg-connecting="{{_ Connecting…}}"
  data-msg-connected="{{_ Connected.}}"
  data-msg-closed="{{_ The connection was closed. Press Reconnect to open it again.}}"
  data-msg-stopped="{{_ The virtual machine is not running. Start it, then press Reconnect.}}"
  data-msg-session="{{_ Your session has ended. Log in again to use the console.}}"
  data-msg-denied="{{_ The console refused the connection.}}"
  data-msg-failed="{{_ The console could not be opened.}}">
  <div class="toolbar console-toolbar">
    <button type="button" id="console-cad">{{_ Ctrl+Alt+Del}}</button>
    <button type="button" id="console-fullscreen">{{_ Full screen}}</button>
    <label class="console-check"><input type="checkbox" id="console-scale" checked> {{_ Scale to fit}}</label>
    <button type="button" id="console-reconnect">{{_ Reconnect}}</button>
    <span class="console-status" id="console-status" role="status" data-state="connecting">{{_ Connecting…}}</span>
  </div>
  <div class="console-screen" id="console-screen"></div>
  <form class="console-paste" id="console-paste">
    <label for="console-paste-text">{{_ Type this text into the machine}}</label>
    <textarea id="console-paste-text" rows="2" maxlength="4096"></textarea>
    <button type="submit" id="console-paste-send">{{_ Send as keystrokes}}</button>
  </form>
</section>
<script type="module" src="/static/js/console.js"></script>
{{/vm}}
