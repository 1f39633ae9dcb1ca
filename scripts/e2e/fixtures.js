// The files the walk uploads, made here (nothing is downloaded): a one-page PDF, a file
// named .pdf that is HTML, a small PNG and JPEG, and a camera-like photo: a 4000×3000 JPEG
// of about 6 MB, drawn by Chromium, tagged with EXIF orientation 6 (the phone was held
// upright, so it shows as 3000×4000).
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

function pdf() {
  const objects = [
    '<</Type/Catalog/Pages 2 0 R>>',
    '<</Type/Pages/Kids[3 0 R]/Count 1>>',
    '<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R/Resources<<>>>>',
  ];
  const stream = 'BT /F1 24 Tf 72 760 Td (Factura) Tj ET';
  objects.push(`<</Length ${stream.length}>>stream\n${stream}\nendstream`);
  let out = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<</Size ${objects.length + 1}/Root 1 0 R>>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

function png(width, height, rgb) {
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, Buffer.from(rgb))]);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32 ? zlib.crc32(body) : crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

// An APP1 segment with one EXIF tag: Orientation (0x0112) = `value`.
function exifOrientation(value) {
  const tiff = Buffer.from([
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF header, IFD at 8
    0x00, 0x01, // one entry
    0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, value >> 8, value & 0xff, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, // no next IFD
  ]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

// Width and height from a JPEG's frame header, or null.
function jpegSize(buf) {
  let i = 2;
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) return null;
    const marker = buf[i + 1];
    const len = buf.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    i += 2 + len;
  }
  return null;
}

// A JPEG drawn by the browser: a gradient with noise of `grain`, at `quality`.
async function drawJpeg(page, width, height, grain, quality) {
  const b64 = await page.evaluate(
    async ([w, h, g, q]) => {
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext('2d');
      const img = ctx.createImageData(w, h);
      const d = img.data;
      let seed = 7;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          const n = ((seed >> 8) % (2 * g + 1)) - g;
          const i = (y * w + x) * 4;
          d[i] = (x * 255) / w + n;
          d[i + 1] = (y * 255) / h + n;
          d[i + 2] = 160 + n;
          d[i + 3] = 255;
        }
      }
      ctx.putImageData(img, 0, 0);
      // An arrow pointing up in the picture as the camera saw it, to tell turned output.
      ctx.fillStyle = '#000';
      ctx.fillRect(w / 2 - 100, h / 4, 200, h / 2);
      const blob = await new Promise((r) => canvas.toBlob(r, 'image/jpeg', q));
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      return btoa(s);
    },
    [width, height, grain, quality],
  );
  return Buffer.from(b64, 'base64');
}

async function write(dir, browser) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'factura.pdf'), pdf());
  fs.writeFileSync(path.join(dir, 'not-a-pdf.pdf'), '<!doctype html><title>x</title><p>not a PDF</p>\n');
  fs.writeFileSync(path.join(dir, 'dni.png'), png(300, 180, [120, 160, 200]));
  const page = await browser.newPage();
  try {
    fs.writeFileSync(path.join(dir, 'small.jpg'), await drawJpeg(page, 800, 600, 8, 0.85));
    let photo = null;
    for (const grain of [24, 32, 48, 64]) {
      photo = await drawJpeg(page, 4000, 3000, grain, 0.92);
      if (photo.length >= 6 * 1024 * 1024) break;
    }
    const camera = Buffer.concat([photo.subarray(0, 2), exifOrientation(6), photo.subarray(2)]);
    fs.writeFileSync(path.join(dir, 'camera.jpg'), camera);
    return { cameraBytes: camera.length };
  } finally {
    await page.close();
  }
}

module.exports = { write, jpegSize, pdf, png };
