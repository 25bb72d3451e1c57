"""graphite-web 1.1.8 as Debian 12 packages it, served by Apache + mod_wsgi and by
wsgid from the very same files, compared request by request (issue 12).

The site is the package's own /usr/share/graphite-web/apache2-graphite.conf,
included unmodified (debian_site.py: in a network namespace of our own, so its
`<VirtualHost *:80>` is reachable): a daemon group `_graphite` of 5 processes x
5 threads running as the package's user, its WSGIImportScript, `WSGIScriptAlias
/` to the package's graphite.wsgi, `Alias /static/` to the package's files,
its ErrorLog and `combined` CustomLog under ${APACHE_LOG_DIR}.

What must change for a test, and only that: where graphite keeps its data. Its
WSGI script imports the settings module that $GRAPHITE_SETTINGS_MODULE names;
both servers start with it naming a module of the temp dir (on $PYTHONPATH)
that runs the package's /etc/graphite/local_settings.py and then moves
STORAGE_DIR, WHISPER_DIR, the search index, LOG_DIR and the sqlite database
into the temp dir. The database is made once as README.Debian says (`django-admin
migrate --run-syncdb`) and each server starts from a fresh copy of it; one
whisper file holds known points, read back through /render with a fixed time
window.

Each request of REQUESTS goes to both, on a new connection. Compared: the
status, every response header but those named in IGNORED (each with why), and
the body, after normalise() removes what differs from one run to the next
(CSRF tokens). Then the access logs, line by line.

Needs root (the namespace, the package's user): skipped (77) otherwise.
Run by hand: WSGID_BUILD_DIR=BUILD /usr/bin/python3 tests/integration/e2e/test_debian_graphite.py
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

import debian_site
from debian_site import Site, request

PACKAGED_VHOST = '/usr/share/graphite-web/apache2-graphite.conf'
PACKAGED_SETTINGS = '/etc/graphite/local_settings.py'

# The temp dir's settings module: the package's local settings, then the paths.
SETTINGS = '''import os
_package = %r
exec(compile(open(_package).read(), _package, 'exec'))
STORAGE_DIR = %r
WHISPER_DIR = os.path.join(STORAGE_DIR, 'whisper')
INDEX_FILE = os.path.join(STORAGE_DIR, 'search_index')
LOG_DIR = os.path.join(STORAGE_DIR, 'log')
DATABASES['default']['NAME'] = os.path.join(STORAGE_DIR, 'graphite.db')
SECRET_KEY = 'wsgid-e2e-test'
'''

# Response headers not compared, each with why: they tell about Apache's
# environment, not about what the site answers.
IGNORED = {
    'date': 'the time of the request',
    'server': "Apache's product tokens (ServerTokens); wsgid sends no Server header",
    'keep-alive': "Apache's KeepAlive parameters: connection management, not content",
    'connection': 'connection management, not content',
}

NOW = int(time.time()) // 60 * 60
FROM, UNTIL = NOW - 30 * 60, NOW - 60   # the render window: the points written below
POINTS = [(NOW - 60 * i, float(i % 7)) for i in range(1, 30)]
WINDOW = 'from=%d&until=%d' % (FROM, UNTIL)
COMPOSER_JS = '/usr/share/graphite-web/static/js/composer.js'
READY_PROBE = '/version?ready-probe'  # asked until a server answers; not compared


def static_etag(path):
    """Apache's default ETag (FileETag MTime Size): "<size hex>-<mtime usec hex>"."""
    st = os.stat(path)
    return '"%x-%x"' % (st.st_size, st.st_mtime_ns // 1000)


def last_modified(path):
    return time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime(os.stat(path).st_mtime))


FORM = ('target=e2e.requests&format=json&' + WINDOW).encode()
FORM_HEADERS = {'Content-Type': 'application/x-www-form-urlencoded'}

