"""The beneficiary categories of MOU §4 and each organisation's mandate for each (MOU §6-§19, the Letter).

Reference data; administrators may refine the wording in the admin. Reversible.
"""

from django.db import migrations

CATEGORIES = [
    # code, name, MOU paragraphs, description
    (
        "refugee",
        "Refugee",
        "MOU §4(i), §7–§8",
        "Persons outside their country of origin in need of international protection.",
    ),
    ("migrant", "Migrant", "MOU §4(ii), §9–§10", "Persons moving across borders for reasons other than protection."),
    (
        "asylum_seeker",
        "Asylum-seeker",
        "MOU §4(iii), §11–§12",
        "Persons whose refugee status has not yet been determined.",
    ),
    (
        "rejected_asylum_seeker",
        "Rejected asylum-seeker",
        "MOU §4(iii), §12, §29; Letter",
        "Persons found, after fair procedures, not to qualify for refugee status nor to need international protection.",
    ),
    ("returnee", "Returnee", "MOU §4(iv), §13–§15, §30", "Refugees and others returning to their country of origin."),
    (
        "idp",
        "Internally displaced person",
        "MOU §4(v), §16–§17, §25",
        "Persons forced to flee their homes who remain within their own country.",
    ),
    (
        "affected_local_population",
        "Affected local population",
        "MOU §4(vi), §18–§19",
        "Local populations affected by refugees, returnees or internally displaced persons.",
    ),
]

MANDATES = [
    # category, organisation, role, what it covers, source
    ("refugee", "UNHCR", "lead", "International protection, humanitarian assistance and durable solutions.", "MOU §7"),
    (
        "refugee",
        "IOM",
        "services",
        "Organised transfer: pre-screening, counselling, documentation, medical processing, "
        "training, transport, reception and integration.",
        "MOU §8",
    ),
    ("migrant", "IOM", "lead", "Humane and orderly migration; operational assistance to migrants.", "MOU §9"),
    ("migrant", "UNHCR", "interest", "Where involuntary displacement links to migratory movements.", "MOU §10"),
    (
        "asylum_seeker",
        "UNHCR",
        "lead",
        "Promotes the right to seek asylum and the treatment of asylum-seekers.",
        "MOU §11",
    ),
    (
        "asylum_seeker",
        "IOM",
        "services",
        "Services to States for the return or onward migration of those not in need "
        "of international protection, under the §12 conditions; AVR before the asylum decision, informing UNHCR "
        "(Letter).",
        "MOU §12; Letter",
    ),
    (
        "rejected_asylum_seeker",
        "IOM",
        "lead",
        "Voluntary return of rejected asylum-seekers, keeping UNHCR informed, "
        "once all possibilities to stay are exhausted.",
        "Letter; MOU §29",
    ),
    (
        "rejected_asylum_seeker",
        "UNHCR",
        "informed",
        "Kept informed; both support States under the §12 conditions.",
        "MOU §12, §29; Letter",
    ),
    (
        "returnee",
        "UNHCR",
        "lead",
        "Voluntary repatriation of refugees in safety and dignity; assistance in the country of origin.",
        "MOU §13, §30",
    ),
    (
        "returnee",
        "IOM",
        "services",
        "Migration services for voluntary repatriation: documentation, medical services, "
        "transport, reception; reintegration.",
        "MOU §14, §30",
    ),
    ("idp", "IOM", "general", "General concern for displaced persons, part of its constitution.", "MOU §16"),
    (
        "idp",
        "UNHCR",
        "selective",
        "Only on request of the Secretary-General or a competent principal UN organ, with "
        "the consent of the State, its expertise and adequate resources.",
        "MOU §17",
    ),
    (
        "affected_local_population",
        "UNHCR",
        "selective",
        "Groups in areas directly affected by refugees, returnees or IDPs.",
        "MOU §18",
    ),
    (
        "affected_local_population",
        "IOM",
        "selective",
        "Groups in areas directly affected by refugees, returnees or IDPs.",
        "MOU §18",
    ),
]


def create(apps, schema_editor):
    Category = apps.get_model("beneficiaries", "BeneficiaryCategory")
    Mandate = apps.get_model("beneficiaries", "Mandate")
    Organisation = apps.get_model("jointops", "Organisation")
    for order, (code, name, paragraphs, description) in enumerate(CATEGORIES, start=1):
        Category.objects.update_or_create(
            code=code, defaults={"name": name, "mou_paragraphs": paragraphs, "description": description, "order": order}
        )
    for category, org, role, services, paragraph in MANDATES:
        Mandate.objects.update_or_create(
            category=Category.objects.get(code=category),
            organisation=Organisation.objects.get(code=org),
            defaults={"role": role, "services": services, "paragraph": paragraph},
        )


def remove(apps, schema_editor):
    apps.get_model("beneficiaries", "Mandate").objects.all().delete()
    apps.get_model("beneficiaries", "BeneficiaryCategory").objects.filter(code__in=[c[0] for c in CATEGORIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("beneficiaries", "0001_initial"), ("jointops", "0002_seed_founding_organisations")]

    operations = [migrations.RunPython(create, remove)]
