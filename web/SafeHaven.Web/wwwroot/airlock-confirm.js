// SafeHaven airlock: the depositor's SHA-256 confirmation. Optionally computes the SHA-256 of the depositor's own
// copies in this browser (Web Crypto; nothing is uploaded) and fills them in, matched by path, for them to submit.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const input = document.getElementById('local-files');
  const status = document.getElementById('local-status');
  if (!input) {
    return;
  }
  const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
  input.addEventListener('change', async () => {
    const fields = new Map(Array.from(document.querySelectorAll('input.sha')).map((f) => [f.dataset.path, f]));
    let filled = 0;
    for (const file of input.files) {
      const full = file.webkitRelativePath || file.name;
      // A chosen folder's name may or may not be part of the deposited paths: try both.
      const candidates = [full, full.split('/').slice(1).join('/')];
      const field = candidates.map((p) => fields.get(p)).find(Boolean);
      if (!field) {
        continue;
      }
      status.textContent = `Computing the SHA-256 of ${full}…`;
      field.value = hex(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
      filled++;
    }
    status.textContent = `${filled} of ${fields.size} SHA-256 filled in from your copies; compare them, then confirm.`;
  });
});
