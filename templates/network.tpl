{{%AUTOESCAPE context="HTML"}}{{#network}}
<h1>{{name}}</h1>
<p><a href="/networks">{{_ All networks}}</a></p>
<section class="card" id="network">
  <dl class="facts">
    <dt>{{_ State}}</dt><dd id="state" data-state="{{state}}">{{#state_is_active}}{{_ Active}}{{/state_is_active}}{{#state_is_inactive}}{{_ Inactive}}{{/state_is_inactive}}{{#state_is_missing}}{{_ Missing in libvirt}}{{/state_is_missing}}{{#state_is_unknown}}{{_ Unknown}}{{/state_is_unknown}}</dd>
    <dt>{{_ Mode}}</dt><dd>{{#mode_is_nat}}{{_ NAT}}{{/mode_is_nat}}{{#mode_is_routed}}{{_ Routed}}{{/mode_is_routed}}{{#mode_is_bridge}}{{_ Bridged}}{{/mode_is_bridge}}{{#mode_is_isolated}}{{_ Isolated}}{{/mode_is_isolated}}</dd>
    <dt>{{_ CIDR}}</dt><dd>{{cidr}}</dd>
    <dt>{{_ DHCP range}}</dt><dd>{{#dhcp}}{{start}} – {{end}}{{/dhcp}}</dd>
    <dt>{{_ DNS servers}}</dt><dd>{{#dns}}{{value}} {{/dns}}</dd>
    <dt>{{_ Domain}}</dt><dd>{{domain}}</dd>
    <dt>{{_ Bridge}}</dt><dd>{{bridge}}{{bridge_device}}</dd>
    <dt>{{_ Start at boot}}</dt><dd>{{#autostart}}{{_ Yes}}{{/autostart}}{{#not_autostart}}{{_ No}}{{/not_autostart}}</dd>
    <dt>{{_ Virtual machines}}</dt><dd id="vm-count">{{vm_count}}</dd>
    <dt>{{_ Created}}</dt><dd>{{created_at}}</dd>
  </dl>
  {{#restart_required}}<p class="notice" id="restart-required">{{_ Saved. Stop and start the network for this to take effect:}} {{value}}</p>{{/restart_required}}
</section>
{{#not_builtin}}
<section class="card actions">
  {{#state_is_active}}
  <form method="post" action="/networks/{{id}}/stop" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button id="stop">{{_ Stop}}</button>
  </form>
  {{/state_is_active}}
  {{#state_is_inactive}}
  <form method="post" action="/networks/{{id}}/start" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button id="start" class="primary">{{_ Start}}</button>
  </form>
  {{/state_is_inactive}}
</section>
<section class="card narrow">
  <h2>{{_ Change}}</h2>
  <p class="muted">{{_ A new DHCP range applies at once; DNS servers and the domain when the network is next started.}}</p>
  <form method="post" action="/networks/{{id}}" class="form" id="edit-network">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    {{#dhcp}}
    <label for="dhcp_start">{{_ DHCP range start}}</label>
    <input id="dhcp_start" name="dhcp_start" maxlength="15" value="{{start}}">
    <label for="dhcp_end">{{_ DHCP range end}}</label>
    <input id="dhcp_end" name="dhcp_end" maxlength="15" value="{{end}}">
    {{/dhcp}}
    <label for="domain">{{_ Domain}}</label>
    <input id="domain" name="domain" maxlength="64" value="{{domain}}">
    <label for="autostart">{{_ Start at boot}}</label>
    <select id="autostart" name="autostart">
      <option value="true" {{#autostart}}selected{{/autostart}}>{{_ Yes}}</option>
      <option value="false" {{#not_autostart}}selected{{/not_autostart}}>{{_ No}}</option>
    </select>
    <button type="submit" class="primary">{{_ Save}}</button>
  </form>
</section>
<section class="card narrow">
  <h2>{{_ Delete}}</h2>
  <form method="post" action="/networks/{{id}}/delete" class="form" id="delete-network">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button type="submit" class="danger">{{_ Delete this network}}</button>
  </form>
</section>
{{/not_builtin}}
{{/network}}
