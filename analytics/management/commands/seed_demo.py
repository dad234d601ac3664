"""Seed the demo organization "Acme": one user per role, teams, and content to share. Safe to run again."""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Membership, Organization, Role, SignupDomain, Team, User
from content.models import ContentItem, Suggestion, Topic

DEMO_PASSWORD = "acme-demo-2026"
# The local provider accepts any client id and secret: these are what the demo configuration holds.
DEMO_OIDC_CLIENT_ID = "advocacy-demo"
DEMO_OIDC_CLIENT_SECRET = "demo-client-secret"
TRIAL_ADVOCATE = "alex.advocate@acme.test"  # a demo advocate (analytics.demo): the outcomes demo's post
DEMO_USERS = [
    ("employee@acme.test", "Emma Employee", [Role.EMPLOYEE], ["Sales", "Paris"]),
    ("marketer@acme.test", "Mark Marketer", [Role.MARKETER, Role.EMPLOYEE], ["Marketing", "Paris"]),
    ("compliance@acme.test", "Cora Compliance", [Role.COMPLIANCE], ["Legal", "London"]),
    ("executive@acme.test", "Evan Executive", [Role.EXECUTIVE, Role.EMPLOYEE], ["Leadership", "London"]),
    ("admin@acme.test", "Ada Admin", [Role.ADMIN, Role.EMPLOYEE], ["Leadership", "Paris"]),
    # Issue 23: people who use the product in their own language (DEMO_LANGUAGES).
    ("camille@acme.test", "Camille Employée", [Role.EMPLOYEE], ["Sales", "Paris"]),
    ("jonas@acme.test", "Jonas Marketing", [Role.MARKETER, Role.EMPLOYEE], ["Marketing", "London"]),
    ("lucia@acme.test", "Lucía Directiva", [Role.EXECUTIVE, Role.EMPLOYEE], ["Leadership", "London"]),
]
DEMO_LANGUAGES = {"camille@acme.test": "fr", "jonas@acme.test": "de", "lucia@acme.test": "es"}
TEAMS = [
    ("Sales", Team.Kind.DEPARTMENT),
    ("Marketing", Team.Kind.DEPARTMENT),
    ("Legal", Team.Kind.DEPARTMENT),
    ("Leadership", Team.Kind.DEPARTMENT),
    ("Paris", Team.Kind.LOCATION),
    ("London", Team.Kind.LOCATION),
]


DEMO_CONTENT = [
    (
        "acme-opens-lyon-plant",
        "Acme opens a solar-powered plant in Lyon",
        "https://example.com/acme/lyon-plant",
        "Our new plant runs on the sun and employs 300 people.",
        ["Sustainability"],
        True,
        None,
        [
            "Proud to see our new Lyon plant running on solar power.",
            "300 new colleagues and a roof full of solar panels: welcome to Lyon!",
            "This is what building responsibly looks like.",
        ],
    ),
    (
        "acme-q3-results",
        "Acme's third quarter in five numbers",
        "https://example.com/acme/q3",
        "Revenue, customers and the people behind them.",
        ["Company news"],
        False,
        None,
        [
            "A strong quarter, thanks to an amazing team.",
        ],
    ),
    (
        "we-are-hiring-paris",
        "We are hiring in Paris: 40 open roles",
        "https://example.com/acme/careers?city=paris",
        "Engineers, designers and sales people wanted.",
        ["Careers"],
        False,
        "Paris",
        [
            "My team is hiring! Come work with us in Paris.",
            "Looking for your next challenge? We have 40 open roles in Paris.",
        ],
    ),
]

