"""Periodic work on Letters of Understanding (Celery beat)."""

from celery import shared_task

from letters_of_understanding import services


@shared_task(acks_late=True)
def lou_terminations_take_effect_task() -> list[int]:
    """Daily: letters whose 90-day notice period (MOU §45) is over become terminated. Idempotent."""
    return services.lou_terminations_take_effect()
