"""Seams shared by every app's pages: how a page answers a choice the request made that it cannot honour."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.http import Http404

from config.security import ChoiceRefused
from planning.workflow import NotInScope


@contextmanager
def request_choices() -> Iterator[None]:
    """Plan, region and year read from a page's URL: out of scope → 404 (as if it did not exist), a bad value → 400
    with the selectors' Chinese message (the API answers the same exceptions the same way, config.api)."""
    try:
        yield
    except NotInScope:
        raise Http404 from None
    except ValidationError as exc:
        raise ChoiceRefused("；".join(exc.messages)) from None