# Library items in other languages (issue 23): slug -> {language: (title, summary, suggestions)}.
DEMO_VARIANTS = {
    "acme-opens-lyon-plant": {
        "fr": (
            "Acme ouvre à Lyon une usine alimentée à l'énergie solaire",
            "Notre nouvelle usine tourne au soleil et emploie 300 personnes.",
            [
                "Fier de voir notre nouvelle usine lyonnaise tourner à l'énergie solaire.",
                "300 nouveaux collègues et un toit couvert de panneaux solaires : bienvenue à Lyon !",
                "Voilà à quoi ressemble une industrie responsable.",
            ],
        ),
        "de": (
            "Acme eröffnet in Lyon ein Werk mit Solarstrom",
            "Unser neues Werk läuft mit Sonnenenergie und beschäftigt 300 Menschen.",
            [
                "Stolz auf unser neues Werk in Lyon, das mit Solarstrom läuft.",
                "300 neue Kolleginnen und Kollegen und ein Dach voller Solarmodule: willkommen in Lyon!",
                "So sieht verantwortungsvolle Industrie aus.",
            ],
        ),
        "es": (
            "Acme abre en Lyon una planta que funciona con energía solar",
            "Nuestra nueva planta funciona con el sol y da empleo a 300 personas.",
            [
                "Orgulloso de ver nuestra nueva planta de Lyon funcionando con energía solar.",
                "300 nuevos compañeros y un tejado lleno de paneles solares: ¡bienvenidos a Lyon!",
                "Así es construir de forma responsable.",
            ],
        ),
    },
    "we-are-hiring-paris": {
        "fr": (
            "On recrute à Paris : 40 postes ouverts",
            "Ingénieurs, designers et commerciaux recherchés.",
            [
                "Mon équipe recrute ! Venez travailler avec nous à Paris.",
                "Envie d'un nouveau défi ? Nous avons 40 postes ouverts à Paris.",
            ],
        ),
    },
}

