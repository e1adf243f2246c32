from django.urls import path

from tracking import progress_views

urlpatterns = [
    path("progress/", progress_views.progress, name="progress"),
    path("progress/report/", progress_views.report, name="progress-report"),
    path("progress/export.csv", progress_views.export_csv, name="export-csv"),
    path("progress/export.json", progress_views.export_json, name="export-json"),
]
