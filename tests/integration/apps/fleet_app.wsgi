# The fleet test's application (tests/integration/fleet/): reads the whole
# request body, sleeps on /sleep/SECONDS, and answers which host (the
# listener's SERVER_ADDR) and process served the request.
import os
import time


def application(environ, start_response):
    length = int(environ.get('CONTENT_LENGTH') or 0)
    body = environ['wsgi.input'].read(length) if length else b''
    path = environ.get('PATH_INFO', '')
    if path.startswith('/sleep/'):
        time.sleep(float(path.split('/')[2]))
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('%s %d %d\n' % (environ.get('SERVER_ADDR', '?'), os.getpid(), len(body))).encode()]
