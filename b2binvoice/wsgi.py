"""WSGI entry point (``gunicorn b2binvoice.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "b2binvoice.settings")
application = get_wsgi_application()
