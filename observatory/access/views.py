"""Pages of the access app: sign in/out, the dashboard, API tokens, the audit trail."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from observatory.access import policy, queries, services
from observatory.access.forms import ThrottledLoginForm, TokenForm
from observatory.access.models import ApiToken, User
from observatory.access.roles import VERBS
from observatory.jobs.queries import jobs_of


class LoginView(auth_views.LoginView):
    template_name = "access/login.html"
    authentication_form = ThrottledLoginForm
    redirect_authenticated_user = True


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    assignments = list(queries.assignments_of(user))
    verbs = sorted({verb for assignment in assignments for verb in assignment.role.verbs})
    return render(
        request,
        "access/dashboard.html",
        {
            "assignments": assignments,
            "verbs": [(verb, VERBS[verb]) for verb in verbs],
            "recent_events": queries.audit_events(user)[:10] if policy.allows(user, "audit.view") else [],
            "jobs": jobs_of(user)[:5],
        },
    )


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = TokenForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        issued = services.issue_api_token(
            user, user, form.cleaned_data["name"], valid_days=form.cleaned_data["valid_days"]
        )
        new_secret = issued.secret
        form = TokenForm()
    return render(
        request,
        "access/tokens.html",
        {
            "form": form,
            "tokens": ApiToken.objects.filter(user=user).order_by("-created_at"),
            "new_secret": new_secret,
        },
    )


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    user = _user(request)
    token = get_object_or_404(ApiToken, pk=token_id, user=user)
    services.revoke_api_token(user, token)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("tokens")


@login_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not policy.allows(user, "audit.view"):
        raise HttpForbidden("audit.view")
    events = queries.audit_events(user)
    if action := request.GET.get("action"):
        events = events.filter(action__startswith=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "access/audit.html", {"page": page, "action": action or ""})
