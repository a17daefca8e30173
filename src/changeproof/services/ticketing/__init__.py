"""Export a change request (RFC) to ServiceNow or Jira, once, whatever fails on the way.

    export_change(rfc, config, remote)  -> RemoteTicket
        remote given    update that record (PATCH / PUT); NotFoundError if it is gone
        remote None     search for the record a previous export made (ServiceNow:
                        correlation_display + correlation_id; Jira: the change's label in
                        the project); update it if found, create it if not

Retries. Connect errors, timeouts, a connection closed before the answer, 429 and 5xx are
retried up to `max_attempts` times in all, after 1 s, 2 s, 4 s ... (at most 8 s) or after
the Retry-After the remote sends with them (seconds or an HTTP date; at most
`retry_after_cap_seconds`).
Other 4xx are not retried. A create is never simply sent again: when its answer did not
arrive, the record may exist, so each new attempt searches first, and updates what it finds.
Jira Cloud's search is eventually consistent (a just-created issue can be missing from it for
a few seconds), so there a retry shortly after a lost answer can still make a second issue;
ServiceNow's Table API reads what it wrote.

Errors (changeproof.domain.errors) name the system, the method and URL, the status and the
remote's own message; never the token:

    ConfigError       401, 403, 404 on create or search, a redirect: the configuration is wrong
    NotFoundError     404 on update: the remembered record is gone
    ConflictError     409; or two records carry this change's correlation id / label
    InputError        400 and other 4xx: the remote refused a field
    UnavailableError  still failing after the retries; or an answer that is not what the API
                      documents (not JSON, no sys_id or key)

`sleep` is injected (tests never sleep), and so is `transport` (httpx.MockTransport, or None
for the network).
"""

from changeproof.services.ticketing.config import (
    JiraDeployment,
    RemoteTicket,
    TicketingConfig,
    TicketingSystem,
    load_ticketing_config,
)
from changeproof.services.ticketing.export import export_change

__all__ = [
    "JiraDeployment",
    "RemoteTicket",
    "TicketingConfig",
    "TicketingSystem",
    "export_change",
    "load_ticketing_config",
]
