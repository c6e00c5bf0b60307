{{%AUTOESCAPE context="HTML"}}<section class="card narrow">
  <h1>{{_ Log in to VMManager}}</h1>
  <form method="post" action="/login" class="form" id="login-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <input type="hidden" name="next" value="{{next}}">
    <label for="username">{{_ User name}}</label>
    <input id="username" name="username" autocomplete="username" required maxlength="64"
           value="{{#form}}{{username}}{{/form}}" autofocus>
    <label for="password">{{_ Password}}</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit" class="primary">{{_ Log in}}</button>
  </form>
  {{#registration}}<p><a href="/register">{{_ Create an account}}</a></p>{{/registration}}
</section>
