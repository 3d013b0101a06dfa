from django.urls import path

from .views import kyc_callback

urlpatterns = [path("<str:provider>", kyc_callback, name="identity-kyc-callback")]
