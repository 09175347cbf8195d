"""Letters of Understanding for tests, drafted and moved through the services."""

import datetime as dt

from django.utils import timezone

from letters_of_understanding import services
from letters_of_understanding.choices import ActivityKind, Agency


def draft(w, actor=None, *, complete=True, **fields):
    """A draft LoU between UNHCR-AF-KBL and IOM-AF-KBL; `complete` fills the four contents of MOU §5."""
    actor = actor or w.iom_af_staff
    unhcr_office = fields.pop("unhcr_office", w.unhcr_af)
    today = timezone.localdate()
    values = {
        "title": "Joint return programme, Afghanistan",
        "operational_situation": "Returns from neighbouring countries",
        "countries": ["AF"],
        "start_date": today,
        "end_date": today + dt.timedelta(days=365),
    }
    values.update(fields)
    if complete:
        values.setdefault("institutional_framework", "Joint steering committee in Kabul")
        values.setdefault("linkages", "IOM transport follows UNHCR's voluntariness interviews")
    lou = services.lou_create(actor=actor, unhcr_office=unhcr_office, iom_office=w.iom_af, **values)
    if complete:
        services.lou_row_add(
            actor=actor,
            lou=lou,
            collection="activities",
            kind=ActivityKind.VOLUNTARY_REPATRIATION,
            agency=Agency.UNHCR,
            description="Protection monitoring and voluntariness interviews",
        )
        services.lou_row_add(
            actor=actor,
            lou=lou,
            collection="activities",
            kind=ActivityKind.REINTEGRATION,
            agency=Agency.IOM,
            description="Transport and reception",
            indicators="Number of people transported",
        )
        services.lou_row_add(
            actor=actor, lou=lou, collection="funding", agency=Agency.IOM, source="ECHO", amount=100000, currency="EUR"
        )
    lou.refresh_from_db()
    return lou


def in_force(w, **fields):
    """A complete LoU signed by both office managers (in force from the second signature, MOU §44 by analogy)."""
    lou = draft(w, **fields)
    lou = services.lou_sign(actor=w.unhcr_af_manager, lou=lou, signatory_name="UNHCR Representative")
    return services.lou_sign(actor=w.iom_af_manager, lou=lou, signatory_name="IOM Chief of Mission")


def agreed_plan(w, lou, *, due_in_days=30):
    services.phase_out_plan_save(actor=w.iom_af_staff, lou=lou, summary="Hand over transport to the ministry")
    services.phase_out_action_add(
        actor=w.iom_af_staff,
        lou=lou,
        description="Train ministry drivers",
        owner_agency=Agency.IOM,
        owner="Logistics unit",
        due_on=timezone.localdate() + dt.timedelta(days=due_in_days),
    )
    services.phase_out_plan_agree(actor=w.unhcr_af_manager, lou=lou)
    return services.phase_out_plan_agree(actor=w.iom_af_manager, lou=lou)
