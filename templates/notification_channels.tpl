{{%AUTOESCAPE context="HTML"}}<h1>{{_ Notification channels}}</h1>
<table class="table" id="channels">
  <thead><tr><th>{{_ Name}}</th><th>{{_ Type}}</th><th>{{_ Language}}</th><th>{{_ Enabled}}</th><th></th></tr></thead>
  <tbody>
  {{#items}}<tr data-channel="{{id}}"><td><a href="/notification-channels/{{id}}">{{name}}</a></td><td>{{type}}</td><td>{{language}}</td><td>{{#enabled}}✓{{/enabled}}</td>
    <td><form method="post" action="/notification-channels/{{id}}/test" class="inline">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <button class="test-channel">{{_ Test}}</button>
    </form>
    <form method="post" action="/notification-channels/{{id}}/delete" class="inline">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <button class="delete-channel">{{_ Delete}}</button>
    </form></td></tr>{{/items}}
  {{#items_empty}}<tr><td colspan="5">{{_ No notification channels yet.}}</td></tr>{{/items_empty}}
  </tbody>
</table>
<p><a href="/alert-rules">{{_ Alert rules}}</a> · <a href="/alerts">{{_ Alert history}}</a></p>

<section class="card narrow">
  <h2>{{_ New notification channel}}</h2>
  <form method="post" action="/notification-channels" class="form" id="new-channel">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="name">{{_ Name}}</label>
    <input id="name" name="name" required maxlength="100" value="{{#form}}{{name}}{{/form}}">
    {{#error_on_name}}<p class="field-error" id="error-name">{{error_message}}</p>{{/error_on_name}}
    <label for="type">{{_ Type}}</label>
    <select id="type" name="type">{{#type_options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/type_options}}</select>
    <label for="language">{{_ Language of the messages}}</label>
    <select id="language" name="language">{{#language_options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/language_options}}</select>
    <p class="hint">{{_ Fill in what the type needs: a webhook its URL (and a signing key), a DingTalk robot its access token (and secret or keyword), email its SMTP server, sender and recipients.}}</p>
    {{#error_on_config}}<p class="field-error" id="error-config">{{error_message}}</p>{{/error_on_config}}
    <label for="url">{{_ Webhook URL}}</label>
    <input id="url" name="url" maxlength="2000" placeholder="https://" value="{{#form}}{{url}}{{/form}}">
    <label for="access_token">{{_ DingTalk access token}}</label>
    <input id="access_token" name="access_token" maxlength="256" autocomplete="off">
    <label for="keyword">{{_ DingTalk keyword}}</label>
    <input id="keyword" name="keyword" maxlength="64" value="{{#form}}{{keyword}}{{/form}}">
    <label for="secret">{{_ Signing key or DingTalk secret}}</label>
    <input id="secret" name="secret" maxlength="256" autocomplete="off">
    <label for="smtp_url">{{_ SMTP server}}</label>
    <input id="smtp_url" name="smtp_url" maxlength="300" placeholder="smtp://mail.example.com:587" value="{{#form}}{{smtp_url}}{{/form}}">
    <label><input type="checkbox" name="starttls" value="true"> {{_ STARTTLS}}</label>
    <label for="username">{{_ SMTP user}}</label>
    <input id="username" name="username" maxlength="200" value="{{#form}}{{username}}{{/form}}">
    <label for="password">{{_ SMTP password}}</label>
    <input id="password" name="password" type="password" maxlength="256" autocomplete="new-password">
    <label for="from">{{_ From}}</label>
    <input id="from" name="from" maxlength="254" value="{{#form}}{{from}}{{/form}}">
    <label for="to">{{_ To (comma separated)}}</label>
    <input id="to" name="to" maxlength="2000" value="{{#form}}{{to}}{{/form}}">
    <button type="submit" class="primary">{{_ Create channel}}</button>
  </form>
</section>
