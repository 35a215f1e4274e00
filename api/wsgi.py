"""The WSGI entry point gunicorn serves: `gunicorn api.wsgi:app`."""
import gc

from api.app import create_app

app = create_app()

# What is loaded by now (modules, SQLAlchemy/marshmallow/SpiffWorkflow metadata: ~100k objects)
# lives as long as the worker. Moving it out of the cyclic collector's view makes a full
# collection scan only what requests created: in a gunicorn worker full collections took
# 60-90 ms and were the bench's p99 latency (issue 6); frozen, they take ~10-20 ms.
gc.freeze()
