from datetime import timedelta
from smtplib import SMTPException

from django.conf import settings
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

from accounts import throttle
from accounts.forms import (
    DeleteAccountForm,
    EmailForm,
    GuardedPasswordChangeForm,
    ProfileForm,
    SignupForm,
    StartDateForm,
    VerifiedPasswordResetForm,
)
from accounts.mail import confirm_address, read_verification_token, send_verification
from accounts.services import create_account, erase_account, profile_for, save_profile
from accounts.sessions import end_sessions_of
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
    # Every sign-up attempt counts, valid or not: the "username taken" answer is what
    # someone listing accounts is after.
    if request.method == "POST" and not throttle.allow(request, throttle.SIGNUP):
        return throttle.throttled_response(request, throttle.SIGNUP)
    form = SignupForm(request.POST or None)
    user = None
    if request.method == "POST" and form.is_valid():
        try:
            user = create_account(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                time_zone=form.cleaned_data["time_zone"],
                email=form.cleaned_data.get("email", ""),
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
    if user.email and not user.profile.email_verified and form.is_valid():
        _send_verification(request, user)
    messages.success(
        request,
        "Welcome to EaseBack. Before your first plan, please answer a few safety questions.",
    )
    return redirect("screening")


def _send_verification(request: HttpRequest, user) -> None:
    try:
        send_verification(request, user)
    except (OSError, SMTPException):
        messages.warning(
            request,
            f"We could not send a link to {user.email} just now. "
            "Save it again on your account page to get one.",
        )
        return
    messages.info(request, f"We sent a link to {user.email}: open it to confirm it.")


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if not throttle.allow(request, throttle.LOGIN):
            return throttle.throttled_response(request, throttle.LOGIN)
        return super().post(request, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = GuardedPasswordChangeForm
    success_url = reverse_lazy("account")

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps this device signed in, new session key
        end_sessions_of(form.user, keep=self.request.session.session_key)
        messages.success(
            self.request, "Your password has been changed. Other devices have been signed out."
        )
        return response


class PasswordResetView(auth_views.PasswordResetView):
    form_class = VerifiedPasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def dispatch(self, request, *args, **kwargs):
        minutes = {"reset_minutes": settings.PASSWORD_RESET_TIMEOUT // 60}
        self.extra_context, self.extra_email_context = minutes, minutes
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        # Counted whether or not the address is known, so the answer stays the same.
        if not throttle.allow(request, throttle.PASSWORD_RESET):
            return throttle.throttled_response(request, throttle.PASSWORD_RESET)
        return super().post(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever held the old password is signed out everywhere.
        end_sessions_of(form.user)
        return response


@require_http_methods(["GET", "POST"])
def email_verify(request: HttpRequest, token: str) -> HttpResponse:
    """A link from a mail: GET shows a button (mail scanners fetch links), POST confirms."""
    claim = read_verification_token(token)
    if claim is None:
        return render(request, "accounts/email_verify.html", {"state": "invalid"}, status=400)
    if request.method == "POST":
        profile = confirm_address(claim)
        state = "confirmed" if profile is not None else "invalid"
        status = 200 if profile is not None else 400
        return render(request, "accounts/email_verify.html", {"state": state}, status=status)
    return render(request, "accounts/email_verify.html", {"state": "ask", "email": claim["email"]})


@login_required
@require_POST
def email(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("email", []):
            messages.error(request, error)
        return redirect("account")
    user, address = request.user, form.cleaned_data["email"]
    if not address:
        user.email = ""
        user.save(update_fields=["email"])
        messages.success(request, "Your email address is removed.")
        return redirect("account")
    if not throttle.allow(request, throttle.EMAIL_CHECK):
        return throttle.throttled_response(request, throttle.EMAIL_CHECK)
    if address.lower() != user.email.lower():
        user.email = address
        user.save(update_fields=["email"])
    if profile_for(user).email_verified:
        messages.success(request, f"{address} is already confirmed.")
    else:
        _send_verification(request, user)
    return redirect("account")


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/privacy.html")


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
            "email_form": EmailForm(initial={"email": request.user.email}),
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
    form = DeleteAccountForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        erase_account(request.user)
        logout(request)
        messages.success(request, "Your account and all of its data have been deleted.")
        return redirect("landing")
    return render(request, "accounts/delete.html", {"form": form})
