{{%AUTOESCAPE context="HTML"}}{{#vm}}
<h1>{{_ Backups}}: <a href="/vms/{{id}}">{{name}}</a></h1>
<section class="card" id="backups">
  <form method="post" action="/vms/{{id}}/backups" class="inline" id="backup-create">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label>{{_ Kind}} <select name="mode"><option value="full">{{_ Full}}</option><option value="incremental">{{_ Incremental}}</option></select></label>
    <button>{{_ Back up now}}</button>
  </form>
  <p class="muted">{{_ An incremental backup holds only what changed since the previous one. Raw disks are backed up in full only. A stopped machine is started paused for the backup and stopped again.}}</p>
{{/vm}}
  <table class="list" id="backup-list">
    <thead><tr><th>{{_ Taken}}</th><th>{{_ Kind}}</th><th>{{_ Status}}</th><th>{{_ Size}}</th><th>{{_ Origin}}</th><th></th></tr></thead>
    <tbody>
    {{#backups}}
    <tr data-id="{{id}}">
      <td>{{created_at}}</td>
      <td>{{#incremental}}{{_ incremental}}{{/incremental}}{{#not_incremental}}{{_ full}}{{/not_incremental}}<br><span class="muted">{{note}}</span></td>
      <td>{{status}}</td>
      <td>{{size_bytes}}</td>
      <td>{{origin}}</td>
      <td>
        {{#ready}}<form method="post" action="/backups/{{id}}/restore" class="inline" data-confirm="{{_ Restore this backup over the machine's disks?}}">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <button>{{_ Restore}}</button>
        </form>{{/ready}}
        <form method="post" action="/backups/{{id}}/delete" class="inline" data-confirm="{{_ Delete this backup?}}">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <button class="danger">{{_ Delete}}</button>
        </form>
      </td>
    </tr>
    {{/backups}}
    </tbody>
  </table>
  {{#backups_empty}}<p>{{_ No backups yet.}}</p>{{/backups_empty}}
</section>
{{#policy}}
<section class="card" id="backup-policy">
  <h2>{{_ Scheduled backups}}</h2>
  <form method="post" action="/vms/{{vm_id}}/backup-policy" id="backup-policy-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label><input type="checkbox" name="enabled" value="true"{{#enabled}} checked{{/enabled}}> {{_ Enabled}}</label>
    <label>{{_ Schedule (cron, UTC)}} <input name="schedule" value="{{schedule}}" placeholder="0 3 * * *" maxlength="100" required></label>
    <label>{{_ Newest backups kept}} <input name="keep" type="number" min="1" max="1000" value="{{keep}}" required></label>
    <label>{{_ Also the newest of each of the last days}} <input name="keep_daily" type="number" min="0" max="1000" value="{{keep_daily}}"></label>
    <label>{{_ weeks}} <input name="keep_weekly" type="number" min="0" max="1000" value="{{keep_weekly}}"></label>
    <label>{{_ months}} <input name="keep_monthly" type="number" min="0" max="1000" value="{{keep_monthly}}"></label>
    <label>{{_ A full backup every}} <input name="full_every" type="number" min="1" max="1000" value="{{full_every}}"></label>
    <button>{{_ Save schedule}}</button>
  </form>
  <p class="muted">{{_ Pruning removes only backups the schedule made, and never one a kept backup builds on.}}</p>
  {{#last_error}}<p class="error">{{last_error}}</p>{{/last_error}}
</section>
{{/policy}}
