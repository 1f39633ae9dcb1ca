/*
 * Vecinal: progressive enhancement of the forms that send documents (application, answer to
 * a request for information, renewal): forms marked `data-upload`. Without this script
 * those forms post as they are and the server answers with a page; with it:
 *
 * - a chosen file is checked at once (PDF, JPEG or PNG by its first bytes, as the server
 *   does; its size against the server's limit) and what is wrong is said next to the field;
 * - a JPEG or PNG photo over 2,000 px on its long side or over 2 MB is redrawn on a canvas
 *   as a JPEG of at most 2,000 px and about 1.5 MB, upright as the camera recorded it
 *   (createImageBitmap with imageOrientation "from-image"); PDFs are never touched;
 * - the form is sent with XMLHttpRequest (for upload progress), with a <progress> bar, its
 *   percentage and a cancel button; a network failure or a cancel leaves the form filled;
 *   the server's answer then replaces the page, as a plain post would show it (the page a
 *   303 leads to, or the form again with its 422 errors).
 *
 * Every text comes from the form's data- attributes, rendered in the page's language by the
 * server: this file has none of its own. The server checks everything again.
 */
(function () {
  'use strict';

  var LONG_SIDE = 2000;
  var REDUCE_OVER_BYTES = 2 * 1024 * 1024;
  var TARGET_BYTES = 1.5 * 1024 * 1024;
  var MB = 1024 * 1024;

  function lang() {
    return document.documentElement.lang || 'es-AR';
  }

  function megabytes(bytes) {
    var n = new Intl.NumberFormat(lang(), { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    return n.format(bytes / MB) + ' MB';
  }

  function percent(fraction) {
    return new Intl.NumberFormat(lang(), { style: 'percent', maximumFractionDigits: 0 }).format(fraction);
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : all;
    });
  }

  // The accepted type a file's first bytes claim, as the server's sniff decides it.
  function sniff(file) {
    return file.slice(0, 8).arrayBuffer().then(function (buf) {
      var b = new Uint8Array(buf);
      var starts = function (sig) {
        if (b.length < sig.length) return false;
        for (var i = 0; i < sig.length; i++) if (b[i] !== sig[i]) return false;
        return true;
      };
      if (starts([0x25, 0x50, 0x44, 0x46, 0x2d])) return 'pdf';
      if (starts([0xff, 0xd8, 0xff]) && b.length > 3) return 'jpeg';
      if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
      return null;
    });
  }

  // The photo as something a canvas can draw, turned as the camera recorded it.
  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: 'from-image' }).catch(function () {
        return decodeWithImage(file);
      });
    }
    return decodeWithImage(file);
  }

  // Fallback for browsers without createImageBitmap options: an <img> from a data: URL (the
  // page's CSP allows data: images, not blob:); browsers apply the EXIF orientation to it.
  function decodeWithImage(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onerror = function () { reject(reader.error); };
      reader.onload = function () {
        var img = new Image();
        img.onload = function () { resolve(img); };
        img.onerror = function () { reject(new Error('image')); };
        img.src = reader.result;
      };
      reader.readAsDataURL(file);
    });
  }

  function encode(source, width, height, quality) {
    var canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    var g = canvas.getContext('2d');
    // A PNG's transparent parts would turn black in a JPEG.
    g.fillStyle = '#fff';
    g.fillRect(0, 0, width, height);
    g.drawImage(source, 0, 0, width, height);
    return new Promise(function (resolve, reject) {
      canvas.toBlob(function (blob) {
        if (blob) resolve(blob); else reject(new Error('toBlob'));
      }, 'image/jpeg', quality);
    });
  }

  // A smaller JPEG of the photo, or null when it needs none (or cannot be drawn here).
  function reduce(file) {
    return decode(file).then(function (image) {
      var w = image.width, h = image.height;
      var long = Math.max(w, h);
      if (long <= LONG_SIDE && file.size <= REDUCE_OVER_BYTES) return null;
      var scale = Math.min(1, LONG_SIDE / long);
      var tries = [[scale, 0.85], [scale, 0.7], [scale * 0.75, 0.7], [scale * 0.5, 0.7]];
      var attempt = function (i) {
        var t = tries[i];
        var cw = Math.max(1, Math.round(w * t[0])), ch = Math.max(1, Math.round(h * t[0]));
        return encode(image, cw, ch, t[1]).then(function (blob) {
          if (blob.size > TARGET_BYTES && i + 1 < tries.length) return attempt(i + 1);
          return blob;
        });
      };
      return attempt(0).then(function (blob) {
        if (image.close) image.close();
        if (blob.size >= file.size) return null;
        var name = (file.name || 'foto').replace(/\.[^.]*$/, '') + '.jpg';
        return new File([blob], name, { type: 'image/jpeg', lastModified: Date.now() });
      });
    }).catch(function () { return null; });
  }

  function enhance(form) {
    if (form.hasAttribute('data-upload-ready')) return;
    form.setAttribute('data-upload-ready', '');
    var text = form.dataset;
    var maxBytes = parseInt(text.maxBytes, 10) || 0;
    // Per file input: the file to send in place of the chosen one, and the check under way.
    var replacement = new Map();
    var pending = new Map();
    var invalid = new Set();
    var inputs = Array.prototype.slice.call(form.querySelectorAll('input[type=file]'));
    var coarse = window.matchMedia && window.matchMedia('(pointer: coarse)').matches;

    inputs.forEach(function (input) {
      var note = document.createElement('p');
      note.className = 'upload-note';
      note.id = input.id + '-note';
      note.setAttribute('aria-live', 'polite');
      input.insertAdjacentElement('afterend', note);
      var described = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
      described.push(note.id);
      input.setAttribute('aria-describedby', described.join(' '));

      // On a phone, a button that opens the camera straight away; the field itself still
      // offers the files already on the phone (a `capture` on it would hide them).
      if (coarse) {
        var camera = document.createElement('button');
        camera.type = 'button';
        camera.className = 'secondary camera';
        camera.textContent = text.msgCamera;
        camera.addEventListener('click', function () {
          input.setAttribute('capture', 'environment');
          input.click();
          setTimeout(function () { input.removeAttribute('capture'); }, 0);
        });
        var fieldLabel = form.querySelector('label[for="' + input.id + '"]');
        if (fieldLabel) {
          if (!fieldLabel.id) fieldLabel.id = input.id + '-label';
          camera.setAttribute('aria-describedby', fieldLabel.id);
        }
        note.insertAdjacentElement('beforebegin', camera);
      }

      input.addEventListener('change', function () {
        replacement.delete(input);
        invalid.delete(input);
        input.removeAttribute('aria-invalid');
        note.textContent = '';
        note.className = 'upload-note';
        var file = input.files && input.files[0];
        if (!file) return;
        var bad = function (message) {
          invalid.add(input);
          input.setAttribute('aria-invalid', 'true');
          note.className = 'upload-note field-error';
          note.textContent = message;
        };
        var tooLarge = function (size) {
          bad(fill(text.msgTooLarge, { size: megabytes(size), max: megabytes(maxBytes) }));
        };
        var check = sniff(file).then(function (kind) {
          if (input.files[0] !== file) return;
          if (!kind) return bad(text.msgBadType);
          if (kind === 'pdf') {
            if (maxBytes && file.size > maxBytes) tooLarge(file.size);
            return;
          }
          note.textContent = text.msgReducing;
          return reduce(file).then(function (smaller) {
            if (input.files[0] !== file) return;
            note.textContent = '';
            var sent = smaller || file;
            if (maxBytes && sent.size > maxBytes) return tooLarge(sent.size);
            if (smaller) {
              replacement.set(input, smaller);
              note.className = 'upload-note reduced';
              note.textContent = fill(text.msgReduced, { from: megabytes(file.size), to: megabytes(smaller.size) });
            }
          });
        });
        // A file the browser cannot read goes as it is: the server has the last word.
        check = check.catch(function () {});
        pending.set(input, check);
        check.then(function () { if (pending.get(input) === check) pending.delete(input); });
      });
    });

    // The bar, its percentage, the cancel button and the status line, shown while sending.
    var submit = form.querySelector('button[type=submit], button:not([type])');
    var box = document.createElement('div');
    box.className = 'upload-progress';
    box.hidden = true;
    var barId = (form.id || 'upload') + '-progress';
    var label = document.createElement('label');
    label.htmlFor = barId;
    label.textContent = text.msgProgress;
    var bar = document.createElement('progress');
    bar.id = barId;
    bar.max = 100;
    bar.value = 0;
    var pct = document.createElement('span');
    pct.className = 'upload-percent';
    pct.setAttribute('aria-hidden', 'true');
    var cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'secondary';
    cancel.textContent = text.msgCancel;
    box.appendChild(label);
    box.appendChild(bar);
    box.appendChild(pct);
    box.appendChild(cancel);
    var status = document.createElement('p');
    status.className = 'upload-status';
    status.setAttribute('role', 'status');
    if (submit) {
      submit.insertAdjacentElement('afterend', status);
      submit.insertAdjacentElement('afterend', box);
    } else {
      form.appendChild(box);
      form.appendChild(status);
    }

    var xhr = null;

    function show(value) {
      bar.value = value;
      pct.textContent = percent(value / 100);
    }

    function finish(message, failed) {
      xhr = null;
      box.hidden = true;
      if (submit) submit.disabled = false;
      status.className = failed ? 'upload-status field-error' : 'upload-status';
      status.textContent = message;
    }

    cancel.addEventListener('click', function () {
      if (xhr) xhr.abort();
    });

    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (xhr) return;
      status.textContent = '';
      var submitter = event.submitter;
      Promise.all(Array.from(pending.values())).then(function () {
        var wrong = inputs.filter(function (i) { return invalid.has(i); });
        if (wrong.length) {
          finish(text.msgFix, true);
          wrong[0].focus();
          return;
        }
        var data = new FormData(form);
        replacement.forEach(function (file, input) { data.set(input.name, file, file.name); });
        if (submitter && submitter.name) data.append(submitter.name, submitter.value);
        send(data);
      });
    });

    function send(data) {
      var request = new XMLHttpRequest();
      xhr = request;
      request.open('POST', form.action);
      request.setRequestHeader('Accept', 'text/html');
      request.upload.addEventListener('progress', function (e) {
        if (e.lengthComputable && e.total > 0) show(Math.min(100, Math.floor((e.loaded / e.total) * 100)));
      });
      request.upload.addEventListener('load', function () {
        show(100);
        // The server has the whole form now and may already have stored it: too late to
        // take it back.
        cancel.hidden = true;
        status.textContent = text.msgWaiting;
      });
      request.addEventListener('load', function () {
        var type = request.getResponseHeader('Content-Type') || '';
        if (type.indexOf('text/html') !== 0) return finish(text.msgFailed, true);
        xhr = null;
        replacePage(request.responseText, request.responseURL, form.action);
      });
      request.addEventListener('error', function () { finish(text.msgFailed, true); });
      request.addEventListener('timeout', function () { finish(text.msgFailed, true); });
      request.addEventListener('abort', function () { finish(text.msgCancelled, false); });
      if (submit) submit.disabled = true;
      cancel.hidden = false;
      show(0);
      box.hidden = false;
      status.textContent = text.msgSending;
      request.send(data);
    }
  }

  // Shows the server's answer as the page, as a plain form post would. After a redirect
  // (the request's final address is not the form's action) the address becomes that page's,
  // in place of the form's: a reload then shows that page, as after a plain post. The form
  // again with its errors (422) keeps the form page's address.
  function replacePage(html, finalUrl, action) {
    var doc = new DOMParser().parseFromString(html, 'text/html');
    // Every page has the same stylesheet and icon: only the title, the language and the
    // body change (swapping the whole head made Chromium look for /favicon.ico meanwhile).
    document.title = doc.title;
    document.documentElement.lang = doc.documentElement.lang;
    document.body.replaceWith(document.adoptNode(doc.body));
    if (finalUrl && finalUrl !== action && finalUrl.indexOf(location.origin + '/') === 0) {
      history.replaceState(null, '', finalUrl);
    }
    window.scrollTo(0, 0);
    var summary = document.querySelector('.error-summary');
    if (summary) {
      summary.tabIndex = -1;
      summary.focus();
    }
    start();
  }

  function start() {
    document.querySelectorAll('form[data-upload]').forEach(enhance);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
