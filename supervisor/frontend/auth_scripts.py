# The Python half of mod_wsgi's authentication and access providers in the
# front end (supervisor/frontend/auth_scripts.h): WSGIAuthUserScript's
# check_password(), WSGIAuthGroupScript's groups_for_user() and
# WSGIAccessScript's allow_access(), with mod_wsgi's semantics
# (src/server/wsgi_auth.c): the script is loaded as a module named
# "_mod_wsgi_" + md5(path), and loaded again when its modification time
# changes (WSGIScriptReloading On, the default); what the function returns is
# checked as mod_wsgi checks it, and every failure is logged with mod_wsgi's
# words and the traceback.
#
# Embedded in wsgid-frontend at build time and exec'd once per interpreter with
# `_runtime` bound to the globals of that interpreter's WSGI runtime
# (worker/wsgi_runtime.py): its lock, its module naming, its script loader
# (exec_script, the one the WSGI scripts load with), its wsgi.errors and the `_c`
# module whose log() writes to the front end's error log.

import os, sys, traceback

_c = _runtime['_c']
_ERROR = _runtime['_ERROR']
_scripts = {}  # path -> (st_mtime_ns, module)


def _log(rid, message):
    _c.log(_ERROR, rid, message)


def _log_exception(rid, path):
    _log(rid, "Exception occurred processing WSGI script '%s'." % path)
    for line in traceback.format_exc().rstrip('\n').split('\n'):
        _log(rid, line)


def _load(path, reload):
    with _runtime['_lock']:
        entry = _scripts.get(path)
        if entry is not None and not reload:
            return entry[1]
        mtime = os.stat(path).st_mtime_ns
        if entry is not None and entry[0] == mtime:
            return entry[1]
        name = _runtime['module_name'](path)
        _scripts.pop(path, None)
        sys.modules.pop(name, None)
        module = _runtime['exec_script'](path, name)
        _scripts[path] = (mtime, module)
        return module


def _password_result(result, rid, path):
    if result is None:
        return ('none', None)
    if result is True:
        return ('true', None)
    if result is False:
        return ('false', None)
    if isinstance(result, str):
        if not result:
            _log(rid, "Basic auth provider returned empty user name string.")
            return ('error', None)
        return ('user', result)
    _log(rid, "Basic auth provider must return True, False, None or user name as string.")
    return ('error', None)


def _groups_result(result, rid, path):
    try:
        items = iter(result)
    except TypeError:
        _log(rid, "Result returned from 'groups_for_user' in '%s' is not iterable; expected an "
             "iterable sequence of byte strings." % path)
        return ('error', None)
    names = []
    for item in items:
        if isinstance(item, str):
            try:
                item = item.encode('latin-1')
            except UnicodeEncodeError:
                _log(rid, "Item returned from 'groups_for_user' in '%s' is a string containing "
                     "characters that cannot be encoded as latin-1; expected a byte string." % path)
                return ('error', None)
        if not isinstance(item, bytes):
            _log(rid, "Item returned from 'groups_for_user' in '%s' is not a byte string." % path)
            return ('error', None)
        names.append(item)
    return ('groups', names)


def _access_result(result, rid, path):
    if result is None:
        return ('none', None)
    if result is True:
        return ('true', None)
    if result is False:
        return ('false', None)
    _log(rid, "Result returned from 'allow_access' in '%s' must be a boolean or None." % path)
    return ('error', None)


_KINDS = {
    'check_password': (_password_result,
                       "Target WSGI user authentication script '%s' does not provide 'Basic' "
                       "auth provider."),
    'groups_for_user': (_groups_result,
                        "Target WSGI group authentication script '%s' does not provide "
                        "'groups_for_user' callable."),
    'allow_access': (_access_result,
                     "Target WSGI host access script '%s' does not provide 'allow_access' "
                     "callable."),
}


def call(kind, path, reload, group, environ, rid, args):
    """Calls `kind` of the script at path: ('true'|'false'|'none'|'user'|'groups'|'error', value)."""
    check, missing = _KINDS[kind]
    environ.pop('HTTP_AUTHORIZATION', None)
    environ.pop('REMOTE_USER', None)
    environ.pop('AUTH_TYPE', None)
    environ['mod_wsgi.process_group'] = ''
    environ['mod_wsgi.application_group'] = group
    errors = _runtime['Errors'](rid)
    environ['wsgi.errors'] = errors
    try:
        try:
            module = _load(path, reload)
        except BaseException:
            _log(rid, "Failed to exec Python script file '%s'." % path)
            _log_exception(rid, path)
            return ('error', None)
        function = module.__dict__.get(kind)
        if function is None:
            _log(rid, missing % path)
            return ('error', None)
        try:
            result = function(environ, *args)
        except BaseException:
            _log_exception(rid, path)
            return ('error', None)
        return check(result, rid, path)
    finally:
        errors.flush()
