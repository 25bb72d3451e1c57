# The rewrite tests' application (tests/integration/e2e/test_rewrite.py),
# wrapped in wsgiref.validate: logs each request it runs on stderr (so that a
# test can show a forbidden path never reached it) and answers, as JSON, the
# request's path and the forwarded-proto header a RequestHeader rule sets.
import json
import sys
import warnings
from wsgiref.validate import WSGIWarning, validator

warnings.simplefilter('error', WSGIWarning)


def app(environ, start_response):
    path = environ['SCRIPT_NAME'] + environ['PATH_INFO']
    print('rewrite_app ran for %s' % path, file=sys.stderr, flush=True)
    out = {'path': path,
           'query': environ.get('QUERY_STRING', ''),
           'x_forwarded_proto': environ.get('HTTP_X_FORWARDED_PROTO')}
    body = json.dumps(out, sort_keys=True).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]


application = validator(app)
