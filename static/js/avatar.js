// The profile page's picture upload: the chosen file goes as it is to
// PUT /api/v1/me/avatar, which checks that it really is a PNG or JPEG.
// Without JavaScript the rest of the page works; only this form needs it.
document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('avatar-form');
  if (!form) return;
  const status = document.getElementById('avatar-status');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = form.querySelector('input[type=file]').files[0];
    if (!file) return;
    status.textContent = '';
    const res = await fetch('/api/v1/me/avatar', {
      method: 'PUT',
      body: file,
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': form.dataset.csrf, 'Content-Type': file.type || 'application/octet-stream' },
    });
    if (res.ok) {
      window.location.reload();
      return;
    }
    let message = `${res.status} ${res.statusText}`;
    try {
      message = (await res.json()).error.message;
    } catch {
      // nginx's own answers may not be JSON
    }
    status.textContent = message;
  });
});
