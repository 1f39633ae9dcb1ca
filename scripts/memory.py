"""HTTP client of scripts/memory: drives the real forms of a running Vecinal server.

    memory.py residents BASE MAILDIR N         register and confirm N residents
    memory.py submissions BASE FILEDIR N GAP   the N residents apply one after another, GAP
                                               seconds apart; prints the POST's latencies
    memory.py uploads BASE PID FILEDIR N OFFICER_PASSWORD
                                               N residents apply at once with the three files
                                               while the officer reloads the review queue;
                                               prints peak RSS and the page's latencies

Standard library only. Each client sends its own X-Forwarded-For (the server runs with
VECINAL_TRUST_FORWARDED=true), as distinct people would, so the per-address throttles
count them apart; each signs in to its own account.
"""

import glob
import http.client
import os
import re
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timedelta, timezone

PASSWORD = "glaciar tortuga bandoneon mate"


def email(i):
    return f"vecino{i}@memoria.example.org"


class Client:
    """One browser: a cookie jar and a client address."""

    def __init__(self, base, ip):
        u = urllib.parse.urlparse(base)
        self.base, self.host, self.port, self.ip = base, u.hostname, u.port, ip
        self.cookies = {}

    def request(self, method, path, body=None, content_type=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        headers = {"X-Forwarded-For": self.ip, "Origin": self.base}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        conn.request(method, path, body=body, headers=headers)
        res = conn.getresponse()
        data = res.read()
        for k, v in res.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if "Max-Age=0" in v or value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        conn.close()
        return res.status, res.getheader("Location"), data.decode("utf-8", "replace")

    def csrf(self, path):
        status, _, html = self.request("GET", path)
        m = re.search(r'name="csrf_token" value="([^"]+)"', html)
        if not m:
            raise RuntimeError(f"GET {path}: {status}, no CSRF token")
        return m.group(1)

    def post_form(self, path, fields, form_path=None):
        token = self.csrf(form_path or path)
        body = urllib.parse.urlencode([("csrf_token", token)] + list(fields.items()))
        return self.request("POST", path, body, "application/x-www-form-urlencoded")

    def sign_in(self, address, password):
        status, location, _ = self.post_form("/login", {"email": address, "password": password})
        return status == 303, status


def residents(base, maildir, n):
    for i in range(n):
        c = Client(base, f"10.1.{i // 250}.{i % 250 + 1}")
        status, _, _ = c.post_form("/register", {"full_name": f"Vecino Número {i}", "email": email(i), "password": PASSWORD})
        if status != 303:
            sys.exit(f"register {i}: HTTP {status}")
    # The outbox worker writes the confirmation mails within a few seconds.
    links = {}
    deadline = time.time() + 60
    while len(links) < n and time.time() < deadline:
        for path in glob.glob(os.path.join(maildir, "*.eml")):
            text = open(path, encoding="utf-8", errors="replace").read().replace("=\r\n", "").replace("=\n", "")
            to = re.search(r"^To: .*?(vecino\d+@memoria\.example\.org)", text, re.M)
            link = re.search(r"(/email/confirm/[A-Za-z0-9_\-]+)", text)
            if to and link:
                links[to.group(1)] = link.group(1)
        time.sleep(0.5)
    if len(links) < n:
        sys.exit(f"only {len(links)} of {n} confirmation mails arrived")
    for i in range(n):
        c = Client(base, f"10.1.{i // 250}.{i % 250 + 1}")
        path = links[email(i)]
        status, _, _ = c.post_form(path, {})
        if status != 303:
            sys.exit(f"confirm {i}: HTTP {status}")
    print(f"residents {n}")


def rss_kib(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, filename, ctype, data in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n".encode()
        )
        parts.append(data)
        parts.append(b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def prepare_applications(base, filedir, n):
    """Each resident signs in and opens the form: (client, (body, content type)) each."""
    pdf = open(os.path.join(filedir, "doc.pdf"), "rb").read()
    jpg = open(os.path.join(filedir, "photo.jpg"), "rb").read()
    png = open(os.path.join(filedir, "scan.png"), "rb").read()
    # Today in Argentina (UTC-3), the day the certificate is checked against; a day back
    # so a run near midnight cannot land in the future.
    issued = (datetime.now(timezone.utc) - timedelta(hours=3) - timedelta(days=1)).strftime("%Y-%m-%d")
    prepared = []
    for i in range(n):
        c = Client(base, f"10.4.{i // 250}.{i % 250 + 1}")
        ok, status = c.sign_in(email(i), PASSWORD)
        if not ok:
            sys.exit(f"resident {i} sign-in: HTTP {status}")
        token = c.csrf("/applications/new?group=centro")
        fields = [
            ("csrf_token", token),
            ("group", "centro"),
            ("street_address", f"Calle Belgrano {1000 + i}"),
            ("dni", f"30.123.{400 + i}"),
            ("phone", "+54 2964 123456"),
            ("certificate_issued_on", issued),
            ("consent", "yes"),
        ]
        files = [
            ("residency_proof", "factura.pdf", "application/pdf", pdf),
            ("criminal_record", "certificado.jpg", "image/jpeg", jpg),
            ("identity_document", "dni.png", "image/png", png),
        ]
        prepared.append((c, multipart(fields, files)))
    return prepared


def submissions(base, filedir, n, gap):
    """One application at a time, as residents apply through a day, while the documents of
    the ones before are being read."""
    prepared = prepare_applications(base, filedir, n)
    took = []
    for c, (body, ctype) in prepared:
        t0 = time.perf_counter()
        status, _, _ = c.request("POST", "/applications", body, ctype)
        took.append((time.perf_counter() - t0) * 1000)
        if status != 303:
            sys.exit(f"application: HTTP {status}")
        time.sleep(gap)
    lat = sorted(took)
    print(f"submissions {n}")
    print(f"submit_p50_ms {lat[len(lat) // 2]:.1f}")
    print(f"submit_p90_ms {lat[min(len(lat) - 1, int(len(lat) * 0.9))]:.1f}")
    print(f"submit_max_ms {lat[-1]:.1f}")


def uploads(base, pid, filedir, n, officer_password):
    officer = Client(base, "10.3.0.1")
    ok, status = officer.sign_in("oficial.demo@example.org", officer_password)
    if not ok:
        sys.exit(f"officer sign-in: HTTP {status}")
    # Each resident signs in and opens the form before the clock starts.
    prepared = prepare_applications(base, filedir, n)

    # Peak RSS of this phase alone: reset the high-water mark (Linux >= 4.0).
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    rss_before = rss_kib(pid, "VmRSS")
    done = threading.Event()
    latencies = []
    page_errors = [0]
    sampled_peak = [rss_before]
    # The process's own memory apart from the database file's pages it has mapped (SQLite
    # reads through a memory map; those pages are the kernel's page cache, shared).
    anon_peak = [rss_kib(pid, "RssAnon")]

    def page_loop():
        while not done.is_set():
            t0 = time.perf_counter()
            status, _, _ = officer.request("GET", "/officer")
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                page_errors[0] += 1
            time.sleep(0.02)

    def sampler():
        while not done.is_set():
            sampled_peak[0] = max(sampled_peak[0], rss_kib(pid, "VmRSS"))
            anon_peak[0] = max(anon_peak[0], rss_kib(pid, "RssAnon"))
            time.sleep(0.01)

    results = [None] * n

    def apply(i):
        c, (body, ctype) = prepared[i]
        t0 = time.perf_counter()
        status, location, _ = c.request("POST", "/applications", body, ctype)
        results[i] = (status, time.perf_counter() - t0)

    helpers = [threading.Thread(target=page_loop), threading.Thread(target=sampler)]
    for t in helpers:
        t.start()
    time.sleep(0.5)
    t0 = time.time()
    appliers = [threading.Thread(target=apply, args=(i,)) for i in range(n)]
    for t in appliers:
        t.start()
    for t in appliers:
        t.join()
    elapsed = time.time() - t0
    time.sleep(0.5)
    done.set()
    for t in helpers:
        t.join()
    time.sleep(2)
    statuses = [r[0] for r in results]
    lat = sorted(latencies)

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p / 100))] if lat else float("nan")

    print(f"upload_statuses {' '.join(map(str, statuses))}")
    print(f"uploads_seconds {elapsed:.2f}")
    print(f"upload_peak_rss_kib {max(rss_kib(pid, 'VmHWM'), sampled_peak[0])}")
    print(f"upload_after_rss_kib {rss_kib(pid, 'VmRSS')}")
    print(f"upload_peak_anon_kib {anon_peak[0]}")
    print(f"upload_after_anon_kib {rss_kib(pid, 'RssAnon')}")
    print(f"page_requests {len(lat)} page_errors {page_errors[0]}")
    print(f"page_p50_ms {pct(50):.1f}")
    print(f"page_p99_ms {pct(99):.1f}")
    print(f"page_max_ms {lat[-1] if lat else float('nan'):.1f}")
    if any(s != 303 for s in statuses):
        sys.exit("some applications were not accepted")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "residents":
        residents(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "submissions":
        submissions(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    elif cmd == "uploads":
        uploads(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6])
    else:
        sys.exit(__doc__)
