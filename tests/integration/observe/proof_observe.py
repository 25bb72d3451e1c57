"""tools/proof's observability step (issue 14; not a CI test): the real wsgid
with two groups under a little traffic (one request held running, one
queued), then
  1. the status page in Debian's headless Chromium at 1280 and 390 px wide,
     screenshots kept as status-1280.png and status-390.png (a window of
     1280x900 and 844 px high: what a screen shows), status-390-full.png (390
     px, 2400 high: the whole page on a phone) and the page as status.html in
     the output directory;
  2. a real Prometheus server (Debian's prometheus) scraping /metrics from a
     generated prometheus.yml, data in a temp dir, listening on loopback,
     answering queries through its HTTP API (/api/v1/query); the answers go
     to prometheus-query.json.
Prints one JSON line with what it found; exit 0 when both worked, 1 when one
did not, 77 when chromium or prometheus is missing.

Usage: PYTHONPATH=tests/integration WSGID_BUILD_DIR=BUILD \\
       /usr/bin/python3 tests/integration/observe/proof_observe.py OUTDIR
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

from wsgidtest.daemon import Daemon
from wsgidtest.procs import free_port
from wsgidtest.wait import wait_for

APP = r"""
import time
def application(environ, start_response):
    if environ.get('SCRIPT_NAME') == '/slow':
        time.sleep(float(environ.get('QUERY_STRING') or '1'))
    body = b'hello'
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
"""

BODY = """
ServerName proof.example
WSGIDaemonProcess shop processes=3 threads=4 display-name=(wsgi:shop)
WSGIDaemonProcess reports processes=1 threads=1
WSGIScriptAlias /shop {dir}/app.wsgi process-group=shop application-group=%{{GLOBAL}}
WSGIScriptAlias /slow {dir}/app.wsgi process-group=reports application-group=%{{GLOBAL}}
<Location /metrics>
  SetHandler wsgid-metrics
  Require local
</Location>
<Location /server-status>
  SetHandler server-status
  Require local
</Location>
"""

CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync', '--no-first-run',
                  '--hide-scrollbars']


def screenshot(chromium, url, path, width, height, profile):
    cmd = [chromium] + CHROMIUM_FLAGS + ['--user-data-dir=' + profile,
                                         '--window-size=%d,%d' % (width, height),
                                         '--screenshot=' + path, url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return r.returncode == 0 and os.path.getsize(path) > 0, r.stderr[-500:]


def prometheus_query(port, query):
    url = 'http://127.0.0.1:%d/api/v1/query?%s' % (port, urllib.parse.urlencode({'query': query}))
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read().decode())


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else 'observe-proof')
    os.makedirs(out, exist_ok=True)
    chromium, prometheus = shutil.which('chromium'), shutil.which('prometheus')
    if not chromium or not prometheus:
        print(json.dumps({'skipped': 'chromium or prometheus is not installed'}))
        return 77
    result = {'screenshots': [], 'prometheus': None, 'problems': []}
    d = Daemon(body=BODY, prefix='wsgid-observe-proof-')
    tmp = tempfile.mkdtemp(prefix='wsgid-observe-proof-')
    prom = None
    threads = []
    try:
        d.write('app.wsgi', APP)
        d.chmod_tree()
        d.start()
        for i in range(40):
            d.request('GET', '/shop/item/%d' % i)
        d.request('GET', '/shop/missing<&>"quoted"')
        # One request running in the one-thread group and one queued behind it.
        # The running one has a long URL: the page must wrap it, not scroll.
        for path in ('/slow/report/2026/' + 'quarterly-' * 12 + '?20', '/slow/report?0'):
            t = threading.Thread(target=d.request, args=('GET', path), daemon=True)
            t.start()
            threads.append(t)
            time.sleep(0.5)
        os.kill(d.pids('shop')[0], signal.SIGKILL)  # a restart with its cause
        wait_for(lambda: d.all_running('shop', n=3), timeout=30, what='shop whole again')
        url = 'http://127.0.0.1:%d/server-status?refresh=30' % d.port()
        _, _, page = d.request('GET', '/server-status')
        with open(os.path.join(out, 'status.html'), 'wb') as f:
            f.write(page)
        for w, h, name in ((1280, 900, 'status-1280.png'), (390, 844, 'status-390.png'),
                           (390, 2400, 'status-390-full.png')):
            path = os.path.join(out, name)
            ok, err = screenshot(chromium, url, path, w, h, os.path.join(tmp, 'chromium-' + name))
            if ok:
                result['screenshots'].append(path)
            else:
                result['problems'].append('chromium at %d px: %s' % (w, err))

        # A real Prometheus scraping wsgid.
        prom_port = free_port()
        conf = os.path.join(tmp, 'prometheus.yml')
        with open(conf, 'w') as f:
            f.write('global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
                    'scrape_configs:\n  - job_name: wsgid\n    metrics_path: /metrics\n'
                    '    static_configs:\n      - targets: ["127.0.0.1:%d"]\n' % d.port())
        log = open(os.path.join(out, 'prometheus.log'), 'wb')
        prom = subprocess.Popen([prometheus, '--config.file=' + conf,
                                 '--storage.tsdb.path=' + os.path.join(tmp, 'tsdb'),
                                 '--web.listen-address=127.0.0.1:%d' % prom_port],
                                stdout=log, stderr=subprocess.STDOUT, cwd=tmp)

        def scraped():
            r = prometheus_query(prom_port, 'up{job="wsgid"}')
            return r['data']['result'] and r['data']['result'][0]['value'][1] == '1' and \
                prometheus_query(prom_port, 'wsgid_build_info')['data']['result']
        wait_for(scraped, timeout=60, what='Prometheus to scrape wsgid')
        answers = {}
        for q in ('up{job="wsgid"}', 'wsgid_build_info',
                  'sum by (group) (wsgid_group_requests_total)',
                  'wsgid_group_queue_depth', 'wsgid_group_threads_busy',
                  'wsgid_group_restarts_total', 'wsgid_process_resident_memory_bytes'):
            answers[q] = prometheus_query(prom_port, q)['data']['result']
        with open(os.path.join(out, 'prometheus-query.json'), 'w') as f:
            json.dump(answers, f, indent=1)
        shop = [r for r in answers['sum by (group) (wsgid_group_requests_total)']
                if r['metric'].get('group') == 'shop']
        result['prometheus'] = {'shop_requests': shop[0]['value'][1] if shop else None,
                                'restarts': [(r['metric'], r['value'][1])
                                             for r in answers['wsgid_group_restarts_total']]}
        if not shop or float(shop[0]['value'][1]) < 41:
            result['problems'].append('Prometheus did not see the 41 requests of group shop: %r' % shop)
    except Exception as e:  # the proof reports, it does not crash
        result['problems'].append('%s: %s' % (type(e).__name__, e))
    finally:
        if prom:
            prom.send_signal(signal.SIGTERM)
            try:
                prom.wait(20)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
        d.cleanup(keep=False)
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result))
    return 1 if result['problems'] else 0


if __name__ == '__main__':
    sys.exit(main())