# (what, method, path, request headers, body, chunked)
REQUESTS = [
    ('the browser frameset', 'GET', '/', {}, None, False),
    ('HEAD of it', 'HEAD', '/', {}, None, False),
    ('the composer', 'GET', '/composer', {}, None, False),
    ('the browser header', 'GET', '/browser/header', {}, None, False),
    ('the dashboard', 'GET', '/dashboard/', {}, None, False),
    ('version', 'GET', '/version', {}, None, False),
    ('render json', 'GET', '/render?target=e2e.requests&format=json&' + WINDOW, {}, None, False),
    ('render csv of a function', 'GET',
     '/render?target=sumSeries(e2e.*)&format=csv&' + WINDOW, {}, None, False),
    ('render png', 'GET',
     '/render?target=e2e.requests&width=300&height=150&' + WINDOW, {}, None, False),
    ('render raw, encoded target', 'GET',
     '/render/?target=scale(e2e.requests%2C2)&format=raw&' + WINDOW, {}, None, False),
    ('render POST with a form body', 'POST', '/render', FORM_HEADERS, FORM, False),
    ('render POST chunked (WSGIChunkedRequest Off: 411)', 'POST', '/render', FORM_HEADERS,
     FORM, True),
    ('metrics find', 'GET', '/metrics/find?query=*', {}, None, False),
    ('metrics find treejson', 'GET', '/metrics/find?query=e2e.*&format=treejson', {}, None,
     False),
    ('metrics expand', 'GET', '/metrics/expand?query=e2e.*', {}, None, False),
    ('events', 'GET', '/events/get_data', {}, None, False),
    ('functions', 'GET', '/functions/sumSeries', {}, None, False),
    ('a short link made', 'GET', '/s/render?target=e2e.requests', {}, None, False),
    ('the short link followed (redirect)', 'GET', '/S/1', {}, None, False),
    ('admin: redirect to login', 'GET', '/admin/', {}, None, False),
    ('admin login page (CSRF cookie)', 'GET', '/admin/login/?next=/admin/', {}, None, False),
    ('account login page', 'GET', '/account/login', {}, None, False),
    ('app 404', 'GET', '/no/such/page', {}, None, False),
    ('static file', 'GET', '/static/js/composer.js', {}, None, False),
    ('static HEAD', 'HEAD', '/static/js/composer.js', {}, None, False),
    ('static image', 'GET', '/static/img/graphite.png', {}, None, False),
    ('static css', 'GET', '/static/css/default.css', {}, None, False),
    ('static If-None-Match', 'GET', '/static/js/composer.js',
     {'If-None-Match': static_etag(COMPOSER_JS)}, None, False),
    ('static If-Modified-Since', 'GET', '/static/js/composer.js',
     {'If-Modified-Since': last_modified(COMPOSER_JS)}, None, False),
    ('static one range', 'GET', '/static/js/composer.js', {'Range': 'bytes=0-99'}, None,
     False),
    ('static two ranges (multipart)', 'GET', '/static/js/composer.js',
     {'Range': 'bytes=0-9,20-29'}, None, False),
    ('static ranges merged, one reversed', 'GET', '/static/js/composer.js',
     {'Range': 'bytes=20-29,0-9,5-24'}, None, False),
    ('static range past the end', 'GET', '/static/js/composer.js',
     {'Range': 'bytes=999999-'}, None, False),
    ('static directory without slash', 'GET', '/static/js', {}, None, False),
    ('static directory (no index, no listing)', 'GET', '/static/js/', {}, None, False),
    ('static missing file', 'GET', '/static/js/no-such.js', {}, None, False),
    ('static dot-dot', 'GET', '/static/../graphite.wsgi', {}, None, False),
    ('the WSGI script is never sent', 'GET', '/graphite.wsgi', {}, None, False),
]

CSRF = [
    (re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"'),
     b'name="csrfmiddlewaretoken" value="TOKEN"'),
]


def normalise(body, resp=None):
    """Removes what differs from one request to the next whoever serves it:
    Django's per-request CSRF form tokens, and a multipart/byteranges boundary
    (random, drawn once per server start by both)."""
    for rx, repl in CSRF:
        body = rx.sub(repl, body)
    b = boundary(resp) if resp else None
    if b:
        body = body.replace(b.encode(), b'BOUNDARY')
    return body


