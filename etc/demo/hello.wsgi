# The demo application: a plain WSGI callable, no framework.
import os
import sys


def application(environ, start_response):
    body = (
        "Hello from wsgid!\n"
        f"process group: {environ.get('mod_wsgi.process_group') or '(embedded)'}\n"
        f"pid: {os.getpid()}\n"
        f"python: {sys.version.split()[0]}\n"
        f"wsgi.multithread={environ['wsgi.multithread']} "
        f"wsgi.multiprocess={environ['wsgi.multiprocess']}\n"
    ).encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]
