{{%AUTOESCAPE context="HTML"}}{{#vm}}
<h1>{{_ Snapshots}}: <a href="/vms/{{id}}">{{name}}</a></h1>
<section class="card" id="snapshots">
  <form method="post" action="/vms/{{id}}/snapshots" class="inline" id="snapshot-create">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label>{{_ Name}} <input name="name" maxlength="64" required></label>
    <label>{{_ Description}} <input name="description" maxlength="255"></label>
    <label><input type="checkbox" name="include_memory" value="true"> {{_ Include memory (running machine)}}</label>
    <button>{{_ Take snapshot}}</button>
  </form>
  <p class="muted">{{_ A stopped machine gets a disk-only snapshot; a running one a snapshot with its memory.}}</p>
{{/vm}}
  <table class="list" id="snapshot-tree">
    <thead><tr><th>{{_ Name}}</th><th>{{_ Taken}}</th><th>{{_ Kind}}</th><th>{{_ Origin}}</th><th></th></tr></thead>
    <tbody>
    {{#snapshots}}
    <tr data-id="{{id}}" data-depth="{{depth}}" class="depth-{{depth}}">
      <td>{{name}}{{#current}} <strong class="badge">{{_ current}}</strong>{{/current}}{{#pinned}} <span class="badge">{{_ pinned}}</span>{{/pinned}}<br><span class="muted">{{description}}</span></td>
      <td>{{created_at}}</td>
      <td>{{#include_memory}}{{_ disk and memory}}{{/include_memory}}{{#not_include_memory}}{{_ disk only}}{{/not_include_memory}}</td>
      <td>{{origin}}</td>
      <td>
        <form method="post" action="/vms/{{vm_id}}/snapshots/{{id}}/revert" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <button>{{_ Revert}}</button>
        </form>
        <form method="post" action="/vms/{{vm_id}}/snapshots/{{id}}/delete" class="inline" data-confirm="{{_ Delete this snapshot?}}">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <button class="danger">{{_ Delete}}</button>
        </form>
      </td>
    </tr>
    {{/snapshots}}
    </tbody>
  </table>
  {{#snapshots_empty}}<p>{{_ No snapshots yet.}}</p>{{/snapshots_empty}}
</section>
{{#policy}}
<section class="card" id="snapshot-policy">
  <h2>{{_ Scheduled snapshots}}</h2>
  <form method="post" action="/vms/{{vm_id}}/snapshot-policy" id="snapshot-policy-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label><input type="checkbox" name="enabled" value="true"{{#enabled}} checked{{/enabled}}> {{_ Enabled}}</label>
    <label>{{_ Schedule (cron, UTC)}} <input name="schedule" value="{{schedule}}" placeholder="0 2 * * *" maxlength="100" required></label>
    <label>{{_ Keep}} <input name="keep" type="number" min="1" max="1000" value="{{keep}}" required></label>
    <label>{{_ Naming}} <input name="naming" value="{{naming}}" maxlength="48"></label>
    <label><input type="checkbox" name="include_memory" value="true"{{#include_memory}} checked{{/include_memory}}> {{_ Include memory}}</label>
    <button>{{_ Save schedule}}</button>
  </form>
  <p class="muted">{{_ Pruning removes only snapshots the schedule made; pinned ones and ones made by hand are kept.}}</p>
  {{#last_error}}<p class="error">{{last_error}}</p>{{/last_error}}
</section>
{{/policy}}
