#!/usr/bin/env python3
# Bytes a fresh device downloads on protocol 2 (manifests + content, gzip accepted, headers
# counted), against the gzip -6 size of the same documents; run by scripts/bench-bytes.
# Usage: bytes_on_the_wire.py PORT [WINDOW]
import gzip, http.client, json, sys
port = int(sys.argv[1]); window = sys.argv[2] if len(sys.argv) > 2 else None
conn = http.client.HTTPConnection("127.0.0.1", port)
def get(path, token=None, body=None, method="GET"):
    headers = {"Accept-Encoding": "gzip", "BriefSync-Protocol": "2"}
    if token: headers["Authorization"] = "Bearer " + token
    if body is not None: headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse(); raw = r.read()
    head = len(f"HTTP/1.1 {r.status} {r.reason}\r\n") + sum(len(k) + len(v) + 4 for k, v in r.getheaders()) + 2
    data = gzip.decompress(raw) if r.getheader("Content-Encoding") == "gzip" else raw
    return r.status, head + len(raw), data
_, _, s = get("/v1/sessions", body=json.dumps({"username": "bench", "password": "bench-password", "deviceId": "meter"}), method="POST")
token = json.loads(s)["token"]
since = None; wire = {"manifest": 0, "content": 0}; docs = []
first = True
while True:
    q = f"/v1/changes?limit={20 if first else 200}" + (f"&since={since}" if since else "") + (f"&window={window}" if window and not since else "")
    first = False
    st, n, body = get(q, token); page = json.loads(body); wire["manifest"] += n
    for ref in page["briefs"]:
        if ref.get("digest"):
            st, n, doc = get("/v1/content/" + ref["digest"], token); wire["content"] += n; docs.append(doc)
    since = page["nextToken"]
    if not page["hasMore"]: break
ref = sum(len(gzip.compress(d, 6)) for d in docs)
total = wire["manifest"] + wire["content"]
print(f"{len(docs)} briefs: manifests {wire['manifest']} B, content {wire['content']} B, total {total} B; "
      f"gzip -6 of the documents {ref} B; ratio {total / ref:.3f}")
label = f"a {window}.. window" if window else "every brief"
print(f"| 8. bytes a fresh device downloads, {label} ({len(docs)} briefs) | SQLite | {total} "
      f"| gzip -6 of the same documents: {ref} | {total / ref:.2f} |")
