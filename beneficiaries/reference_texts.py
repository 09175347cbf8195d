"""The wording of the reference data (categories of MOU §4, the mandate matrix), for translation.

The data migration stores it in English; the mandate matrix page shows it through `{% translate %}`, so French and
Arabic readers get the catalogue's wording while the text is the one loaded. Wording an administrator changes in the
admin is shown as entered.
"""

from django.utils.translation import gettext_noop

REFERENCE_TEXTS = (
    gettext_noop("Persons outside their country of origin in need of international protection."),
    gettext_noop("Persons moving across borders for reasons other than protection."),
    gettext_noop("Persons whose refugee status has not yet been determined."),
    gettext_noop(
        "Persons found, after fair procedures, not to qualify for refugee status nor to need international protection."
    ),
    gettext_noop("Refugees and others returning to their country of origin."),
    gettext_noop("Persons forced to flee their homes who remain within their own country."),
    gettext_noop("Local populations affected by refugees, returnees or internally displaced persons."),
    gettext_noop("International protection, humanitarian assistance and durable solutions."),
    gettext_noop(
        "Organised transfer: pre-screening, counselling, documentation, medical processing, training, "
        "transport, reception and integration."
    ),
    gettext_noop("Humane and orderly migration; operational assistance to migrants."),
    gettext_noop("Where involuntary displacement links to migratory movements."),
    gettext_noop("Promotes the right to seek asylum and the treatment of asylum-seekers."),
    gettext_noop(
        "Services to States for the return or onward migration of those not in need of international "
        "protection, under the §12 conditions; AVR before the asylum decision, informing UNHCR (Letter)."
    ),
    gettext_noop(
        "Voluntary return of rejected asylum-seekers, keeping UNHCR informed, once all possibilities to "
        "stay are exhausted."
    ),
    gettext_noop("Kept informed; both support States under the §12 conditions."),
    gettext_noop("Voluntary repatriation of refugees in safety and dignity; assistance in the country of origin."),
    gettext_noop(
        "Migration services for voluntary repatriation: documentation, medical services, transport, "
        "reception; reintegration."
    ),
    gettext_noop("General concern for displaced persons, part of its constitution."),
    gettext_noop(
        "Only on request of the Secretary-General or a competent principal UN organ, with the consent of"
        " the State, its expertise and adequate resources."
    ),
    gettext_noop("Groups in areas directly affected by refugees, returnees or IDPs."),
)
