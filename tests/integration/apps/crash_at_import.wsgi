# Kills its process at import, after 0.3 s (as an app that fails late in a
# heavy import would): a group that preloads it (WSGIImportScript) never
# reaches READY and crash-loops, each attempt STARTING for ~0.3 s
# (tests/integration/faults/).
import os
import time

time.sleep(0.3)
os._exit(3)
