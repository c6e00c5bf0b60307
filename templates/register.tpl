{{%AUTOESCAPE context="HTML"}}<section class="card narrow">
  <h1>{{_ Create an account}}</h1>
  <form method="post" action="/register" class="form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="username">{{_ User name}}</label>
    <input id="username" name="username" required minlength="3" maxlength="32"
           value="{{#form}}{{username}}{{/form}}">
    <label for="display_name">{{_ Display name}}</label>
    <input id="display_name" name="display_name" maxlength="64" value="{{#form}}{{display_name}}{{/form}}">
    <label for="password">{{_ Password}}</label>
    <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8">
    <button type="submit" class="primary">{{_ Create account}}</button>
  </form>
</section>
