{{%AUTOESCAPE context="HTML"}}{{#ip_pool}}
<h1>{{name}}</h1>
<p><a href="/ip-pools">{{_ All IP pools}}</a></p>
<section class="card" id="ip-pool">
  <dl class="facts">
    <dt>{{_ Network}}</dt><dd>{{network}}</dd>
    <dt>{{_ CIDR}}</dt><dd>{{cidr}}</dd>
    <dt>{{_ Range}}</dt><dd>{{range_start}} – {{range_end}}</dd>
    <dt>{{_ Gateway}}</dt><dd>{{gateway}}</dd>
    <dt>{{_ DNS servers}}</dt><dd>{{#dns}}{{value}} {{/dns}}</dd>
    <dt>{{_ Usage}}</dt><dd id="usage"><progress class="usage" max="{{size}}" value="{{used}}">{{usage_percent}}%</progress> {{used}} / {{size}} ({{usage_percent}}%)</dd>
  </dl>
</section>
<section class="card">
  <h2>{{_ Allocated addresses}}</h2>
  <table class="table" id="allocations">
    <thead><tr><th>{{_ Address}}</th><th>{{_ Virtual machine}}</th><th>MAC</th><th></th></tr></thead>
    <tbody>
    {{#allocations}}
      <tr><td>{{ip}}</td><td><a href="/vms/{{vm_id}}">{{vm_name}}</a></td><td>{{mac}}</td>
        <td><form method="post" action="/ip-pools/{{id}}/allocations/{{ip}}/delete" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <button>{{_ Release}}</button></form></td></tr>
    {{/allocations}}
    {{#allocations_empty}}<tr><td colspan="4">{{_ No address is allocated.}}</td></tr>{{/allocations_empty}}
    </tbody>
  </table>
</section>
<section class="card">
  <h2>{{_ Conflicts}}</h2>
  <p class="muted">{{_ Addresses of this pool in use by something the registry does not know, or by two machines. They are never handed out.}}</p>
  <table class="table" id="conflicts">
    <thead><tr><th>{{_ Address}}</th><th>{{_ Kind}}</th><th>{{_ Seen in}}</th><th>MAC</th><th>{{_ Seen at}}</th></tr></thead>
    <tbody>
    {{#conflict_list}}
      <tr><td>{{ip}}</td><td>{{#kind_is_unknown}}{{_ Not in the registry}}{{/kind_is_unknown}}{{#kind_is_duplicate}}{{_ Duplicate}}{{/kind_is_duplicate}}</td>
        <td>{{#sources}}{{value}} {{/sources}}</td><td>{{#macs}}{{value}} {{/macs}}</td><td>{{seen_at}}</td></tr>
    {{/conflict_list}}
    {{#conflict_list_empty}}<tr><td colspan="5">{{_ No conflict was found.}}</td></tr>{{/conflict_list_empty}}
    </tbody>
  </table>
</section>
<section class="card narrow">
  <h2>{{_ Delete}}</h2>
  <form method="post" action="/ip-pools/{{id}}/delete" class="form" id="delete-ip-pool">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button type="submit" class="danger">{{_ Delete this IP pool}}</button>
  </form>
</section>
{{/ip_pool}}
