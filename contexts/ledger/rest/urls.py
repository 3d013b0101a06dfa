"""Routes of `/internal/ledger/` (mounted by config.urls_api)."""

from django.urls import path

from . import views

urlpatterns = [
    path("accounts", views.AccountListView.as_view(), name="ledger-accounts"),
    path("accounts/<str:account_id>", views.AccountDetailView.as_view(), name="ledger-account"),
    path("accounts/<str:account_id>/balance", views.AccountBalanceView.as_view(), name="ledger-account-balance"),
    path("accounts/<str:account_id>/postings", views.AccountPostingsView.as_view(), name="ledger-account-postings"),
    path("accounts/<str:account_id>/statement", views.AccountStatementView.as_view(), name="ledger-account-statement"),
    path("accounts/<str:account_id>/freeze", views.AccountFreezeView.as_view(), name="ledger-account-freeze"),
    path("accounts/<str:account_id>/unfreeze", views.AccountUnfreezeView.as_view(), name="ledger-account-unfreeze"),
    path("entries", views.EntryCreateView.as_view(), name="ledger-entries"),
    path("entries/<str:entry_id>", views.EntryDetailView.as_view(), name="ledger-entry"),
    path("entries/<str:entry_id>/reversals", views.EntryReversalView.as_view(), name="ledger-entry-reversals"),
    path("transfers", views.TransferView.as_view(), name="ledger-transfers"),
    path("holds", views.HoldCreateView.as_view(), name="ledger-holds"),
    path("holds/<str:hold_id>", views.HoldDetailView.as_view(), name="ledger-hold"),
    path("holds/<str:hold_id>/capture", views.HoldCaptureView.as_view(), name="ledger-hold-capture"),
    path("holds/<str:hold_id>/release", views.HoldReleaseView.as_view(), name="ledger-hold-release"),
    path("trial-balance", views.TrialBalanceView.as_view(), name="ledger-trial-balance"),
]
