{{%AUTOESCAPE context="HTML"}}<h1>{{_ Dashboard}}</h1>
{{#user}}
<section class="card" id="whoami">
  <h2>{{_ Your account}}</h2>
  <dl class="facts">
    <dt>{{_ User name}}</dt><dd id="username">{{username}}</dd>
    <dt>{{_ Display name}}</dt><dd>{{display_name}}</dd>
    <dt>{{_ Role}}</dt><dd id="role">{{#role_is_admin}}{{_ Administrator}}{{/role_is_admin}}{{#role_is_user}}{{_ User}}{{/role_is_user}}</dd>
    <dt>{{_ Last login}}</dt><dd>{{last_login_at}}</dd>
    <dt>{{_ Member since}}</dt><dd>{{created_at}}</dd>
  </dl>
</section>
{{/user}}
{{#counts}}
<section class="card" id="counts">
  <h2>{{_ What you have}}</h2>
  <dl class="facts">
    <dt>{{_ Open sessions}}</dt><dd>{{sessions}}</dd>
  </dl>
</section>
{{/counts}}
{{#totals}}
<section class="card" id="totals">
  <h2>{{_ The portal}}</h2>
  <dl class="facts">
    <dt>{{_ Users}}</dt><dd id="users-count">{{users}}</dd>
    <dt>{{_ Enabled users}}</dt><dd>{{users_enabled}}</dd>
  </dl>
</section>
{{/totals}}
{{>METRICS_CHARTS}}
