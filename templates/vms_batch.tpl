{{%AUTOESCAPE context="HTML"}}<h1>{{_ Batch action}}</h1>
<p><a href="/vms">{{_ All virtual machines}}</a></p>
{{#confirm}}
<section class="card narrow danger-zone" id="batch-confirm">
  <h2>{{_ Delete these virtual machines?}}</h2>
  <p>{{_ They are removed from their hosts. With their disks, everything stored on them is lost for good.}}</p>
  <ul id="batch-confirm-names">
    {{#items}}<li data-id="{{id}}"><strong>{{name}}</strong> ({{disk_gb}} GiB)</li>{{/items}}
  </ul>
  <form method="post" action="/vms/batch" class="form" id="batch-delete" data-confirm-name="{{count}}">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <input type="hidden" name="action" value="delete">
    <input type="hidden" name="confirmed" value="true">
    {{#items}}<input type="hidden" name="ids" value="{{id}}">{{/items}}
    <label><input type="checkbox" name="delete_disks" value="true" checked id="batch-delete-disks"> {{_ Delete their disks too}} ({{disk_gb}} GiB)</label>
    <label for="batch-confirm-count">{{_ To delete them with their disks, type the number of machines}}: <strong>{{count}}</strong></label>
    <input id="batch-confirm-count" name="confirm_name" autocomplete="off" maxlength="8" inputmode="numeric">
    <button type="submit" class="danger" id="batch-delete-button">{{_ Delete these virtual machines}}</button>
    <a href="/vms" id="batch-cancel">{{_ Cancel}}</a>
  </form>
</section>
{{/confirm}}
<table class="table reflow" id="batch-results">
  <thead><tr><th>{{_ Virtual machine}}</th><th>{{_ Result}}</th></tr></thead>
  <tbody>
  {{#items}}
    <tr class="{{#ok}}batch-ok{{/ok}}{{#not_ok}}batch-failed{{/not_ok}}" data-id="{{id}}">
      <td data-label="{{_ Virtual machine}}">{{#deleted}}{{name}}{{/deleted}}{{#not_deleted}}<a href="/vms/{{id}}">{{name}}</a>{{/not_deleted}}</td>
      <td data-label="{{_ Result}}">{{#ok}}<span class="state state-succeeded">{{#deleted}}{{_ Deleted}}{{/deleted}}{{#not_deleted}}{{_ Done}}{{/not_deleted}}</span>{{/ok}}{{#not_ok}}<span class="state state-failed">{{_ Failed}}</span> {{#error}}{{message}}{{/error}}{{/not_ok}}</td>
    </tr>
  {{/items}}
  </tbody>
</table>
