# Takes long to import: for startup-timeout.
import time
time.sleep(30)


def application(environ, start_response):
    start_response('200 OK', [])
    return [b'loaded']
