from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import DeleteAccountForm, ProfileForm, SignupForm, StartDateForm
from accounts.services import create_account, erase_account, profile_for
from stretches.models import Screening


def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("today")
    return render(request, "accounts/landing.html")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("today")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = create_account(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"],
            time_zone=form.cleaned_data["time_zone"],
        )
        login(request, user, backend="accounts.backends.ProfileModelBackend")
        messages.success(
            request,
            "Welcome to EaseBack. Before your first plan, please answer a few safety questions.",
        )
        return redirect("screening")
    return render(request, "registration/signup.html", {"form": form})


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
            form.save()
            messages.success(request, "Your settings are saved.")
            return redirect("account")
        messages.error(request, "Please correct the marked fields. Nothing was saved.")
    screenings = Screening.objects.filter(user=request.user).select_related("clearance")[:50]
    return render(
        request,
        "accounts/account.html",
        {"form": form, "profile": profile, "screenings": screenings},
    )


@login_required
@require_POST
def programme_start(request: HttpRequest) -> HttpResponse:
    profile = profile_for(request.user)
    form = StartDateForm(request.POST, today=profile.local_today())
    if form.is_valid():
        profile.programme_start = form.cleaned_data["programme_start"]
        profile.save(update_fields=["programme_start"])
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
