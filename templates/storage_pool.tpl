{{%AUTOESCAPE context="HTML"}}{{#storage_pool}}
<h1>{{name}}</h1>
<p><a href="/storage-pools">{{_ All storage pools}}</a></p>
<section class="card" id="storage-pool">
  <dl class="facts">
    <dt>{{_ State}}</dt><dd id="state" data-state="{{state}}">{{state}}</dd>
    <dt>{{_ Type}}</dt><dd>{{type}}</dd>
    <dt>{{_ Path}}</dt><dd>{{path}}</dd>
    <dt>{{_ Source}}</dt><dd>{{source_host}} {{source_path}} {{source_name}}</dd>
    <dt>{{_ Usage}}</dt><dd><progress class="usage" max="100" value="{{usage_percent}}">{{usage_percent}}%</progress> {{usage_percent}}% {{_ of}} {{capacity_gb}} GiB, {{available_gb}} GiB {{_ free}}</dd>
    <dt>{{_ Start at boot}}</dt><dd>{{#autostart}}{{_ Yes}}{{/autostart}}{{#not_autostart}}{{_ No}}{{/not_autostart}}</dd>
    <dt>{{_ Open to users}}</dt><dd id="users-allowed">{{#users_allowed}}{{_ Yes}}{{/users_allowed}}{{#not_users_allowed}}{{_ No}}{{/not_users_allowed}}</dd>
  </dl>
  <form method="post" action="/storage-pools/{{id}}" class="inline" id="pool-users">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="users_allowed">{{_ Users may put VM disks here}}</label>
    <select id="users_allowed" name="users_allowed">
      <option value="false"{{#not_users_allowed}} selected{{/not_users_allowed}}>{{_ No}}</option>
      <option value="true"{{#users_allowed}} selected{{/users_allowed}}>{{_ Yes}}</option>
    </select>
    <button type="submit">{{_ Save}}</button>
  </form>
  {{#volumes_error}}<p class="error">{{volumes_error}}</p>{{/volumes_error}}
</section>
<section class="card actions">
  <form method="post" action="/storage-pools/{{id}}/start" class="inline"><input type="hidden" name="csrf_token" value="{{csrf_token}}"><button id="start">{{_ Start}}</button></form>
  <form method="post" action="/storage-pools/{{id}}/stop" class="inline"><input type="hidden" name="csrf_token" value="{{csrf_token}}"><button id="stop">{{_ Stop}}</button></form>
  <form method="post" action="/storage-pools/{{id}}/refresh" class="inline"><input type="hidden" name="csrf_token" value="{{csrf_token}}"><button id="refresh">{{_ Refresh}}</button></form>
</section>
<section class="card">
  <h2>{{_ Volumes}}</h2>
  <table class="table" id="volumes">
    <thead><tr><th>{{_ Name}}</th><th>{{_ Capacity (bytes)}}</th><th>{{_ Allocation (bytes)}}</th><th>{{_ In use}}</th><th></th></tr></thead>
    <tbody>
    {{#volumes}}
      <tr data-name="{{name}}"><td>{{name}}</td><td>{{capacity_bytes}}</td><td>{{allocation_bytes}}</td>
        <td>{{#in_use}}{{_ Yes}}{{/in_use}}{{#not_in_use}}{{_ No}}{{/not_in_use}}</td>
        <td><form method="post" action="/storage-pools/{{id}}/volumes/{{name}}/resize" class="inline resize-volume">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <input name="capacity_gb" type="number" min="1" required aria-label="{{_ New capacity (GiB)}}"><button>{{_ Grow}}</button></form>
          <form method="post" action="/storage-pools/{{id}}/volumes/{{name}}/delete" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}"><button>{{_ Delete}}</button></form></td></tr>
    {{/volumes}}
    {{#volumes_empty}}<tr><td colspan="5">{{_ No volumes.}}</td></tr>{{/volumes_empty}}
    </tbody>
  </table>
  <form method="post" action="/storage-pools/{{id}}/volumes" class="form" id="new-volume">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="volume-name">{{_ Name}}</label>
    <input id="volume-name" name="name" required maxlength="48">
    <label for="capacity_gb">{{_ Capacity (GiB)}}</label>
    <input id="capacity_gb" name="capacity_gb" type="number" min="1" value="1" required>
    <button type="submit">{{_ Create volume}}</button>
  </form>
  <p class="hint">{{_ Creating, growing and deleting a volume run as jobs: the task log shows how they went.}}</p>
</section>
<section class="card narrow">
  <h2>{{_ Delete}}</h2>
  <form method="post" action="/storage-pools/{{id}}/delete" class="form" id="delete-storage-pool">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button type="submit" class="danger">{{_ Delete this storage pool}}</button>
  </form>
</section>
{{/storage_pool}}
