{{%AUTOESCAPE context="HTML"}}<h1>{{_ New API token}}</h1>
<section class="card">
  <p class="alert">{{_ Copy the token now: it is shown only this once.}}</p>
  {{#token}}<p>{{_ Name}}: <strong>{{name}}</strong></p>{{/token}}
  <p class="secret"><code id="token-secret">{{secret}}</code>
    <button type="button" class="copy" id="token-secret-copy" data-copy="{{secret}}" data-copied="{{_ Copied}}" aria-label="{{_ Copy the token}}">{{_ Copy}}</button></p>
  <p><a href="/profile">{{_ Back to the profile}}</a></p>
</section>
