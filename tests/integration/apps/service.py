# A WSGIImportScript for threads=0 service mode: writes a marker, runs for the
# time named in the marker file's sibling "service.seconds", then returns.
import os
import time

here = os.path.dirname(__file__)
with open(os.path.join(here, 'service.seconds')) as f:
    seconds = float(f.read())
with open(os.path.join(here, 'service.started'), 'w') as f:
    f.write(str(os.getpid()))
end = time.time() + seconds
while time.time() < end:
    time.sleep(0.05)
