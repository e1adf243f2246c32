from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import DeleteAccountForm, ProfileForm, SignupForm, StartDateForm
from accounts.services import create_account, erase_account, profile_for, save_profile
from stretches.models import Screening
from stretches.screening import RESCREEN_AFTER_DAYS


def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("today")
    return render(request, "accounts/landing.html")


# A second sign-up with the same name and password this soon after the first is the
# same person's double click, answered as the first click was.
DOUBLE_SUBMIT_WINDOW = timedelta(minutes=2)


def _first_click_of(request: HttpRequest, form: SignupForm):
    """The account a double-clicked sign-up already made, or None."""
    username = form.data.get("username", "")
    password = form.data.get("password1", "")
    if not password or password != form.data.get("password2"):
        return None
    user = authenticate(request, username=username, password=password)
    if user is None or user.date_joined < timezone.now() - DOUBLE_SUBMIT_WINDOW:
        return None
    return user


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("today")
    form = SignupForm(request.POST or None)
    user = None
    if request.method == "POST" and form.is_valid():
        try:
            user = create_account(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                time_zone=form.cleaned_data["time_zone"],
            )
        except IntegrityError:  # the name was taken between the check and the save
            user = _first_click_of(request, form)
            if user is None:
                form.add_error("username", "A user with that username already exists.")
    elif request.method == "POST" and list(form.errors) == ["username"]:
        user = _first_click_of(request, form)
    if user is None:
        return render(request, "registration/signup.html", {"form": form})
    login(request, user, backend="accounts.backends.ProfileModelBackend")
    messages.success(
        request,
        "Welcome to EaseBack. Before your first plan, please answer a few safety questions.",
    )
    return redirect("screening")


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("account")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(
            self.request, "Your password has been changed. Other devices have been signed out."
        )
        return response


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    profile = profile_for(request.user)
    form = ProfileForm(request.POST or None, instance=profile, today=profile.local_today())
    if request.method == "POST":
        if form.is_valid():
            save_profile(form.save(commit=False), list(form.Meta.fields))
            messages.success(request, "Your settings are saved.")
            return redirect("account")
        messages.error(request, "Please correct the marked fields. Nothing was saved.")
    screenings = Screening.objects.filter(user=request.user).select_related("clearance")[:50]
    return render(
        request,
        "accounts/account.html",
        {
            "form": form,
            "profile": profile,
            "screenings": screenings,
            "rescreen_days": RESCREEN_AFTER_DAYS,
        },
    )


@login_required
@require_POST
def programme_start(request: HttpRequest) -> HttpResponse:
    profile = profile_for(request.user)
    form = StartDateForm(request.POST, today=profile.local_today())
    if form.is_valid():
        profile.programme_start = form.cleaned_data["programme_start"]
        save_profile(profile, ["programme_start"])
        messages.success(request, "Your programme start date is saved.")
        return redirect("today")
    for error in form.errors.get("programme_start", []):
        messages.error(request, error)
    return redirect("today")


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        erase_account(request.user)
        logout(request)
        messages.success(request, "Your account and all of its data have been deleted.")
        return redirect("landing")
    return render(request, "accounts/delete.html", {"form": form})
