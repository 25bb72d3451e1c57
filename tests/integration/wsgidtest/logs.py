"""The lines that must never appear in a wsgid, worker or front-end log."""

# [alert]: a broken invariant (the daemon's "this is a bug" level); sanitizer
# reports; wsgiref.validate's assertions and warnings (the end-to-end apps run
# under it); CPython's "Exception ignored" (an iterable's close() or a
# finaliser that raised).
LOG_PROBLEMS = ('[alert]', 'AddressSanitizer', 'LeakSanitizer', 'runtime error:',
                'AssertionError', 'WSGIWarning', 'Exception ignored')


def log_problems(text, allowed=()):
    """The lines of text that hold any of LOG_PROBLEMS, but none of `allowed`
    (the lines a test provokes on purpose, such as the traceback of an app
    that breaks a PEP 3333 rule)."""
    return [line for line in text.splitlines()
            if any(p in line for p in LOG_PROBLEMS) and not any(a in line for a in allowed)]
