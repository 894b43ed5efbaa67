"""A finished case to rate, made directly (no cases.services): ratings only need the row.

Stable names: ConcludedCaseFactory, RatingFactory.
"""

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from yiwang.cases.models import Case
from yiwang.catalog.tests.factories import ServiceListingFactory
from yiwang.identity.tests.factories import CitizenFactory
from yiwang.ratings.models import Rating


class ConcludedCaseFactory(DjangoModelFactory):
    class Meta:
        model = Case

    listing = factory.SubFactory(ServiceListingFactory)
    department = factory.LazyAttribute(lambda o: o.listing.department)
    applicant = factory.SubFactory(CitizenFactory)
    applicant_kind = Case.ApplicantKind.PERSON
    applicant_name = factory.LazyAttribute(lambda o: o.applicant.real_name)
    number = factory.Sequence(lambda n: f"TEST{n:08d}")
    status = Case.Status.CONCLUDED
    result = Case.Result.GRANTED
    submitted_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=3))
    concluded_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))


class RatingFactory(DjangoModelFactory):
    class Meta:
        model = Rating

    case = factory.SubFactory(ConcludedCaseFactory)
    rater = factory.LazyAttribute(lambda o: o.case.applicant)
    department = factory.LazyAttribute(lambda o: o.case.department)
    level = Rating.Level.SATISFIED
    channel = Rating.Channel.PC
