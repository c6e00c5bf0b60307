{{%AUTOESCAPE context="HTML"}}{{#channel}}<h1>{{_ Notification channel}} {{name}}</h1>
<p><a href="/notification-channels">{{_ Notification channels}}</a></p>
<form method="post" action="/notification-channels/{{id}}/test" class="inline">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <button class="test-channel">{{_ Send a test message}}</button>
</form>
<section class="card narrow">
  <form method="post" action="/notification-channels/{{id}}" class="form" id="edit-channel">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="name">{{_ Name}}</label>
    <input id="name" name="name" required maxlength="100" value="{{name}}">
    {{#error_on_name}}<p class="field-error" id="error-name">{{error_message}}</p>{{/error_on_name}}
    <input type="hidden" name="enabled" value="false">
    <label><input type="checkbox" name="enabled" value="true"{{#enabled}} checked{{/enabled}}> {{_ Enabled}}</label>
{{/channel}}
    <label for="language">{{_ Language of the messages}}</label>
    <select id="language" name="language">{{#language_options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/language_options}}</select>
    {{#error_on_config}}<p class="field-error" id="error-config">{{error_message}}</p>{{/error_on_config}}
    <p class="hint">{{_ Secrets are never shown: leave them empty to keep them.}}</p>
{{#edit}}
    {{#type_is_webhook}}
    <label for="url">{{_ Webhook URL}}</label>
    <input id="url" name="url" maxlength="2000" value="{{url}}">
    <label for="secret">{{_ Signing key}}</label>
    <input id="secret" name="secret" maxlength="256" autocomplete="off" placeholder="{{#has_secret}}••••••{{/has_secret}}">
    {{/type_is_webhook}}
    {{#type_is_dingtalk}}
    <label for="access_token">{{_ DingTalk access token}}</label>
    <input id="access_token" name="access_token" maxlength="256" autocomplete="off" placeholder="{{#has_access_token}}••••••{{/has_access_token}}">
    <label for="keyword">{{_ DingTalk keyword}}</label>
    <input id="keyword" name="keyword" maxlength="64" value="{{keyword}}">
    <label for="secret">{{_ DingTalk secret}}</label>
    <input id="secret" name="secret" maxlength="256" autocomplete="off" placeholder="{{#has_secret}}••••••{{/has_secret}}">
    {{/type_is_dingtalk}}
    {{#type_is_email}}
    <label for="smtp_url">{{_ SMTP server}}</label>
    <input id="smtp_url" name="smtp_url" maxlength="300" value="{{smtp_url}}">
    <input type="hidden" name="starttls" value="false">
    <label><input type="checkbox" name="starttls" value="true"{{#starttls}} checked{{/starttls}}> {{_ STARTTLS}}</label>
    <label for="username">{{_ SMTP user}}</label>
    <input id="username" name="username" maxlength="200" value="{{username}}">
    <label for="password">{{_ SMTP password}}</label>
    <input id="password" name="password" type="password" maxlength="256" autocomplete="new-password" placeholder="{{#has_password}}••••••{{/has_password}}">
    <label for="from">{{_ From}}</label>
    <input id="from" name="from" maxlength="254" value="{{from}}">
    <label for="to">{{_ To (comma separated)}}</label>
    <input id="to" name="to" maxlength="2000" value="{{to}}">
    {{/type_is_email}}
{{/edit}}
    <button type="submit" class="primary">{{_ Save}}</button>
  </form>
</section>
<h2>{{_ Deliveries}}</h2>
<table class="table" id="deliveries">
  <thead><tr><th>{{_ Created}}</th><th>{{_ Event}}</th><th>{{_ State}}</th><th>{{_ Attempts}}</th><th>{{_ Error}}</th><th>{{_ Sent}}</th></tr></thead>
  <tbody>
  {{#deliveries}}<tr data-delivery="{{id}}" data-state="{{state}}"><td>{{created_at}}</td><td>{{event}}</td><td>{{state}}</td><td>{{attempts}}</td><td>{{last_error}}</td><td>{{sent_at}}</td></tr>{{/deliveries}}
  {{#deliveries_empty}}<tr><td colspan="6">{{_ Nothing sent yet.}}</td></tr>{{/deliveries_empty}}
  </tbody>
</table>
{{#channel}}<form method="post" action="/notification-channels/{{id}}/delete" id="delete-channel">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <button class="danger">{{_ Delete this channel}}</button>
</form>{{/channel}}
