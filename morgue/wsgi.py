import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "morgue.settings")
application = get_wsgi_application()

# What loading left behind lives as long as the process: out of the collector's
# sight, a full collection during a request walks only what requests made
# (and, with gunicorn's --preload, the workers share those pages unwritten).
gc.collect()
gc.freeze()
