# A loopback stand-in for GitLab's jobs/artifacts API: serves one file per (ref, path, job), the
# way `GET /projects/:id/jobs/artifacts/:ref/raw/*path?job=NAME` does, and records every request.
import http.server
import secrets
import threading
import urllib.parse

PROJECT_ID = "1217"  # gitlab-ci-local's CI_PROJECT_ID


class FakeArtifactsApi:
    def __init__(self):
        self.token = "glcbt-" + secrets.token_hex(12)
        self.files = {}      # (ref, path, job) -> bytes
        self.requests = []   # (path, query dict, JOB-TOKEN header)
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                api.requests.append((url.path, query, self.headers.get("JOB-TOKEN")))
                prefix = f"/api/v4/projects/{PROJECT_ID}/jobs/artifacts/"
                if self.headers.get("JOB-TOKEN") != api.token:
                    return self._send(401, b'{"message":"401 Unauthorized"}')
                if not url.path.startswith(prefix) or "/raw/" not in url.path:
                    return self._send(404, b'{"message":"404 Not Found"}')
                ref, path = url.path[len(prefix):].split("/raw/", 1)
                body = api.files.get((urllib.parse.unquote(ref), urllib.parse.unquote(path), query.get("job")))
                if body is None:
                    return self._send(404, b'{"message":"404 Not found"}')
                self._send(200, body)

            def _send(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def server_url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve(self, ref, path, job, body):
        self.files[(ref, path, job)] = body

    def close(self):
        self.server.shutdown()
        self.server.server_close()
