// SafeHaven airlock: the depositor's page (/airlock/deposits#<token>). Talks only to the anonymous deposit API
// (/airlock/deposit/**, token in X-SafeHaven-Deposit-Token): chunked, resumable uploads with a SHA-256 per chunk
// (Web Crypto), then "complete" and polling of the deposit's state until the inspection's verdict.
'use strict';

(() => {
  const api = '/airlock/deposit';
  const header = 'X-SafeHaven-Deposit-Token';
  const token = decodeURIComponent(location.hash.slice(1));
  const $ = (id) => document.getElementById(id);
  const status = $('deposit-status');
  const items = new Map(); // path -> { file, path, row, progress, text, done, failed }
  let tokenKey = '';
  let queue = Promise.resolve();
  let stopped = false;

  const say = (text, bad) => {
    status.textContent = text;
    status.classList.toggle('bad', Boolean(bad));
  };

  const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
  const sha256 = async (data) => hex(await crypto.subtle.digest('SHA-256', data));

  // Small files in 64 KiB chunks (the API's minimum), large ones in up to 8 MiB: at most 64 chunks below 512 MiB.
  const chunkSizeFor = (size) => {
    const min = 64 * 1024;
    const max = 8 * 1024 * 1024;
    const wanted = Math.ceil(size / 64 / min) * min;
    return Math.min(max, Math.max(min, wanted));
  };

  const call = async (method, path, body, headers) => {
    const response = await fetch(api + path, {
      method,
      headers: { [header]: token, ...(headers || {}) },
      body,
      cache: 'no-store',
      credentials: 'omit',
    });
    let json = null;
    const type = response.headers.get('Content-Type') || '';
    if (type.includes('json')) {
      json = await response.json();
    }
    return { ok: response.ok, status: response.status, json };
  };

  const problem = (result) => (result.json && (result.json.detail || result.json.title)) || `HTTP ${result.status}`;

  const verdicts = {
    submitted: 'Received. Waiting for the inspection to start…',
    scanning: 'Being inspected (archives listed, hostile paths and bombs checked, virus scan)…',
    in_review: 'Inspection passed: nothing was found. The submission now waits for its reviewers\' sign-off.',
    approved: 'Inspection passed and no sign-off was needed: the submission is approved.',
    blocked: 'Blocked by the inspection: the files will not enter.',
    failed: 'The inspection could not finish; the project\'s managers can run it again.',
    rejected: 'Rejected by a reviewer.',
    cancelled: 'Cancelled.',
    expired: 'The deposit window closed before the transfer was complete.',
    revoked: 'Revoked.',
  };

  const showVerdict = (view) => {
    $('deposit-verdict').hidden = false;
    const words = verdicts[view.state] || view.state;
    const verdict = $('verdict');
    verdict.textContent = words + (view.stateReason ? ` (${view.stateReason})` : '');
    verdict.className = ['blocked', 'failed', 'rejected'].includes(view.state) ? 'bad' : (['in_review', 'approved'].includes(view.state) ? 'ok' : '');
    verdict.dataset.state = view.state;
  };

  const poll = async () => {
    for (;;) {
      const result = await call('GET', '/status');
      if (!result.ok) {
        say(`The deposit's state cannot be read: ${problem(result)}`, true);
        return;
      }
      showVerdict(result.json);
      if (!['submitted', 'scanning'].includes(result.json.state)) {
        say('Transfer complete.');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };

  const addRow = (path, size) => {
    const list = $('file-list');
    const li = document.createElement('li');
    const id = `upload-${list.children.length}`;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = `${path} (${size} bytes)`;
    const progress = document.createElement('progress');
    progress.id = id;
    progress.max = Math.max(size, 1);
    progress.value = 0;
    const text = document.createElement('span');
    text.className = 'file-status';
    text.setAttribute('aria-live', 'polite');
    text.textContent = 'Waiting';
    li.append(label, progress, text);
    list.append(li);
    $('deposit-files').hidden = false;
    return { row: li, progress, text };
  };

  const updateFinish = () => {
    const all = Array.from(items.values());
    $('finish').disabled = all.length === 0 || !all.every((i) => i.done);
  };

  const upload = async (item) => {
    const { file, path } = item;
    const size = file.size;
    if (size > 2 * 1024 * 1024 * 1024) {
      throw new Error('larger than 2 GiB: the browser cannot hash it in one piece; use the safehaven CLI for this file');
    }
    const key = `safehaven.deposit.${tokenKey}|${path}|${size}|${file.lastModified}`;
    const saved = JSON.parse(localStorage.getItem(key) || 'null');
    let state = null;
    if (saved) {
      const known = await call('GET', `/uploads/${encodeURIComponent(saved.uploadId)}`);
      if (known.ok && known.json.state === 'completed') {
        return 'already received';
      }
      if (known.ok && known.json.state === 'open') {
        state = known.json;
      }
    }
    if (!state) {
      item.text.textContent = 'Computing SHA-256…';
      const whole = saved ? saved.sha256 : await sha256(await file.arrayBuffer());
      const begun = await call('POST', '/uploads', JSON.stringify({ path, size, sha256: whole, chunkSize: chunkSizeFor(size) }),
        { 'Content-Type': 'application/json' });
      if (!begun.ok) {
        throw new Error(problem(begun));
      }
      state = begun.json;
      localStorage.setItem(key, JSON.stringify({ uploadId: state.uploadId, sha256: whole }));
    }
    const received = new Set(state.receivedChunks);
    const resumed = received.size;
    const lengthOf = (i) => Math.min(state.chunkSize, size - i * state.chunkSize);
    let sent = 0;
    for (const i of received) {
      sent += lengthOf(i);
    }
    item.progress.value = sent;
    for (let i = 0; i < state.chunkCount; i++) {
      if (received.has(i)) {
        continue;
      }
      item.text.textContent = `Sending chunk ${i + 1} of ${state.chunkCount}` + (resumed ? ` (resumed: ${resumed} already there)` : '');
      const chunk = await file.slice(i * state.chunkSize, i * state.chunkSize + lengthOf(i)).arrayBuffer();
      const put = await call('PUT', `/uploads/${encodeURIComponent(state.uploadId)}/chunks/${i}`, chunk,
        { 'X-Chunk-SHA256': await sha256(chunk), 'Content-Type': 'application/octet-stream' });
      if (!put.ok) {
        throw new Error(problem(put));
      }
      sent += chunk.byteLength;
      item.progress.value = sent;
    }
    const completed = await call('POST', `/uploads/${encodeURIComponent(state.uploadId)}/complete`);
    if (!completed.ok) {
      throw new Error(problem(completed));
    }
    return resumed ? `received (resumed after ${resumed} of ${state.chunkCount} chunks)` : 'received';
  };

  const enqueue = (file, path) => {
    path = path.replace(/^\/+/, '');
    if (items.has(path)) {
      return;
    }
    const item = { file, path, done: false, ...addRow(path, file.size) };
    items.set(path, item);
    updateFinish();
    queue = queue.then(async () => {
      if (stopped) {
        item.text.textContent = 'Not sent: choose the files again to resume';
        return;
      }
      try {
        const outcome = await upload(item);
        item.done = true;
        item.progress.value = item.progress.max;
        item.text.textContent = `Done: ${outcome}`;
        item.row.classList.add('done');
      } catch (e) {
        item.failed = true;
        item.text.textContent = `Stopped: ${e.message}`;
        item.row.classList.add('failed');
        if (e instanceof TypeError) {
          // The network went away: stop, and resume from what the appliance has once the page is opened again.
          stopped = true;
          say('The connection dropped. Open this link again and choose the same files: the upload resumes where it stopped.', true);
        }
      }
      updateFinish();
      const all = Array.from(items.values());
      if (all.every((i) => i.done)) {
        say(`${all.length} file(s) received. Add more, or mark the transfer complete.`);
      }
    });
  };

  // Folders dropped: walk the entries (DataTransferItem.webkitGetAsEntry), keeping each file's path inside the folder.
  const walk = async (entry) => {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      enqueue(file, entry.fullPath);
      return;
    }
    if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) {
          break;
        }
        for (const child of batch) {
          await walk(child);
        }
      }
    }
  };

  const start = async () => {
    if (!token) {
      say('This page needs the deposit link you were given: it ends in # followed by the deposit token.', true);
      return;
    }
    tokenKey = (await sha256(new TextEncoder().encode(token))).slice(0, 16);
    const info = await call('GET', '/');
    if (!info.ok) {
      // A used-up token (the transfer was marked complete) still reads its deposit's state.
      const after = await call('GET', '/status');
      if (after.ok) {
        say('This transfer is complete.');
        showVerdict(after.json);
        if (['submitted', 'scanning'].includes(after.json.state)) {
          await poll();
        }
        return;
      }
      say(`This deposit link cannot be used: ${problem(info)}`, true);
      return;
    }
    const kinds = { software_ingress: 'Software for the project', data_ingress: 'Data for the project', egress: 'Outputs leaving the project' };
    $('deposit-kind').textContent = kinds[info.json.kind] || info.json.kind;
    $('deposit-expires').textContent = new Date(info.json.tokenExpiresAt).toLocaleString();
    $('deposit-script').textContent = info.json.script || 'none';
    $('deposit-info').hidden = false;
    $('deposit-pick').hidden = false;
    say('Ready: choose or drop files and folders.');

    for (const id of ['pick-files', 'pick-folder']) {
      $(id).addEventListener('change', (event) => {
        for (const file of event.target.files) {
          enqueue(file, file.webkitRelativePath || file.name);
        }
        event.target.value = '';
      });
    }
    const drop = $('drop');
    drop.addEventListener('dragover', (event) => {
      event.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', async (event) => {
      event.preventDefault();
      drop.classList.remove('over');
      const entries = Array.from(event.dataTransfer.items || [])
        .map((item) => (item.webkitGetAsEntry ? item.webkitGetAsEntry() : null)).filter(Boolean);
      if (entries.length === 0) {
        for (const file of event.dataTransfer.files) {
          enqueue(file, file.name);
        }
        return;
      }
      for (const entry of entries) {
        await walk(entry);
      }
    });
    $('finish').addEventListener('click', async () => {
      $('finish').disabled = true;
      say('Marking the transfer complete…');
      const done = await call('POST', '/complete');
      if (!done.ok) {
        say(`The transfer cannot be completed: ${problem(done)}`, true);
        updateFinish();
        return;
      }
      $('deposit-pick').hidden = true;
      showVerdict(done.json);
      await poll();
    });
  };

  document.addEventListener('DOMContentLoaded', () => {
    start().catch((e) => say(`Something went wrong: ${e.message}`, true));
  });
})();
