# The `mod_wsgi` module an application imports, as mod_wsgi 4.9.4 defines it
# (src/server/wsgi_interp.c, wsgi_metrics.c; docs "user-guides/
# debugging-techniques" and "events"), plus sys.argv = ['mod_wsgi'] (mod_wsgi
# sets it in every interpreter so that code reading sys.argv[0] sees mod_wsgi).
#
# Embedded at build time like worker/wsgi_runtime.py and exec'd after it in the
# same namespace of every interpreter (worker/wsgi_runtime.cc), so it sees `_c`
# and FileWrapper, and the runtime's handle() sees publish(), request_began()
# and request_ended(). install_mod_wsgi() runs once per interpreter;
# process_stopping() runs once per interpreter when the worker stops
# gracefully (worker_main.cc), after its last request.
#
# What each name does in wsgid:
#   version                 (4, 9, 4): the mod_wsgi release whose module this copies
#   process_group           the daemon group's name; "" in embedded mode
#   application_group       the interpreter's application group; "" = %{GLOBAL}
#   maximum_processes       processes= of the group (1 in embedded mode: one front end)
#   threads_per_process     threads= of the group (ThreadsPerChild in embedded mode)
#   FileWrapper             wsgi.file_wrapper's class
#   subscribe_shutdown(f)   f('process_stopping', shutdown_reason=...) at a graceful stop
#   subscribe_events(f)     f(name, **event) for request_started, response_started,
#                           request_finished, request_exception and process_stopping;
#                           a dict returned is merged into the event, as in mod_wsgi
#   event_callbacks, shutdown_callbacks, active_requests   the lists and dict above
#   request_data()          a dict private to the current request (RuntimeError outside one)
#   process_metrics()       pid, times, memory, request counts of this process
#   server_metrics()        None: as mod_wsgi without WSGIServerMetrics On (wsgid has
#                           no Apache scoreboard)
#   request_metrics()       None: mod_wsgi's sampled request-time histograms are not kept

import os, resource, sys, threading, time

_module = None
_thread = threading.local()
_started = time.time()
_count = 0
_busy_time = 0.0


def install_mod_wsgi(process_group, application_group, processes, threads):
    global _module
    sys.argv = ['mod_wsgi']
    m = types.ModuleType('mod_wsgi')
    m.__doc__ = "wsgid's copy of mod_wsgi 4.9.4's module (see wsgid's README)"
    m.version = (4, 9, 4)
    m.process_group = process_group
    m.application_group = application_group
    m.maximum_processes = processes
    m.threads_per_process = threads
    m.FileWrapper = FileWrapper
    m.event_callbacks = []
    m.shutdown_callbacks = []
    m.active_requests = {}
    m.subscribe_events = lambda callback: m.event_callbacks.append(callback)
    m.subscribe_shutdown = lambda callback: m.shutdown_callbacks.append(callback)
    m.request_data = request_data
    m.process_metrics = process_metrics
    m.server_metrics = lambda: None
    m.request_metrics = lambda: None
    sys.modules['mod_wsgi'] = m
    _module = m


def _call(name, callbacks, event):
    for callback in list(callbacks):
        try:
            result = callback(name, **event)
        except BaseException:
            import traceback
            _c.log(_ERROR, 0, 'Exception occurred within event callback.')
            for line in traceback.format_exc().rstrip('\n').split('\n'):
                _c.log(_ERROR, 0, line)
            continue
        if isinstance(result, dict):
            event.update(result)


def publish(name, event):
    """Calls the event subscribers (and, for process_stopping, the shutdown ones)."""
    m = _module
    _call(name, m.event_callbacks, event)
    if name == 'process_stopping':
        _call(name, m.shutdown_callbacks, event)


def events_wanted():
    return bool(_module.event_callbacks)


def request_data():
    data = getattr(_thread, 'data', None)
    if data is None:
        raise RuntimeError('no active request for thread')
    return data


def request_began(rid, environ):
    """-> the request's start, time.time()."""
    t = _thread
    t.data = {}
    t.start = start = time.time()
    _module.active_requests[rid] = environ
    return start


def request_ended(rid):
    global _count, _busy_time
    _module.active_requests.pop(rid, None)
    with _lock:
        _count += 1
        _busy_time += time.time() - _thread.start
    _thread.data = None


def process_metrics():
    now = time.time()
    times = os.times()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    try:
        with open('/proc/self/statm') as f:
            rss = int(f.read().split()[1]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        rss = 0
    return {
        'pid': os.getpid(),
        'request_count': _count,
        'request_busy_time': _busy_time,
        'active_requests': len(_module.active_requests),
        'request_threads': _module.threads_per_process,
        'memory_max_rss': usage.ru_maxrss * 1024,
        'memory_rss': rss,
        'cpu_user_time': times.user,
        'cpu_system_time': times.system,
        'restart_time': _started,
        'current_time': now,
        'running_time': int(now - _started),
    }


# wsgid's reasons for stopping, in mod_wsgi's words where it has one. A stop
# of the whole server (the master's drain, TERM) is "" as in mod_wsgi, which
# names only the stops a daemon decides itself.
_REASONS = {
    'drained': '',
    'shutdown': '',
    'request-timeout': 'request_timeout',
    'startup-timeout': 'startup_timeout',
    'restart-interval': 'restart_interval',
    'inactivity-timeout': 'inactivity_timeout',
    'cpu-time-limit': 'cpu_time_limit',
    'signal USR1': 'graceful_signal',
}


def process_stopping(reason):
    publish('process_stopping', {'shutdown_reason': _REASONS.get(reason, reason)})
