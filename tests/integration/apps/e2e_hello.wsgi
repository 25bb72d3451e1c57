# The end-to-end suite's plain application (tests/integration/e2e/), wrapped
# in wsgiref.validate (a WSGIWarning is an error): answers, as JSON, who
# served the request (pid, process and application group), the WSGI flags
# and the request's paths; /echo answers the body's length and SHA-256.
import hashlib
import json
import os
import warnings
from wsgiref.validate import WSGIWarning, validator

warnings.simplefilter('error', WSGIWarning)


def app(environ, start_response):
    if environ['PATH_INFO'] == '/echo':
        # Sized reads only (wsgiref.validate refuses read() with no size);
        # with wsgi.input_terminated an empty read is the end of the body.
        data = b''
        while True:
            chunk = environ['wsgi.input'].read(65536)
            if not chunk:
                break
            data += chunk
        out = {'length': len(data), 'sha256': hashlib.sha256(data).hexdigest(),
               'content_length': environ.get('CONTENT_LENGTH', '')}
    else:
        out = {'pid': os.getpid(),
               'process_group': environ.get('mod_wsgi.process_group'),
               'application_group': environ.get('mod_wsgi.application_group'),
               'multithread': environ['wsgi.multithread'],
               'multiprocess': environ['wsgi.multiprocess'],
               'run_once': environ['wsgi.run_once'],
               'script_name': environ['SCRIPT_NAME'],
               'path_info': environ['PATH_INFO'],
               'script': os.path.basename(environ.get('SCRIPT_FILENAME', ''))}
    body = json.dumps(out, sort_keys=True).encode()
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]


application = validator(app)
