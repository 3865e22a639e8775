# SPDX-License-Identifier: Apache-2.0
"""HTTP-side helpers for Python integration tests, on top of sluicetest:
a store that is ready when its HTTP API answers (so HTTP tests do not depend
on the Kafka listener), and small request helpers.

    from sluicetest import Env
    import httptest
    with Env() as env:
        st = httptest.start_store(env, "-c", conf)
        status, body = httptest.request(st, "GET", "/health")
"""
import http.client
import json
import os
import subprocess
import time
import urllib.request

import sluicetest


class HttpStore(sluicetest.Store):
    def start(self, timeout=30):
        os.makedirs(self.data_dir, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(sluicetest.BIN, "sluice-store"), "--data-dir", self.data_dir,
             "--kafka-listen", self.bootstrap, "--http-listen", "127.0.0.1:%d" % self.http_port]
            + self.args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("store exited with %s:\n%s" % (self.proc.returncode, self.log()[-3000:]))
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    r.read()
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("store HTTP API not up after %ds" % timeout)

    def kafka_listening(self):
        try:
            with __import__("socket").create_connection(("127.0.0.1", self.kafka_port), timeout=0.5):
                return True
        except OSError:
            return False


def start_store(env, *args, data_dir=None):
    st = HttpStore(env, data_dir or os.path.join(env.dir, "store%d" % len(env.stores)), args)
    env.stores.append(st)
    return st.start()


def request(store, method, path, body=None, headers=None, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", store.http_port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def get_json(store, path):
    status, body = request(store, "GET", path)
    if status != 200:
        raise AssertionError("GET %s: %d %s" % (path, status, body[:300]))
    return json.loads(body)
