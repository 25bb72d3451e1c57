# Defines no `application`: requests get 404 and a log line naming the script.
def app(environ, start_response):
    start_response('200 OK', [])
    return [b'unreachable']
