"""`manage.py access_matrix`: print the written access matrix (README "Access matrix") from jointops.access."""

from django.core.management.base import BaseCommand

from jointops import access
from jointops.choices import Role

# How a partner system's scope modes are listed: read (view), write (any other action), export (issue 8: a bulk export
# of people is its own grant, with the read scope).
MODE_ORDER = ["read", "write", "export"]


def matrix_markdown() -> str:
    actions = sorted(
        {action for rows in access.MATRIX.values() for action in rows},
        key=lambda a: (
            ["view", "add", "change", "export"].index(a) if a in ("view", "add", "change", "export") else 9,
            a,
        ),
    )
    lines = [
        "| resource | " + " | ".join(actions) + " | partner-system scope |",
        "|---|" + "---|" * len(actions) + "---|",
    ]
    for resource, rows in access.MATRIX.items():
        cells = []
        for action in actions:
            roles = rows.get(action, frozenset())
            cells.append(
                "all roles"
                if roles == access.ALL_ROLES
                else ", ".join(str(Role(r).label) for r in Role if r in roles) or "-"
            )
        scope = access.API_SCOPES.get(resource)
        modes = sorted(scope[1], key=MODE_ORDER.index) if scope else []
        scope_text = ", ".join(f"`{scope[0]}:{mode}`" for mode in modes) if scope else "never"
        lines.append(f"| {resource} | " + " | ".join(cells) + f" | {scope_text} |")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Print the access matrix (role × resource × action) as a Markdown table."

    def handle(self, *args, **options):
        self.stdout.write(matrix_markdown())
