{{%AUTOESCAPE context="HTML"}}<h1>{{_ Users}}</h1>
<p><a href="/settings" id="settings-link">{{_ Settings}}</a> · <a href="/history/logins">{{_ Login history}}</a> · <a href="/history/changes">{{_ Change history}}</a></p>
<form method="get" action="/users" class="toolbar">
  <input name="q" placeholder="{{_ Search}}" aria-label="{{_ Search}}" maxlength="100">
  <button type="submit">{{_ Search}}</button>
</form>
<table class="table" id="users">
  <thead><tr>
    <th>{{_ User name}}</th><th>{{_ Display name}}</th><th>{{_ Email}}</th>
    <th>{{_ Role}}</th><th>{{_ State}}</th><th>{{_ Last login}}</th><th><span class="sr-only">{{_ Actions}}</span></th>
  </tr></thead>
  <tbody>
  {{#items}}
    <tr>
      <td><a href="/users/{{id}}">{{username}}</a></td>
      <td>{{display_name}}</td>
      <td>{{email}}</td>
      <td>{{#role_is_admin}}{{_ Administrator}}{{/role_is_admin}}{{#role_is_user}}{{_ User}}{{/role_is_user}}</td>
      <td>{{#enabled}}{{_ Enabled}}{{/enabled}}{{#not_enabled}}{{_ Disabled}}{{/not_enabled}}</td>
      <td><time datetime="{{last_login_at}}">{{last_login_at}}</time></td>
      <td class="actions">{{#not_is_me}}{{#not_owns_vms}}<form method="post" action="/users/{{id}}/delete" class="inline" data-confirm="{{_ Delete the user}} “{{username}}”? {{_ Their sessions and API tokens end; it cannot be undone.}}">
        <input type="hidden" name="csrf_token" value="{{csrf_token}}"><button class="danger-link" id="delete-user-{{id}}">{{_ Delete}}</button></form>{{/not_owns_vms}}{{#owns_vms}}<a href="/users/{{id}}#delete-user">{{_ Delete…}}</a>{{/owns_vms}}{{/not_is_me}}</td>
    </tr>
  {{/items}}
  {{#items_empty}}<tr><td colspan="7">{{_ No users match.}}</td></tr>{{/items_empty}}
  </tbody>
</table>
{{#meta}}<p class="muted">{{_ Total}}: {{total}}</p>{{/meta}}

<section class="card narrow">
  <h2>{{_ New user}}</h2>
  <form method="post" action="/users" class="form" id="new-user">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="username">{{_ User name}}</label>
    <input id="username" name="username" required minlength="3" maxlength="32"
           value="{{#form}}{{username}}{{/form}}">
    <label for="display_name">{{_ Display name}}</label>
    <input id="display_name" name="display_name" maxlength="64" value="{{#form}}{{display_name}}{{/form}}">
    <label for="email">{{_ Email}}</label>
    <input id="email" name="email" type="email" maxlength="254" value="{{#form}}{{email}}{{/form}}">
    <label for="role">{{_ Role}}</label>
    <select id="role" name="role">
      <option value="user">{{_ User}}</option>
      <option value="admin">{{_ Administrator}}</option>
    </select>
    <label for="password">{{_ Password}}</label>
    <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8">
    <button type="submit" class="primary">{{_ Create user}}</button>
  </form>
</section>
