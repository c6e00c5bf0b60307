{{%AUTOESCAPE context="HTML"}}<h1>{{_ Networks}}</h1>
<p><a href="/ip-pools">{{_ IP address pools}}</a> · <a href="/storage-pools">{{_ Storage pools}}</a></p>
<table class="table" id="networks">
  <thead><tr>
    <th>{{_ Name}}</th><th>{{_ Mode}}</th><th>{{_ CIDR}}</th><th>{{_ DHCP range}}</th>
    <th>{{_ State}}</th><th>{{_ Virtual machines}}</th>
  </tr></thead>
  <tbody>
  {{#items}}
    <tr data-name="{{name}}">
      <td><a href="/networks/{{id}}">{{name}}</a></td>
      <td>{{#mode_is_nat}}{{_ NAT}}{{/mode_is_nat}}{{#mode_is_routed}}{{_ Routed}}{{/mode_is_routed}}{{#mode_is_bridge}}{{_ Bridged}}{{/mode_is_bridge}}{{#mode_is_isolated}}{{_ Isolated}}{{/mode_is_isolated}}</td>
      <td>{{cidr}}{{#mode_is_bridge}}{{bridge}}{{/mode_is_bridge}}</td>
      <td>{{#dhcp}}{{start}} – {{end}}{{/dhcp}}</td>
      <td class="state-{{state}}">{{#state_is_active}}{{_ Active}}{{/state_is_active}}{{#state_is_inactive}}{{_ Inactive}}{{/state_is_inactive}}{{#state_is_missing}}{{_ Missing in libvirt}}{{/state_is_missing}}{{#state_is_unknown}}{{_ Unknown}}{{/state_is_unknown}}</td>
      <td>{{vm_count}}</td>
    </tr>
  {{/items}}
  {{#items_empty}}<tr><td colspan="6">{{_ No networks match.}}</td></tr>{{/items_empty}}
  </tbody>
</table>

<section class="card narrow">
  <h2>{{_ New network}}</h2>
  <form method="post" action="/networks" class="form" id="new-network">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="name">{{_ Name}}</label>
    <input id="name" name="name" required maxlength="48" pattern="[A-Za-z0-9][A-Za-z0-9_.\-]*" value="{{#form}}{{name}}{{/form}}">
    <label for="mode">{{_ Mode}}</label>
    <select id="mode" name="mode">
      <option value="nat">{{_ NAT}}</option>
      <option value="routed">{{_ Routed}}</option>
      <option value="isolated">{{_ Isolated}}</option>
      <option value="bridge">{{_ Bridged onto a host bridge}}</option>
    </select>
    <label for="cidr">{{_ CIDR}}</label>
    <input id="cidr" name="cidr" maxlength="18" placeholder="192.168.210.0/24" value="{{#form}}{{cidr}}{{/form}}">
    <label for="dhcp_start">{{_ DHCP range start}}</label>
    <input id="dhcp_start" name="dhcp_start" maxlength="15" value="{{#form}}{{dhcp_start}}{{/form}}">
    <label for="dhcp_end">{{_ DHCP range end}}</label>
    <input id="dhcp_end" name="dhcp_end" maxlength="15" value="{{#form}}{{dhcp_end}}{{/form}}">
    <label for="dns">{{_ DNS servers (comma separated)}}</label>
    <input id="dns" name="dns" maxlength="255" value="{{#form}}{{dns}}{{/form}}">
    <label for="domain">{{_ Domain}}</label>
    <input id="domain" name="domain" maxlength="64" value="{{#form}}{{domain}}{{/form}}">
    <label for="bridge">{{_ Host bridge (bridged mode only)}}</label>
    <input id="bridge" name="bridge" maxlength="15" value="{{#form}}{{bridge}}{{/form}}">
    <button type="submit" class="primary">{{_ Create network}}</button>
  </form>
</section>