def boundary(resp):
    m = re.match(r'multipart/byteranges; boundary=(\S+)$', resp.header('content-type') or '')
    return m.group(1) if m else None


# Differences wsgid keeps on purpose, each with why: (request header
# predicate, response header) -> normalised away on both sides.
DELIBERATE = {
    'content-range on 416': "wsgid adds RFC 9110 15.5.17's Content-Range: bytes */SIZE "
                            "to its 416; Apache's error page drops it (docs/decisions.md)",
}


def header_view(resp):
    """The headers compared: (name, value) sorted, IGNORED left out; a
    Set-Cookie's random csrftoken value and the Expires time (as its distance
    from Date, which either server may take a second later than the app) made
    comparable; the body's framing (Content-Length or chunked: the body bytes are
    compared instead) left out but for HEAD and bodiless answers."""
    out = []
    date = resp.header('date')
    for n, v in resp.headers:
        if n in IGNORED:
            continue
        if n == 'set-cookie':
            v = re.sub(r'csrftoken=[^;]+', 'csrftoken=TOKEN', v)
            v = re.sub(r'expires=[^;]+', 'expires=T', v)
        if n == 'expires' and date:
            # Seconds from Date to the nearest ten: the app's clock read and the
            # server's Date fall a second or two apart under load, on either
            # side of a second (0 or -1, 60 or 61; a bucket like d // 5 would
            # split -1 from 0).
            d = http_time(v) - http_time(date)
            v = 'Date + %d s' % (round(d / 10) * 10)
        if n == 'transfer-encoding' or (n == 'content-length' and resp.body):
            continue
        if n == 'content-type' and boundary(resp):
            v = v.replace(boundary(resp), 'BOUNDARY')
        if n == 'content-range' and resp.status == 416:
            continue  # DELIBERATE['content-range on 416']
        out.append((n, v))
    return sorted(out)


def http_time(text):
    import email.utils
    return int(email.utils.parsedate_to_datetime(text).timestamp())


