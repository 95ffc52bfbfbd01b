"""Connector calls run by the task worker (retried with backoff by re-enqueueing)."""

from django.tasks import task


@task(queue_name="default")
def perform_call(call_id: int) -> str:
    from .services import perform

    return perform(call_id)
