{{%AUTOESCAPE context="HTML"}}<section class="card">
  <h1>{{_ Something is not right}}</h1>
  <p><a href="/">{{_ Back to the dashboard}}</a></p>
</section>
