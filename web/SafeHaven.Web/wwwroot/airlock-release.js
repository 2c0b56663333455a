// SafeHaven airlock: released outputs (/airlock/released#<token>). Lists and downloads the files from the anonymous
// release API (/airlock/release/**, token in X-SafeHaven-Release-Token), checking each file's SHA-256 in the browser.
'use strict';

(() => {
  const header = 'X-SafeHaven-Release-Token';
  const token = decodeURIComponent(location.hash.slice(1));
  const status = document.getElementById('release-status');
  const table = document.getElementById('released');
  const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
  const say = (text, bad) => {
    status.textContent = text;
    status.classList.toggle('bad', Boolean(bad));
  };
  const problem = async (response) => {
    try {
      const json = await response.json();
      return json.detail || json.title || `HTTP ${response.status}`;
    } catch {
      return `HTTP ${response.status}`;
    }
  };

  const download = async (file, button) => {
    button.disabled = true;
    say(`Downloading ${file.path}…`);
    const path = file.path.split('/').map(encodeURIComponent).join('/');
    const response = await fetch(`/airlock/release/files/${path}`, { headers: { [header]: token }, cache: 'no-store', credentials: 'omit' });
    if (!response.ok) {
      say(`${file.path} cannot be downloaded: ${await problem(response)}`, true);
      button.disabled = false;
      return;
    }
    const blob = await response.blob();
    const actual = hex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
    if (actual !== file.sha256) {
      say(`${file.path} arrived damaged (SHA-256 ${actual}, expected ${file.sha256}); try again.`, true);
      button.disabled = false;
      return;
    }
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([blob], { type: 'application/octet-stream' }));
    link.download = file.path.split('/').pop();
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    say(`${file.path} downloaded; its SHA-256 matches.`);
    button.disabled = false;
  };

  const start = async () => {
    if (!token) {
      say('This page needs the release link you were given: it ends in # followed by the release token.', true);
      return;
    }
    const response = await fetch('/airlock/release/', { headers: { [header]: token }, cache: 'no-store', credentials: 'omit' });
    if (!response.ok) {
      say(`This release link cannot be used: ${await problem(response)}`, true);
      return;
    }
    const manifest = await response.json();
    document.getElementById('released-caption').textContent =
      `${manifest.files.length} file(s) of ${manifest.project}/${manifest.workPackage}; the link works until ${new Date(manifest.expiresAt).toLocaleString()}.`;
    const body = table.querySelector('tbody');
    for (const file of manifest.files) {
      const row = document.createElement('tr');
      const cells = [file.path, String(file.size), file.sha256].map((text, i) => {
        const cell = document.createElement('td');
        cell.textContent = text;
        if (i === 2) {
          cell.className = 'mono';
        }
        return cell;
      });
      const action = document.createElement('td');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Download';
      button.setAttribute('aria-label', `Download ${file.path}`);
      button.addEventListener('click', () => download(file, button).catch((e) => say(`Download failed: ${e.message}`, true)));
      action.append(button);
      row.append(...cells, action);
      body.append(row);
    }
    table.hidden = false;
    say(`${manifest.files.length} file(s) released to you.`);
  };

  document.addEventListener('DOMContentLoaded', () => {
    start().catch((e) => say(`Something went wrong: ${e.message}`, true));
  });
})();
