from celery import shared_task

from alerts.services import deliveries_sweep, delivery_attempt


@shared_task(bind=True, max_retries=None, acks_late=True)
def send_alert_delivery(self, delivery_id: int) -> None:
    """Send one alert; the service says how long to wait before trying again."""
    delay = delivery_attempt(delivery_id=delivery_id)
    if delay is not None:
        raise self.retry(countdown=delay)


@shared_task
def sweep_alert_deliveries() -> None:
    deliveries_sweep()
