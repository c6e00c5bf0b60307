{{%AUTOESCAPE context="HTML"}}<h1>{{_ Profile}}</h1>
<p><a href="/history/logins">{{_ Login history}}</a> · <a href="/history/changes">{{_ Change history}}</a> ·
<a href="/history/vm-operations">{{_ VM operation history}}</a> · <a href="/audit-logs">{{_ Audit log}}</a></p>
<div class="columns">
{{#user}}
<section class="card narrow">
  <h2>{{_ Account}}</h2>
  {{#has_avatar}}<img src="/api/v1/me/avatar" alt="{{_ Your picture}}" id="avatar" width="96" height="96">{{/has_avatar}}
  <form method="post" action="/profile" class="form" id="profile-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <p class="muted">{{_ User name}}: <strong>{{username}}</strong></p>
    <label for="display_name">{{_ Display name}}</label>
    <input id="display_name" name="display_name" maxlength="64" value="{{display_name}}">
    <label for="email">{{_ Email}}</label>
    <input id="email" name="email" type="email" maxlength="254" value="{{email}}">
    <label for="language">{{_ Language}}</label>
    <select id="language" name="language">
      <option value="">{{_ As the browser says}}</option>
      <option value="en" {{#language_is_en}}selected{{/language_is_en}}>English</option>
      <option value="zh-CN" {{#language_zh}}selected{{/language_zh}}>中文</option>
    </select>
    <button type="submit" class="primary">{{_ Save}}</button>
  </form>
  <form class="form" id="avatar-form" data-csrf="{{csrf_token}}">
    <label for="avatar-file">{{_ Picture (PNG or JPEG, at most 1 MiB and 1024 × 1024 pixels)}}</label>
    <input id="avatar-file" type="file" accept="image/png,image/jpeg">
    <button type="submit">{{_ Upload picture}}</button>
    <p id="avatar-status" class="alert-error" role="status"></p>
  </form>
  {{#has_avatar}}<form method="post" action="/profile/avatar/delete" class="inline" id="avatar-delete">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button type="submit">{{_ Remove picture}}</button>
  </form>{{/has_avatar}}
  <script src="/static/js/avatar.js" defer></script>
</section>
{{/user}}
<section class="card narrow">
  <h2>{{_ Change password}}</h2>
  <p class="muted">{{_ Your other sessions are ended.}}</p>
  <form method="post" action="/profile" class="form" id="password-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="current_password">{{_ Current password}}</label>
    <input id="current_password" name="current_password" type="password" autocomplete="current-password" required>
    <label for="password">{{_ New password}}</label>
    <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8">
    <button type="submit">{{_ Change password}}</button>
  </form>
</section>
</div>

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
</section>

<section class="card">
  <h2>{{_ API tokens}}</h2>
  <p class="muted">{{_ Scripts send a token as "Authorization: Bearer" to /api/v1. It acts as you; keep it secret.}}</p>
  <table class="table" id="tokens">
    <thead><tr><th>{{_ Name}}</th><th>{{_ Starts with}}</th><th>{{_ Created}}</th><th>{{_ Last used}}</th><th></th></tr></thead>
    <tbody>
    {{#tokens}}
      <tr>
        <td>{{name}}</td><td><code>{{prefix}}…</code></td><td>{{created_at}}</td><td>{{last_used_at}}</td>
        <td><form method="post" action="/profile/tokens/{{id}}/revoke" class="inline" data-confirm="{{_ Revoke the token}} “{{name}}”? {{_ Scripts that use it stop working at once.}}">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <button type="submit">{{_ Revoke}}</button></form></td>
      </tr>
    {{/tokens}}
    {{#tokens_empty}}<tr><td colspan="5">{{_ No API tokens.}}</td></tr>{{/tokens_empty}}
    </tbody>
  </table>
  <form method="post" action="/profile/tokens" class="toolbar" id="new-token">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <input name="name" placeholder="{{_ Token name}}" aria-label="{{_ Token name}}" required maxlength="64">
    <button type="submit" class="primary">{{_ Create token}}</button>
  </form>
</section>

<section class="card">
  <h2>{{_ Sessions}}</h2>
  <table class="table" id="sessions">
    <thead><tr><th>{{_ Browser}}</th><th>{{_ IP address}}</th><th>{{_ Logged in}}</th><th>{{_ Last seen}}</th><th></th></tr></thead>
    <tbody>
    {{#sessions}}
      <tr>
        <td>{{user_agent}}</td><td>{{ip}}</td><td>{{created_at}}</td><td>{{last_seen_at}}</td>
        <td>{{#current}}{{_ This session}}{{/current}}{{#not_current}}<form method="post" action="/profile/sessions/{{id}}/end" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <button type="submit">{{_ End session}}</button></form>{{/not_current}}</td>
      </tr>
    {{/sessions}}
    </tbody>
  </table>
</section>
