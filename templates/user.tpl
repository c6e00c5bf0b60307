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
    <button type="submit">{{_ Reset password}}</button>
  </form>
</section>
{{/user}}