def make_site():
    site = Site(PACKAGED_VHOST, 'wsgid-graphite-')
    storage = site.path('storage')
    os.makedirs(os.path.join(storage, 'whisper', 'e2e'))
    os.makedirs(os.path.join(storage, 'log'))
    site.write('py/wsgid_e2e_graphite_settings.py', SETTINGS % (PACKAGED_SETTINGS, storage))
    site.env = {'PYTHONPATH': site.path('py'),
                'GRAPHITE_SETTINGS_MODULE': 'wsgid_e2e_graphite_settings'}
    # README.Debian: create the database with django-admin migrate --run-syncdb.
    r = subprocess.run(['/usr/bin/django-admin', 'migrate', '--run-syncdb',
                        '--settings', 'graphite.settings'],
                       env=site.environ(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, 'django-admin migrate:\n' + r.stdout + r.stderr
    shutil.move(os.path.join(storage, 'graphite.db'), site.path('graphite.db.made'))
    import whisper  # python3-whisper, a dependency of graphite-web
    wsp = os.path.join(storage, 'whisper', 'e2e', 'requests.wsp')
    whisper.create(wsp, [(60, 1440)])
    whisper.update_many(wsp, POINTS)
    return site


def fresh_database(site):
    db = site.path('storage', 'graphite.db')
    shutil.copyfile(site.path('graphite.db.made'), db)
    subprocess.run(['chown', '-R', '_graphite:_graphite', site.path('storage')], check=True)
    subprocess.run(['chmod', '-R', 'a+rX', site.dir], check=True)


def serve(site, server):
    """Starts `server` on a fresh database, sends REQUESTS -> [Response], the
    access log lines and the server's problem lines."""
    fresh_database(site)
    t = time.time()
    server.start(READY_PROBE)
    print('%s serving after %s' % (server.name, debian_site.elapsed(t)), flush=True)
    try:
        out = [request(m, p, headers=h, body=b, chunked=c) for _, m, p, h, b, c in REQUESTS]
    finally:
        server.stop()
    log = site.path('logs', 'graphite-web_access.log')
    with open(log) as f:
        lines = [l for l in f.read().splitlines() if READY_PROBE not in l]
    os.rename(log, log + '.' + server.name)
    return out, lines, server.problems()


def access_view(line):
    """An access log line without its time (%t) and response size (%O: it
    counts the header bytes, Date and Server among them)."""
    m = re.match(r'^(\S+ \S+ \S+) \[[^]]+\] ("(?:[^"\\]|\\.)*") (\d+) (\S+) (.*)$', line)
    assert m, 'not a combined log line: %r' % line
    return '%s [T] %s %s - %s' % (m.group(1), m.group(2), m.group(3), m.group(5))


def compare(apache, wsgid):
    diffs = []
    for (what, m, p, *_), a, w in zip(REQUESTS, apache, wsgid):
        name = '%s (%s %s)' % (what, m, p)
        if a.status != w.status:
            diffs.append('%s: status %d under Apache, %d under wsgid' % (name, a.status, w.status))
            continue
        ah, wh = header_view(a), header_view(w)
        if ah != wh:
            diffs.append('%s: headers differ\n  Apache: %s\n  wsgid:  %s'
                         % (name, sorted(set(ah) - set(wh)), sorted(set(wh) - set(ah))))
        ab, wb = normalise(a.body, a), normalise(w.body, w)
        if ab != wb:
            diffs.append('%s: bodies differ (%d and %d bytes)\n  Apache: %r\n  wsgid:  %r'
                         % (name, len(ab), len(wb), ab[:300], wb[:300]))
    return diffs


def main():
    if os.geteuid() != 0:
        print('SKIP: needs root (a network namespace; the package runs as _graphite)')
        return 77
    for f in (debian_site.APACHE, os.path.join(debian_site.MODULES, 'mod_wsgi.so'),
              PACKAGED_VHOST, PACKAGED_SETTINGS):
        assert os.path.exists(f), '%s is missing: tools/dev installs apache2, ' \
            'libapache2-mod-wsgi-py3 and graphite-web' % f
    debian_site.enter_private_network()
    start = time.time()
    site = make_site()
    try:
        a_resp, a_log, _ = serve(site, site.apache())
        w_resp, w_log, problems = serve(site, site.wsgid())
        diffs = compare(a_resp, w_resp)
        # Sanity: the site really served (a comparison of two failures proves nothing).
        by_what = {r[0]: (a, w) for r, a, w in zip(REQUESTS, a_resp, w_resp)}
        for what in ('the browser frameset', 'render json', 'static file', 'metrics find'):
            a = by_what[what][0]
            if a.status != 200:
                diffs.append('%s: Apache answered %d, the site is not set up' % (what, a.status))
        render = by_what['render json'][0].body
        try:
            served = {(v, t) for v, t in json.loads(render)[0]['datapoints']}
        except (ValueError, LookupError, TypeError):
            served = set()
        written = {(v, t) for t, v in POINTS if FROM < t <= UNTIL}
        if not written <= served:
            diffs.append('render json: Apache did not return the points written: %r' % render[:200])
        # Sorted: Apache logs a request when its handler thread is done, which
        # may be after the client has read the answer and sent the next one.
        a_view, w_view = sorted(map(access_view, a_log)), sorted(map(access_view, w_log))
        if len(a_view) != len(REQUESTS):
            diffs.append('access log: %d lines under Apache for %d requests'
                         % (len(a_view), len(REQUESTS)))
        for line in sorted(set(a_view) ^ set(w_view)):
            diffs.append('access log line only under %s: %s'
                         % ('Apache' if line in a_view else 'wsgid', line))
        diffs += ['wsgid log: ' + p for p in problems]
        print('%d requests compared in %s' % (len(REQUESTS), debian_site.elapsed(start)))
        if diffs:
            site.failed = True
            print('\n'.join(['FAIL: %d differences' % len(diffs)] + diffs))
            return 1
        print('1 passed, 0 failed')
        return 0
    finally:
        site.cleanup()


if __name__ == '__main__':
    sys.exit(main())