DEMO_LEXICON = [
    ("guaranteed", "review", "Promises of returns need compliance review"),
    ("insider", "block", "Never hint at inside information."),
]
DEMO_ALLOWED_DOMAINS = ["example.com", "acme.test"]  # the demo items' hosts


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
                user = User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name, timezone="Europe/Paris")
            EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
            membership, _ = Membership.objects.for_org(acme).get_or_create(organization=acme, user=user)
            membership.set_roles(roles)
            membership.is_active = True
            membership.save()
            membership.teams.set([teams[t] for t in team_names])
        # Anyone who verifies an @acme.test address joins Acme as an employee.
        # The demo's own domain counts as proven (a real organization publishes a DNS TXT record).
        SignupDomain.objects.for_org(acme).update_or_create(
            organization=acme, domain="acme.test", defaults={"verified_at": timezone.now()}
        )
        self._content(acme, teams)
        self._languages(acme)
        self._demo_picture(acme)  # issue 22: shares of it post the picture natively, with its alt text
        self._policy(acme)
        self._single_sign_on(acme)
        from analytics.demo import seed_demo_analytics  # a living ROI dashboard for the executive

        seed_demo_analytics(acme)
        from compliance.demo import seed_demo_review_history  # the audit log and its search have a story

        seed_demo_review_history(acme, author_email=TRIAL_ADVOCATE, officer_email="compliance@acme.test")
        from analytics.demo import company_site_url, seed_company_site  # the outcomes demo (README)

        # The post that brings the sign-up is a colleague's, who can sign in to see it on My stats:
        # Emma (employee@acme.test) stays a new employee with her first share ahead of her.
        advocate = User.objects.get(email=TRIAL_ADVOCATE)
        if not advocate.has_usable_password():
            advocate.set_password(DEMO_PASSWORD)
            advocate.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(
            user=advocate, email=TRIAL_ADVOCATE, defaults={"verified": True, "primary": True}
        )
        trial = seed_company_site(acme, advocate)
        self._archive_feed(acme)
        self._teams_and_digest(acme)  # issue 22: a Teams channel on the emulator; the digest with share links
        self._slack(acme)
        from accounts.demo import seed_demo_phone  # issue 22: Emma's phone on the local push service

        seed_demo_phone(Membership.objects.for_org(acme).get(user__email="employee@acme.test"))
        # The admin also belongs to a second organization, to show the org switcher.
        admin = User.objects.get(email="admin@acme.test")
        Membership.objects.for_org(globex).get_or_create(
            organization=globex, user=admin, defaults={"is_admin": True, "is_employee": True}
        )
        self.stdout.write("Demo organization 'Acme' is ready. Log in at http://127.0.0.1:8000/ with:")
        for email, _name, roles, _teams in DEMO_USERS:
            labels = ", ".join(str(r.label) for r in roles)
            self.stdout.write(f"  {email:<24} password {DEMO_PASSWORD}   ({labels})")
        self.stdout.write(
            f"Outcomes demo: open {settings.SITE_URL}/r/{trial.tracking_code} (Emma's post), sign up on the "
            f"company site ({company_site_url()}/) and close its deal there; connect HubSpot on Reports > CRM revenue."
        )
        self.stdout.write(
            f"Slack demo: as the marketer, open {settings.SITE_URL}/o/acme/slack/, Add to Slack and pick a channel; "
            f"publish a featured item; then be Emma in the Slack emulator ({settings.SLACK_ORIGIN}/) and click Share."
        )

    def _single_sign_on(self, org):
        """Acme's OpenID Connect sign-in against `make run`'s local provider (oidc-provider-mock,
        DEMO_OIDC_ISSUER), filled in but off: the admin tests it and turns it on (README). Left
        as the admin changed it when seeding again."""
        from accounts.models import SsoConfiguration

        if SsoConfiguration.objects.for_org(org).exists():
            return
        SsoConfiguration.objects.create(
            organization=org,
            protocol=SsoConfiguration.Protocol.OIDC,
            oidc_issuer=settings.DEMO_OIDC_ISSUER,
            oidc_client_id=DEMO_OIDC_CLIENT_ID,
            oidc_client_secret=DEMO_OIDC_CLIENT_SECRET,
            attribute_mapping={"team": "department", "location": "office", "roles": "groups"},
            role_mapping={"Marketing": "marketer", "Compliance": "compliance"},
            default_roles=[Role.EMPLOYEE.value],
            session_minutes=480,
        )

    def _slack(self, org):
        """Acme's Slack (issue 22) is installable against `make run`'s Slack emulator
        (run_slack_emulator --demo): its workspace lives in memory and starts anew with every
        run, so an earlier install's token is dead; it goes, and the marketer installs again
        from Library > Slack, then picks a channel."""
        from content.models import SlackChannelRoute, SlackInstallation

        if settings.SLACK_ORIGIN.startswith("http://127.0.0.1"):
            SlackChannelRoute.objects.for_org(org).delete()
            SlackInstallation.objects.for_org(org).delete()

    def _archive_feed(self, org):
        """The demo archive feed's destination: `make run`'s local bucket (only where moto, a dev
        requirement, is there to serve it: run_archive_bucket)."""
        from compliance.management.commands import run_archive_bucket as bucket
        from compliance.models import ArchiveDestination

        if not bucket.moto_installed():
            return
        # The bucket lives in memory and starts empty with every `make run`: so does the
        # destination (its runs and watermark go with it), and the first delivery sends all.
        ArchiveDestination.objects.for_org(org).filter(name="Demo archive bucket").delete()
        ArchiveDestination.objects.create(
            organization=org,
            name="Demo archive bucket",
            kind=ArchiveDestination.Kind.S3,
            endpoint_url=bucket.demo_endpoint(),
            region="us-east-1",
            bucket=bucket.DEMO_BUCKET,
            prefix="feed",
            access_key_id=bucket.DEMO_ACCESS_KEY_ID,
            secret_access_key=bucket.DEMO_SECRET,
        )

    def _policy(self, org):
        """Acme's compliance policy: two lexicon terms, a pattern, a disclosure, allowed link hosts."""
        from compliance.models import AllowedDomain, LexiconTerm, PatternRule, Policy

        Policy.objects.for_org(org).get_or_create(
            organization=org,
            defaults={
                "disclosure": "#AcmeEmployee",
                "disclosure_mode": Policy.DisclosureMode.APPEND,
                "restrict_link_domains": True,
            },
        )
        for term, action, note in DEMO_LEXICON:
            LexiconTerm.objects.for_org(org).get_or_create(
                organization=org, term=term, defaults={"action": action, "note": note}
            )
        PatternRule.objects.for_org(org).get_or_create(
            organization=org,
            name="Promised returns",
            defaults={
                "pattern": r"\b\d{1,3}(?:[.,]\d+)?\s?%\s+(?:returns?|yield|gains?)\b",
                "action": "review",
                "note": "Percentages of returns need compliance review.",
            },
        )
        for domain in DEMO_ALLOWED_DOMAINS:
            AllowedDomain.objects.for_org(org).get_or_create(organization=org, domain=domain)

    def _demo_picture(self, org):
        """A drawn picture (sun over a plant's roof of panels) with alt text on the Lyon item."""
        import io

        from django.core.files.base import ContentFile
        from PIL import Image, ImageDraw

        item = ContentItem.objects.for_org(org).filter(slug="acme-opens-lyon-plant").first()
        if item is None or item.image:
            return
        picture = Image.new("RGB", (1200, 627), (135, 190, 235))
        draw = ImageDraw.Draw(picture)
        draw.ellipse((980, 60, 1120, 200), fill=(250, 210, 60))
        draw.rectangle((0, 430, 1200, 627), fill=(90, 140, 70))
        for left in range(120, 1000, 180):
            draw.polygon([(left, 430), (left + 150, 430), (left + 120, 340), (left + 30, 340)], fill=(30, 50, 110))
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=85)
        item.image.save("demo-lyon-plant.jpg", ContentFile(out.getvalue()), save=False)
        item.image_alt_text = "Rows of solar panels on the roof of Acme's Lyon plant under a bright sun"
        item.save(update_fields=["image", "image_alt_text"])

    def _content(self, org, teams):
        topics = {}
        for slug, title, url, description, topic_names, featured, team, suggestions in DEMO_CONTENT:
            item, created = ContentItem.objects.for_org(org).get_or_create(
                organization=org,
                slug=slug,
                defaults={
                    "title": title,
                    "url": url,
                    "description": description,
                    "featured": featured,
                    "status": ContentItem.Status.PUBLISHED,
                    "published_at": timezone.now(),
                },
            )
            if not created:
                continue
            for name in topic_names:
                if name not in topics:
                    topics[name], _ = Topic.objects.for_org(org).get_or_create(
                        organization=org, slug=slugify(name), defaults={"name": name}
                    )
                item.topics.add(topics[name])
            if team:
                item.target_teams.add(teams[team])
            for position, text in enumerate(suggestions):
                Suggestion.objects.create(organization=org, item=item, text=text, position=position)

    def _languages(self, org):
        """Issue 23: Camille reads French, Jonas German, Lucía Spanish (the rest follow Acme's
        English); two items have variants, so the feed serves Camille the French words and the
        library shows Jonas which languages each item still lacks (German on the hiring item)."""
        from content.models import ContentVariant

        for email, code in DEMO_LANGUAGES.items():
            User.objects.filter(email=email).update(language=code)
        for slug, variants in DEMO_VARIANTS.items():
            item = ContentItem.objects.for_org(org).filter(slug=slug).first()
            if item is None:
                continue
            for code, (title, description, suggestions) in variants.items():
                ContentVariant.objects.for_org(org).get_or_create(
                    organization=org,
                    item=item,
                    language=code,
                    defaults={
                        "title": title,
                        "description": description,
                        "suggestions": [{"text": text, "network": ""} for text in suggestions],
                    },
                )

    def _teams_and_digest(self, org):
        """Acme's Teams channel posts to the Teams emulator's demo workflow (Procfile.dev
        `teams`; the beat posts the featured items within two minutes), and the content digest
        goes out now through the configured mail backend (the console in `make run`), each item
        with its one-click Share link."""
        if not settings.DEBUG:  # only `make run` (DEBUG=1) has the emulator; the tests' snapshot stays as it was
            return
        from content.digest import send_digests
        from content.models import TeamsChannel
        from integrations.teams.emulator import demo_webhook_url

        if settings.TEAMS_WEBHOOK_ALLOW_LOOPBACK:
            TeamsChannel.objects.for_org(org).update_or_create(
                organization=org,
                name="Acme › General",
                defaults={
                    "webhook_url": demo_webhook_url(f"http://127.0.0.1:{settings.TEAMS_EMULATOR_PORT}"),
                    "is_active": True,
                    "last_error": "",
                    "created_at": timezone.now() - timedelta(days=1),  # the demo's featured items are "new"
                },
            )
        sent = send_digests()
        self.stdout.write(
            f"Teams: Acme › General posts to the Teams emulator (http://127.0.0.1:{settings.TEAMS_EMULATOR_PORT}/). "
            f"Content digests e-mailed now: {sent} (each item has a one-click Share link)."
        )
