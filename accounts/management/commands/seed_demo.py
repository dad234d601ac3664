"""Seed the demo organization "Acme" with one user per role. Safe to run again."""

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership, Organization, Role, SignupDomain, Team, User

DEMO_PASSWORD = "acme-demo-2026"
DEMO_USERS = [
    ("employee@acme.test", "Emma Employee", [Role.EMPLOYEE], ["Sales", "Paris"]),
    ("marketer@acme.test", "Mark Marketer", [Role.MARKETER, Role.EMPLOYEE], ["Marketing", "Paris"]),
    ("compliance@acme.test", "Cora Compliance", [Role.COMPLIANCE], ["Legal", "London"]),
    ("executive@acme.test", "Evan Executive", [Role.EXECUTIVE, Role.EMPLOYEE], ["Leadership", "London"]),
    ("admin@acme.test", "Ada Admin", [Role.ADMIN, Role.EMPLOYEE], ["Leadership", "Paris"]),
]
TEAMS = [
    ("Sales", Team.Kind.DEPARTMENT),
    ("Marketing", Team.Kind.DEPARTMENT),
    ("Legal", Team.Kind.DEPARTMENT),
    ("Leadership", Team.Kind.DEPARTMENT),
    ("Paris", Team.Kind.LOCATION),
    ("London", Team.Kind.LOCATION),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo organization Acme with one user per role."

    @transaction.atomic
    def handle(self, *args, **options):
        acme, _ = Organization.objects.get_or_create(slug="acme", defaults={"name": "Acme", "timezone": "Europe/Paris"})
        globex, _ = Organization.objects.get_or_create(
            slug="globex", defaults={"name": "Globex", "timezone": "America/New_York"}
        )
        teams = {}
        for name, kind in TEAMS:
            teams[name], _ = Team.objects.for_org(acme).get_or_create(organization=acme, name=name, kind=kind)
        for email, name, roles, team_names in DEMO_USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name)
            EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
            membership, _ = Membership.objects.for_org(acme).get_or_create(organization=acme, user=user)
            membership.set_roles(roles)
            membership.is_active = True
            membership.save()
            membership.teams.set([teams[t] for t in team_names])
        # Anyone who verifies an @acme.test address joins Acme as an employee.
        SignupDomain.objects.for_org(acme).get_or_create(organization=acme, domain="acme.test")
        # The admin also belongs to a second organization, to show the org switcher.
        admin = User.objects.get(email="admin@acme.test")
        Membership.objects.for_org(globex).get_or_create(
            organization=globex, user=admin, defaults={"is_admin": True, "is_employee": True}
        )
        self.stdout.write("Demo organization 'Acme' is ready. Log in at http://127.0.0.1:8000/ with:")
        for email, _name, roles, _teams in DEMO_USERS:
            labels = ", ".join(r.label for r in roles)
            self.stdout.write(f"  {email:<24} password {DEMO_PASSWORD}   ({labels})")
