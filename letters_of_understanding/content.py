"""The text of a Letter of Understanding as one value: what is signed, hashed, versioned, amended and compared.

MOU §5 names what an LoU sets out (framework, activities of each agency, linkages, funding); §37 staff secondments and
§38 monitoring and evaluation belong to the text too. The parties (the two offices) are not part of the amendable
text: another pair of offices is another letter.

`content_of(lou)` reads the live text; `validate_content(data)` checks a proposed text (an amendment from the browser
or the API) and names the first wrong field, e.g. `activities[2].kind`; `apply_content(lou, content)` writes an
approved text back; `content_hash` is the SHA-256 of its canonical JSON; `compare` lines two texts up side by side.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries as all_countries

from jointops.exceptions import ValidationFailed
from letters_of_understanding.choices import ActivityKind, Agency

SCALAR_FIELDS = (
    "title",
    "operational_situation",
    "region",
    "other_parties",
    "institutional_framework",
    "linkages",
    "monitoring_procedures",
    "evaluation_arrangements",
)
REQUIRED_SCALARS = ("title", "operational_situation")
MAX_LENGTH = {"title": 200, "region": 200, "operational_situation": 4000, "other_parties": 4000}
LONG_MAX = 20000
MAX_ITEMS = 200

ACTIVITY_FIELDS = ("kind", "agency", "description", "indicators")
FUNDING_FIELDS = ("agency", "source", "amount", "currency", "joint_appeal")
SECONDMENT_FIELDS = ("from_agency", "position", "number", "start_on", "end_on")

LABELS = {
    "title": gettext_lazy("Title"),
    "operational_situation": gettext_lazy("Operational situation"),
    "countries": gettext_lazy("Countries"),
    "region": gettext_lazy("Region"),
    "other_parties": gettext_lazy("Other parties"),
    "categories": gettext_lazy("Beneficiary categories covered"),
    "start_date": gettext_lazy("Start date"),
    "end_date": gettext_lazy("Agreed end date"),
    "institutional_framework": gettext_lazy("Institutional framework for cooperation (MOU §5)"),
    "activities": gettext_lazy("Agreed activities (MOU §5, §20-§35)"),
    "linkages": gettext_lazy("Linkages between the two agencies' activities (MOU §5)"),
    "funding": gettext_lazy("Funding arrangements (MOU §36)"),
    "secondments": gettext_lazy("Staff secondments (MOU §37)"),
    "monitoring_procedures": gettext_lazy("Monitoring procedures (MOU §38)"),
    "evaluation_arrangements": gettext_lazy("Evaluation arrangements (MOU §38)"),
}
ORDER = tuple(LABELS)


def content_of(lou) -> dict[str, Any]:
    """The live text of `lou` as a plain JSON-able dict."""
    return {
        **{name: getattr(lou, name) for name in SCALAR_FIELDS},
        "countries": sorted(str(code) for code in lou.countries),
        "categories": sorted(lou.categories.values_list("code", flat=True)),
        "start_date": lou.start_date.isoformat() if lou.start_date else None,
        "end_date": lou.end_date.isoformat() if lou.end_date else None,
        "activities": [
            {name: getattr(a, name) for name in ACTIVITY_FIELDS} for a in lou.activities.order_by("position", "pk")
        ],
        "funding": [
            {
                "agency": f.agency,
                "source": f.source,
                "amount": None if f.amount is None else f"{f.amount:.2f}",
                "currency": f.currency,
                "joint_appeal": f.joint_appeal,
            }
            for f in lou.funding.order_by("position", "pk")
        ],
        "secondments": [
            {
                "from_agency": s.from_agency,
                "position": s.position,
                "number": s.number,
                "start_on": s.start_on.isoformat() if s.start_on else None,
                "end_on": s.end_on.isoformat() if s.end_on else None,
            }
            for s in lou.secondments.order_by("position_order", "pk")
        ],
    }


def content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- Validation of a proposed text ------------------------------------------------------------------------------


def _text(data: dict, name: str, path: str, *, required: bool = False, max_length: int = LONG_MAX) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(_("Enter text."), field=path)
    value = value.strip()
    if "\x00" in value:
        raise ValidationFailed(_("Null characters are not allowed."), field=path)
    if required and not value:
        raise ValidationFailed(_("This field is required."), field=path)
    if len(value) > max_length:
        raise ValidationFailed(_("Ensure this value has at most %(max)d characters.") % {"max": max_length}, field=path)
    return value


def _date(data: dict, name: str, path: str, *, required: bool = False) -> str | None:
    value = data.get(name)
    if value in (None, ""):
        if required:
            raise ValidationFailed(_("This field is required."), field=path)
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValidationFailed(_("Enter a valid date (YYYY-MM-DD)."), field=path) from None


def _choice(data: dict, name: str, path: str, choices) -> str:
    value = data.get(name)
    if value not in choices.values:
        raise ValidationFailed(_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices.values)}, field=path)
    return value


def _items(data: dict, name: str) -> list[dict]:
    value = data.get(name, [])
    if value is None:
        value = []
    if not isinstance(value, list):
        raise ValidationFailed(_("Send a list."), field=name)
    if len(value) > MAX_ITEMS:
        raise ValidationFailed(_("At most %(max)d items.") % {"max": MAX_ITEMS}, field=name)
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise ValidationFailed(_("Send an object."), field=f"{name}[{index}]")
    return value


def _amount(item: dict, path: str) -> str | None:
    value = item.get("amount")
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(_("Enter a number."), field=f"{path}.amount") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise ValidationFailed(_("Enter an amount between 0 and 999,999,999,999.99."), field=f"{path}.amount")
    return f"{amount.quantize(Decimal('0.01')):.2f}"


def _currency(item: dict, path: str, *, needed: bool) -> str:
    value = item.get("currency") or ""
    if not isinstance(value, str):
        raise ValidationFailed(_("Use the three-letter ISO 4217 code, e.g. USD."), field=f"{path}.currency")
    value = value.strip().upper()
    if value and (len(value) != 3 or not value.isascii() or not value.isalpha()):
        raise ValidationFailed(_("Use the three-letter ISO 4217 code, e.g. USD."), field=f"{path}.currency")
    if needed and not value:
        raise ValidationFailed(_("Give the currency of the amount."), field=f"{path}.currency")
    return value


def validate_content(data: Any) -> dict[str, Any]:
    """Check a whole proposed text and return it normalised; ValidationFailed names the first wrong field."""
    from beneficiaries.models import BeneficiaryCategory

    if not isinstance(data, dict):
        raise ValidationFailed(_("Send the text as an object."), field="content")
    unknown = sorted(set(data) - set(ORDER))
    if unknown:
        raise ValidationFailed(_("Unknown field."), field=unknown[0])
    content: dict[str, Any] = {}
    for name in SCALAR_FIELDS:
        content[name] = _text(
            data, name, name, required=name in REQUIRED_SCALARS, max_length=MAX_LENGTH.get(name, LONG_MAX)
        )
    countries = data.get("countries") or []
    if not isinstance(countries, list) or any(not isinstance(code, str) for code in countries):
        raise ValidationFailed(_("Send a list of ISO 3166 country codes."), field="countries")
    codes = sorted({code.strip().upper() for code in countries})
    bad = [code for code in codes if code not in dict(all_countries)]
    if bad:
        raise ValidationFailed(_("Unknown country code: %(code)s.") % {"code": bad[0]}, field="countries")
    content["countries"] = codes
    categories = data.get("categories") or []
    if not isinstance(categories, list) or any(not isinstance(code, str) for code in categories):
        raise ValidationFailed(_("Send a list of category codes."), field="categories")
    known = set(BeneficiaryCategory.objects.values_list("code", flat=True))
    bad = sorted(set(categories) - known)
    if bad:
        raise ValidationFailed(_("Unknown category: %(code)s.") % {"code": bad[0]}, field="categories")
    content["categories"] = sorted(set(categories))
    content["start_date"] = _date(data, "start_date", "start_date", required=True)
    content["end_date"] = _date(data, "end_date", "end_date")
    if content["end_date"] and content["end_date"] < content["start_date"]:
        raise ValidationFailed(_("The end date cannot be before the start date."), field="end_date")

    content["activities"] = []
    for index, item in enumerate(_items(data, "activities")):
        path = f"activities[{index}]"
        content["activities"].append(
            {
                "kind": _choice(item, "kind", f"{path}.kind", ActivityKind),
                "agency": _choice(item, "agency", f"{path}.agency", Agency),
                "description": _text(item, "description", f"{path}.description", required=True, max_length=4000),
                "indicators": _text(item, "indicators", f"{path}.indicators", max_length=4000),
            }
        )
    content["funding"] = []
    for index, item in enumerate(_items(data, "funding")):
        path = f"funding[{index}]"
        amount = _amount(item, path)
        joint = item.get("joint_appeal", False)
        if not isinstance(joint, bool):
            raise ValidationFailed(_("Send true or false."), field=f"{path}.joint_appeal")
        content["funding"].append(
            {
                "agency": _choice(item, "agency", f"{path}.agency", Agency),
                "source": _text(item, "source", f"{path}.source", required=True, max_length=200),
                "amount": amount,
                "currency": _currency(item, path, needed=amount is not None),
                "joint_appeal": joint,
            }
        )
    content["secondments"] = []
    for index, item in enumerate(_items(data, "secondments")):
        path = f"secondments[{index}]"
        number = item.get("number", 1)
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 1000:
            raise ValidationFailed(_("Enter a whole number from 1 to 1000."), field=f"{path}.number")
        start, end = _date(item, "start_on", f"{path}.start_on"), _date(item, "end_on", f"{path}.end_on")
        if start and end and end < start:
            raise ValidationFailed(_("The end of the secondment cannot be before its start."), field=f"{path}.end_on")
        content["secondments"].append(
            {
                "from_agency": _choice(item, "from_agency", f"{path}.from_agency", Agency),
                "position": _text(item, "position", f"{path}.position", required=True, max_length=200),
                "number": number,
                "start_on": start,
                "end_on": end,
            }
        )
    return content


def apply_content(lou, content: dict[str, Any]) -> None:
    """Write a validated text onto the live LoU and its rows (the caller holds the row lock and saves the LoU)."""
    from beneficiaries.models import BeneficiaryCategory
    from letters_of_understanding.models import Activity, FundingArrangement, StaffSecondment

    for name in SCALAR_FIELDS:
        setattr(lou, name, content[name])
    lou.countries = content["countries"]
    lou.start_date = dt.date.fromisoformat(content["start_date"])
    lou.end_date = dt.date.fromisoformat(content["end_date"]) if content["end_date"] else None
    lou.save()
    lou.categories.set(BeneficiaryCategory.objects.filter(code__in=content["categories"]))
    # Rows are replaced through the ORM one by one so that each removal and addition reaches the audit trail.
    for row in [*lou.activities.all(), *lou.funding.all(), *lou.secondments.all()]:
        row.delete()
    for position, item in enumerate(content["activities"]):
        Activity.objects.create(lou=lou, position=position, **item)
    for position, item in enumerate(content["funding"]):
        FundingArrangement.objects.create(
            lou=lou, position=position, **{**item, "amount": Decimal(item["amount"]) if item["amount"] else None}
        )
    for position, item in enumerate(content["secondments"]):
        StaffSecondment.objects.create(
            lou=lou,
            position_order=position,
            from_agency=item["from_agency"],
            position=item["position"],
            number=item["number"],
            start_on=dt.date.fromisoformat(item["start_on"]) if item["start_on"] else None,
            end_on=dt.date.fromisoformat(item["end_on"]) if item["end_on"] else None,
        )


# --- Reading a text: for the page, the PDF and the comparison ---------------------------------------------------


def _item_line(name: str, item: dict) -> str:
    if name == "activities":
        line = f"{Agency(item['agency']).label} — {ActivityKind(item['kind']).label}: {item['description']}"
        return line + (f" [{_('Indicators')}: {item['indicators']}]" if item.get("indicators") else "")
    if name == "funding":
        amount = f" {item['amount']} {item['currency']}" if item.get("amount") else ""
        joint = f" ({_('joint appeal')})" if item.get("joint_appeal") else ""
        return f"{Agency(item['agency']).label} — {item['source']}{amount}{joint}"
    period = " – ".join(filter(None, [item.get("start_on"), item.get("end_on")]))
    return f"{Agency(item['from_agency']).label} — {item['position']} × {item['number']}" + (
        f" ({period})" if period else ""
    )


def render_value(name: str, value: Any) -> list[str]:
    """A field of the text as display lines (lists become one line per item)."""
    from beneficiaries.choices import CategoryCode

    if name in ("activities", "funding", "secondments"):
        return [_item_line(name, item) for item in value or []]
    if name == "countries":
        return [", ".join(str(dict(all_countries).get(code, code)) for code in value or [])]
    if name == "categories":
        labels = dict(CategoryCode.choices)
        return [", ".join(str(labels.get(code, code)) for code in value or [])]
    return [str(value) if value not in (None, "") else "—"]


def compare(left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, Any]]:
    """Two texts side by side: one row per field, in the order of MOU §5, with whether it changed."""
    rows = []
    for name in ORDER:
        a, b = left.get(name), right.get(name)
        rows.append(
            {
                "field": name,
                "label": LABELS[name],
                "left": render_value(name, a),
                "right": render_value(name, b),
                "changed": a != b,
            }
        )
    return rows


def readable(content: dict[str, Any]) -> list[tuple[Any, list[str]]]:
    """(label, lines) for every field of a text: the PDF and the version page print this."""
    return [(LABELS[name], render_value(name, content.get(name))) for name in ORDER]
