{{%AUTOESCAPE context="HTML"}}{{#user}}
<h1>{{_ User}} {{username}}</h1>
<p><a href="/users">{{_ All users}}</a></p>
<section class="card narrow">
  <h2>{{_ Account}}</h2>
  <form method="post" action="/users/{{id}}" class="form" id="edit-user">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="display_name">{{_ Display name}}</label>
    <input id="display_name" name="display_name" maxlength="64" value="{{display_name}}">
    <label for="email">{{_ Email}}</label>
    <input id="email" name="email" type="email" maxlength="254" value="{{email}}">
    <label for="role">{{_ Role}}</label>
    <select id="role" name="role">
      <option value="user">{{_ User}}</option>
      <option value="admin" {{#role_is_admin}}selected{{/role_is_admin}}>{{_ Administrator}}</option>
    </select>
    <label for="enabled">{{_ State}}</label>
    <select id="enabled" name="enabled">
      <option value="true">{{_ Enabled}}</option>
      <option value="false" {{#not_enabled}}selected{{/not_enabled}}>{{_ Disabled}}</option>
    </select>
    <button type="submit" class="primary">{{_ Save}}</button>
  </form>
</section>
<section class="card narrow">
  <h2>{{_ Reset password}}</h2>
  <p class="muted">{{_ The user is logged out everywhere.}}</p>
  <form method="post" action="/users/{{id}}/password" class="form" id="reset-password">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="password">{{_ New password}}</label>
    <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8">
    <label for="revoke_tokens">{{_ API tokens}}</label>
    <select id="revoke_tokens" name="revoke_tokens">
      <option value="true" selected>{{_ Revoke their API tokens}}</option>
      <option value="false">{{_ Keep their API tokens}}</option>
    </select>
    <button type="submit">{{_ Reset password}}</button>
  </form>
</section>
{{/user}}
<section class="card">
  <h2>{{_ Quota}}</h2>
  <table class="table" id="quota">
    <thead><tr><th></th><th>{{_ In use}}</th><th>{{_ Limit}}</th></tr></thead>
    <tbody>
    {{#quota_rows}}
      <tr><td>{{#kind_is_vms}}{{_ Virtual machines}}{{/kind_is_vms}}{{#kind_is_vcpus}}{{_ vCPUs}}{{/kind_is_vcpus}}{{#kind_is_memory_mb}}{{_ Memory (MiB)}}{{/kind_is_memory_mb}}{{#kind_is_disk_gb}}{{_ Disk (GiB)}}{{/kind_is_disk_gb}}{{#kind_is_image_gb}}{{_ Images (GiB)}}{{/kind_is_image_gb}}</td>
        <td>{{used}}</td><td>{{limit}}</td></tr>
    {{/quota_rows}}
    </tbody>
  </table>
  {{#quota}}
  <form method="post" action="/users/{{user_id}}/quota" class="form" id="quota-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="max_vms">{{_ Virtual machines}}</label>
    <input id="max_vms" name="max_vms" type="number" min="0" max="10000" required value="{{max_vms}}">
    <label for="max_vcpus">{{_ vCPUs}}</label>
    <input id="max_vcpus" name="max_vcpus" type="number" min="0" max="100000" required value="{{max_vcpus}}">
    <label for="max_memory_mb">{{_ Memory (MiB)}}</label>
    <input id="max_memory_mb" name="max_memory_mb" type="number" min="0" required value="{{max_memory_mb}}">
    <label for="max_disk_gb">{{_ Disk (GiB)}}</label>
    <input id="max_disk_gb" name="max_disk_gb" type="number" min="0" required value="{{max_disk_gb}}">
    <label for="max_image_gb">{{_ Images (GiB)}}</label>
    <input id="max_image_gb" name="max_image_gb" type="number" min="0" required value="{{max_image_gb}}">
    <button type="submit">{{_ Save quota}}</button>
  </form>
  {{/quota}}
</section>
<section class="card narrow">
  <h2>{{_ Delete user}}</h2>
  <p class="muted">{{_ The user's virtual machines go to the user whose ID you enter; a user who owns virtual machines cannot be deleted without one.}}</p>
  <form method="post" action="/users/{{user_id}}/delete" class="form" id="delete-user">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="reassign_to">{{_ Give the virtual machines to user ID}}</label>
    <input id="reassign_to" name="reassign_to" inputmode="numeric" maxlength="20">
    <button type="submit">{{_ Delete user}}</button>
  </form>
</section>

