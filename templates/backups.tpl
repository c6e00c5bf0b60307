{{%AUTOESCAPE context="HTML"}}
<h1>{{_ Backups}}</h1>
<section class="card" id="backups">
  <table class="list" id="backup-list">
    <thead><tr><th>{{_ Machine}}</th><th>{{_ Taken}}</th><th>{{_ Kind}}</th><th>{{_ Status}}</th><th>{{_ Size}}</th><th>{{_ Origin}}</th></tr></thead>
    <tbody>
    {{#backups}}
    <tr data-id="{{id}}">
      <td><a href="/vms/{{vm_id}}/backups">{{vm_name}}</a></td>
      <td>{{created_at}}</td>
      <td>{{#incremental}}{{_ incremental}}{{/incremental}}{{#not_incremental}}{{_ full}}{{/not_incremental}}</td>
      <td>{{status}}</td>
      <td>{{size_bytes}}</td>
      <td>{{origin}}</td>
    </tr>
    {{/backups}}
    </tbody>
  </table>
  {{#backups_empty}}<p>{{_ No backups yet.}}</p>{{/backups_empty}}
</section>
