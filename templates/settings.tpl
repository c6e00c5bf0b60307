{{%AUTOESCAPE context="HTML"}}<h1>{{_ Settings}}</h1>
<section class="card narrow">
  <h2>{{_ Self-registration}}</h2>
  <p class="muted">{{_ When on, visitors can create their own accounts (as normal users) on the registration page.}}</p>
  <form method="post" action="/settings" class="form" id="settings-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="registration">{{_ Self-registration}}</label>
    <select id="registration" name="registration">
      <option value="false">{{_ Off}}</option>
      <option value="true" {{#registration}}selected{{/registration}}>{{_ On}}</option>
    </select>
    <button type="submit" class="primary">{{_ Save}}</button>
  </form>
</section>
