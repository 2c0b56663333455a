// SafeHaven web application: small progressive enhancements only; every page works without this file.
'use strict';

// <time datetime="..."> elements show UTC from the server; add the reader's local time as a tooltip.
document.addEventListener('DOMContentLoaded', () => {
  for (const time of document.querySelectorAll('time[datetime]')) {
    const at = new Date(time.getAttribute('datetime'));
    if (!Number.isNaN(at.getTime())) {
      time.title = at.toLocaleString();
    }
  }
  // Forms with data-confirm ask before they submit (an irreversible decision, a sign-out with unsaved work).
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }
});
