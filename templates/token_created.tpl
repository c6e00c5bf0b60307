{{%AUTOESCAPE context="HTML"}}<h1>{{_ New API token}}</h1>
<section class="card">
  <p class="alert">{{_ Copy the token now: it is shown only this once.}}</p>
  {{#token}}<p>{{_ Name}}: <strong>{{name}}</strong></p>{{/token}}
  <p><code id="token-secret">{{secret}}</code></p>
  <p><a href="/profile">{{_ Back to the profile}}</a></p>
</section>
