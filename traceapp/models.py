"""Imports every domain's models so that ``Base.metadata`` knows all tables (for Alembic)."""

from traceapp.certificates import models as certificates_models  # noqa: F401
from traceapp.epcis import models as epcis_models  # noqa: F401
from traceapp.events import models as events_models  # noqa: F401
from traceapp.jobs import models as jobs_models  # noqa: F401
from traceapp.notify import models as notify_models  # noqa: F401
from traceapp.orgs import models as orgs_models  # noqa: F401
from traceapp.public import models as public_models  # noqa: F401
from traceapp.purchases import models as purchases_models  # noqa: F401
from traceapp.recalls import models as recalls_models  # noqa: F401
